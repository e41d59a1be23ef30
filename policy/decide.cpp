// Step 2 of the decision: actions from the matched rule and the keystore facts.
#include "policy/decide.h"

#include <algorithm>

namespace policy {
namespace {

// Sets the verdict from the first failure only; later ones are still explained.
void fail(Decision& d, Failure f, const std::string& reason) {
  d.reasons.push_back(reason + " -> on_" + std::string(name(f)));
  if (d.failure) {
    return;
  }
  d.failure = f;
  d.vars.reason = reason;
  d.verdict = d.verdict_for(f, reason);
  d.reasons.push_back("verdict: " + d.verdict.to_string());
}

CertStatus effective(CertStatus s, const Config& c) {
  return (s == CertStatus::kRevocationUnknown && !c.trust.check_revocation) ? CertStatus::kUsable
                                                                            : s;
}

void decide_encryption(const Config& c, const Rule& rule, const Envelope& env, const Facts& facts,
                       Decision& d, bool& all_modern) {
  std::vector<std::string> unavailable;
  std::vector<std::string> unknown;
  for (const auto& rcpt : env.recipients) {
    const auto it = std::find_if(facts.recipients.begin(), facts.recipients.end(),
                                 [&](const RecipientFact& f) { return f.address == rcpt; });
    const CertStatus s =
        it == facts.recipients.end() ? CertStatus::kNone : effective(it->status, c);
    all_modern = all_modern && it != facts.recipients.end() && it->modern_capable;
    if (s == CertStatus::kUnavailable) {
      unavailable.push_back(rcpt);
    } else if (s != CertStatus::kUsable) {
      d.recipients_without_cert.push_back(rcpt);
      d.reasons.push_back("recipient <" + rcpt + ">: " + std::string(name(s)));
      if (s == CertStatus::kRevocationUnknown) {
        unknown.push_back(rcpt);
      }
    }
  }
  d.vars.recipients = d.recipients_without_cert;
  if (!unavailable.empty()) {
    fail(d, Failure::kKeystoreUnavailable,
         "keystore unavailable looking up certificates for " + join(unavailable));
    return;
  }
  if (d.recipients_without_cert.empty()) {
    d.encrypt = true;
    d.reasons.push_back("encrypt: every recipient has a usable certificate");
    return;
  }
  const std::string lacking = join(d.recipients_without_cert);
  if (rule.encrypt == Requirement::kIfPossible) {
    d.reasons.push_back("encrypt = if-possible: not every recipient has a usable certificate (" +
                        lacking + "), so the message is not encrypted (sign only)");
    return;
  }
  if (!unknown.empty()) {
    d.vars.recipients = unknown;
    fail(d, Failure::kRevocationUnknown,
         "encrypt = required: revocation status unknown for " + join(unknown));
    return;
  }
  fail(d, Failure::kNoRecipientCert, "encrypt = required: no usable certificate for " + lacking);
}

void decide_signing(const Config& c, const Rule& rule, const Facts& facts, Decision& d) {
  const CertStatus s = effective(facts.signer.status, c);
  const std::string detail = facts.signer.detail.empty() ? "" : " (" + facts.signer.detail + ")";
  if (s == CertStatus::kUsable) {
    d.sign = true;
    d.reasons.push_back("sign: signing certificate found" + detail);
    return;
  }
  if (s == CertStatus::kUnavailable) {
    fail(d, Failure::kKeystoreUnavailable,
         "keystore unavailable looking up the signing certificate");
    return;
  }
  const std::string what =
      "signing certificate for <" + d.vars.sender + ">: " + std::string(name(s)) + detail;
  if (rule.sign == Requirement::kIfPossible) {
    d.reasons.push_back(what + "; sign = if-possible, so the message is not signed");
    return;
  }
  switch (s) {
    case CertStatus::kRevoked:
      fail(d, Failure::kRevoked, "sign = required: " + what);
      break;
    case CertStatus::kRevocationUnknown:
      fail(d, Failure::kRevocationUnknown, "sign = required: " + what);
      break;
    default:
      fail(d, Failure::kNoSigningCert, "sign = required: " + what);
      break;
  }
}

void decide_outbound(const Config& c, const Classification& cls, const Envelope& env,
                     const Facts& facts, Decision& d) {
  const Rule& rule = *cls.rule;
  bool all_modern = !env.recipients.empty();
  if (!cls.wants_recipients) {
    d.reasons.push_back(c.mode.encrypt ? "encrypt = never" : "encrypt: not in [milter] mode");
    all_modern = false;
  } else {
    decide_encryption(c, rule, env, facts, d, all_modern);
  }
  if (!cls.wants_signer) {
    d.reasons.push_back(c.mode.sign ? "sign = never" : "sign: not in [milter] mode");
  } else {
    d.signer_preference = rule.signer;
    decide_signing(c, rule, facts, d);
  }
  d.algorithms = algorithms_for(rule.profile, all_modern);
  if (d.failure) {  // nothing is signed or encrypted on a failure verdict
    d.sign = d.verdict.action == Action::kAccept && d.sign;
    d.encrypt = d.verdict.action == Action::kAccept && d.encrypt;
  }
  if (d.sign || d.encrypt) {
    d.reasons.push_back("profile " + std::string(name(rule.profile)) + ": " +
                        std::string(name(d.algorithms.cipher)) + ", signature " +
                        std::string(name(d.algorithms.signature_padding)) + ", key transport " +
                        std::string(name(d.algorithms.key_transport)) + ", " +
                        std::string(name(d.algorithms.digest)) +
                        (rule.profile == Profile::kPerRecipient
                             ? (all_modern ? " (every recipient announced modern algorithms)"
                                           : " (not every recipient announced modern algorithms)")
                             : ""));
  }
}

}  // namespace

std::string_view name(CertStatus s) noexcept {
  switch (s) {
    case CertStatus::kUsable:
      return "usable";
    case CertStatus::kNone:
      return "no certificate";
    case CertStatus::kExpired:
      return "certificate expired";
    case CertStatus::kRevoked:
      return "certificate revoked";
    case CertStatus::kRevocationUnknown:
      return "revocation status unknown";
    case CertStatus::kUnavailable:
      return "keystore unavailable";
  }
  return "?";
}

Verdict Decision::verdict_for(Failure f, std::string_view reason) const {
  const FailureAction& fa = on[static_cast<std::size_t>(f)];
  ReplyVars v = vars;
  v.reason = std::string(reason);
  Verdict out;
  out.action = fa.action;
  out.rcode = fa.rcode;
  out.xcode = fa.xcode;
  out.text = render_template(fa.text_template, v);
  return out;
}

Verdict Decision::on_error(Errc e, std::string_view reason, bool decrypting) const {
  switch (e) {
    case Errc::kOk:
      return Verdict{};
    case Errc::kNoKey:
      if (decrypting) {
        return Verdict{};  // encrypted for someone else: deliver as it is
      }
      return verdict_for(Failure::kNoSigningCert, reason);
    case Errc::kBadSignature:
    case Errc::kUntrustedChain:
    case Errc::kExpired:
    case Errc::kSenderMismatch:
      return verdict_for(Failure::kBadSignature, reason);
    case Errc::kRevoked:
      return verdict_for(Failure::kRevoked, reason);
    case Errc::kRevocationUnknown:
      return verdict_for(Failure::kRevocationUnknown, reason);
    case Errc::kUnavailable:
      return verdict_for(Failure::kKeystoreUnavailable, reason);
    case Errc::kMalformedInput:
    case Errc::kUnsupportedAlgorithm:
    case Errc::kCrypto:
      if (decrypting) {
        return verdict_for(Failure::kDecryptError, reason);
      }
      return verdict_for(Failure::kInternalError, reason);
    default:
      return verdict_for(Failure::kInternalError, reason);
  }
}

Decision decide(const Config& c, const Classification& cls, const Envelope& env,
                const Facts& facts) {
  Decision d;
  d.direction = cls.direction;
  d.rule = cls.rule->name;
  d.on = cls.rule->on;
  d.reasons = cls.reasons;
  d.new_subject = cls.new_subject;
  d.vars.sender = env.sender;
  d.vars.rule = d.rule;
  d.vars.recipients = env.recipients;
  if (cls.department_unavailable) {
    fail(d, Failure::kKeystoreUnavailable,
         "keystore unavailable looking up the sender's department");
    return d;
  }
  if (d.direction == Direction::kInbound) {
    d.verify = c.mode.verify && cls.rule->verify;
    d.decrypt = c.mode.decrypt && cls.rule->decrypt;
    d.reasons.push_back(std::string("inbound: verify ") + (d.verify ? "on" : "off") + ", decrypt " +
                        (d.decrypt ? "on" : "off"));
    return d;
  }
  decide_outbound(c, cls, env, facts, d);
  if (!d.failure) {
    d.reasons.push_back(std::string("verdict: accept, ") + (d.sign && d.encrypt
                                                                ? "sign then encrypt"
                                                            : d.sign    ? "sign only"
                                                            : d.encrypt ? "encrypt only"
                                                                        : "deliver unchanged"));
  }
  return d;
}

Decision decide(const Config& c, const Envelope& env, const DepartmentFact& department,
                const Facts& facts) {
  return decide(c, classify(c, env, department), env, facts);
}

}  // namespace policy
