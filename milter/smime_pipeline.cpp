#include "milter/smime_pipeline.h"

#include <algorithm>

#include "milter/auth_results.h"
#include "milter/department.h"
#include "milter/harvest.h"
#include "milter/header_text.h"
#include "milter/lenient_revocation.h"
#include "milter/rewrite.h"
#include "policy/decide.h"
#include "smime/decrypt.h"
#include "smime/detect.h"
#include "smime/encrypt.h"
#include "smime/sign.h"
#include "smime/verify.h"
#include "smime/x509.h"

namespace milter {
namespace {

using policy::CertStatus;

struct Context {
  const Message& msg;
  const policy::Config& cfg;
  const Settings& settings;
  keystore::Keystore& ks;
  keystore::Keystore* harvester;  // writable handle for harvesting; null = none
  policy::Envelope env;
  std::string text;  // the message as it stands (serialised, then transformed)
  Outcome out;
  std::vector<std::string> notes;  // for the summary line
};

std::string trim(std::string_view v) {
  while (!v.empty() &&
         (v.front() == ' ' || v.front() == '\t' || v.front() == '\n' || v.front() == '\r')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
    v.remove_suffix(1);
  }
  return std::string(v);
}

std::string unfold(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  return trim(out);
}

policy::Envelope envelope_of(const Message& m) {
  policy::Envelope e;
  e.sender = m.envelope.sender;
  e.recipients = m.envelope.recipients;
  e.auth_user = m.envelope.auth_authen;
  e.client_ip = m.envelope.client_addr;
  e.daemon_name = m.envelope.daemon_name;
  for (const auto& h : m.headers) {
    // Rules see what a reader sees: unfolded and RFC 2047 decoded (header_text.h).
    e.headers.push_back(policy::Header{h.name, decode_header_text(h.value)});
  }
  return e;
}

// The bare address in a From: value ("Name <a@b>" -> "a@b").
std::string from_address(const Message& m) {
  const std::string v = unfold(m.first_header("From"));
  const auto lt = v.rfind('<');
  const auto gt = v.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return v.substr(lt + 1, gt - lt - 1);
  }
  return v;
}

Verdict verdict_of(policy::Action a) {
  switch (a) {
    case policy::Action::kAccept:
      return Verdict::kContinue;
    case policy::Action::kReject:
      return Verdict::kReject;
    case policy::Action::kTempfail:
      return Verdict::kTempfail;
    case policy::Action::kQuarantine:
      return Verdict::kQuarantine;
    case policy::Action::kDiscard:
      return Verdict::kDiscard;
  }
  return Verdict::kTempfail;
}

// Applies a policy verdict; true when processing must stop (not accept).
bool apply(Context& c, const policy::Verdict& v, std::string_view why) {
  if (v.action == policy::Action::kAccept) {
    return false;
  }
  c.out.verdict = verdict_of(v.action);
  c.out.reply = Reply{v.rcode, v.xcode, v.text};
  c.out.quarantine_reason = std::string("smime-milter: ") + std::string(why);
  // Drop our changes, but never the removal of forged Authentication-Results (a
  // quarantined message is still delivered to the hold queue).
  std::erase_if(c.out.header_edits, [](const HeaderEdit& e) {
    return !(e.kind == HeaderEdit::Kind::kDelete && iequals(e.name, kAuthResultsHeader));
  });
  c.out.new_body.reset();
  c.out.new_body_file.reset();
  c.notes.push_back("failure=" + std::string(why));
  return true;
}

std::vector<keystore::CertType> preference(const std::vector<policy::CertType>& p) {
  std::vector<keystore::CertType> out;
  for (const auto t : p) {
    out.push_back(t == policy::CertType::kRole     ? keystore::CertType::kRole
                  : t == policy::CertType::kSystem ? keystore::CertType::kSystem
                                                   : keystore::CertType::kIndividual);
  }
  return out;
}

// Why the keystore has no usable signing certificate: revoked / expired / none.
CertStatus missing_signer_status(keystore::Keystore& ks, const std::string& sender) {
  auto recs = ks.find_certs(sender);
  if (!recs) {
    return CertStatus::kUnavailable;
  }
  CertStatus s = CertStatus::kNone;
  for (const auto& r : *recs) {
    if (r.has_key && !r.revoked_reason.empty()) {
      return CertStatus::kRevoked;
    }
    if (r.has_key && r.not_after < std::time(nullptr)) {
      s = CertStatus::kExpired;
    }
  }
  return s;
}

audit::CertUse cert_use(std::string role, const X509& cert) {
  const smime::CertInfo i = smime::inspect(cert);
  return audit::CertUse{std::move(role), i.fingerprint_sha256, i.serial_hex,
                        i.emails.empty() ? i.subject : i.emails.front()};
}

void add_algorithm(audit::DecisionRecord& r, std::string a) {
  if (!a.empty() && std::find(r.algorithms.begin(), r.algorithms.end(), a) == r.algorithms.end()) {
    r.algorithms.push_back(std::move(a));
  }
}

SmimeAuthResult ar_of(const smime::SignerReport& s) {
  SmimeAuthResult r;
  r.result = std::string(smime::auth_result_name(s.result));
  r.reason = s.reason;
  r.identifier = s.emails.empty() ? std::string() : s.emails.front();
  r.serial = s.serial_hex;
  r.issuer = s.issuer;
  return r;
}

void record_verification(audit::DecisionRecord& r, const smime::VerifyReport& rep) {
  r.actions.emplace_back("verify");
  r.verification = std::string(smime::auth_result_name(rep.result));
  if (!rep.reason.empty()) {
    r.reason = rep.reason;
  }
  for (const auto& s : rep.signers) {
    r.certificates.push_back(audit::CertUse{"peer-signer", s.fingerprint, s.serial_hex,
                                            s.emails.empty() ? s.subject : s.emails.front()});
    add_algorithm(r, s.digest_alg);
    add_algorithm(r, s.signature_alg);
  }
}

// Verifies `c.text`. Inbound: adds Authentication-Results and harvests passing signers'
// certificates (trust.harvest_certificates); outbound (the sender's client signed) only
// logs. trust.check_revocation = false: see lenient_revocation.h.
void verify_and_report(Context& c, const policy::Decision& d, bool inbound) {
  smime::VerifyOptions vo;
  vo.from_address = c.cfg.trust.require_sender_match ? from_address(c.msg) : std::string();
  vo.limits.max_message_bytes = c.settings.max_message_bytes;
  LenientRevocation lenient(c.ks);
  smime::RevocationChecker& revocation =
      c.cfg.trust.check_revocation ? static_cast<smime::RevocationChecker&>(c.ks) : lenient;
  auto rep = smime::verify_message(c.text, c.ks, revocation, vo);
  if (lenient.relaxed() > 0) {
    c.notes.push_back("revocation-unknown-ignored=" + std::to_string(lenient.relaxed()));
  }
  std::vector<SmimeAuthResult> results;
  if (!rep) {
    SmimeAuthResult r;
    r.result =
        std::string(smime::auth_result_name(smime::auth_result_for_error(rep.error().code())));
    r.reason = std::string(policy::errc_name(rep.error().code()));
    results.push_back(r);
    c.out.audit.actions.emplace_back("verify");
    c.out.audit.verification = r.result;
    c.out.audit.reason = r.reason;
    c.notes.push_back("verify=" + r.result + " (" + rep.error().message() + ")");
    if (rep.error().code() == policy::Errc::kUnavailable) {
      apply(c, d.on_error(policy::Errc::kUnavailable, rep.error().detail()),
            "keystore unavailable");
      return;
    }
  } else {
    for (const auto& s : rep->signers) {
      results.push_back(ar_of(s));
      c.notes.push_back("signer=" + s.fingerprint.substr(0, 16) + ":" +
                        std::string(smime::auth_result_name(s.result)) +
                        (s.reason.empty() ? "" : "(" + s.reason + ")"));
    }
    if (rep->signers.empty()) {
      c.notes.push_back("verify=none");
    }
    record_verification(c.out.audit, *rep);
    if (inbound && c.harvester != nullptr && c.cfg.trust.harvest_certificates) {
      for (auto& n : harvest_signers(*c.harvester, *rep, c.msg.envelope.queue_id)) {
        c.notes.push_back(std::move(n));
      }
    }
  }
  if (inbound && !results.empty()) {
    c.out.header_edits.push_back(HeaderEdit{HeaderEdit::Kind::kAdd, std::string(kAuthResultsHeader),
                                            0,
                                            format_auth_results(c.settings.authserv_id, results)});
  }
  if (rep && rep->result == smime::AuthResult::kFail) {
    apply(c, d.verdict_for(policy::Failure::kBadSignature, rep->reason),
          "bad signature: " + rep->reason);
  }
}

void inbound(Context& c, const policy::Decision& d) {
  c.out.header_edits = remove_forged_auth_results(c.msg.headers, c.settings.authserv_id);
  const smime::SmimeKind kind = smime::classify(c.text);
  c.notes.push_back("smime=" + std::string(smime::smime_kind_name(kind)));
  if (d.decrypt &&
      (kind == smime::SmimeKind::kEnveloped || kind == smime::SmimeKind::kAuthEnveloped)) {
    auto dec = smime::decrypt_message(c.text, c.ks);
    if (dec) {
      c.notes.push_back("decrypted-for=" + dec->recipient_fingerprint.substr(0, 16) +
                        " cipher=" + dec->cipher);
      c.out.audit.actions.emplace_back("decrypt");
      c.out.audit.certificates.push_back(
          audit::CertUse{"decryption", dec->recipient_fingerprint, "", ""});
      add_algorithm(c.out.audit, dec->cipher);
      c.text = dec->message;
      rewrite_to(c.msg.headers, c.text, c.out);
    } else if (dec.error().code() == policy::Errc::kNoKey) {
      c.notes.push_back("decrypt=not-for-us");
    } else if (apply(c, d.on_error(dec.error().code(), dec.error().detail(), true),
                     "decrypt: " + dec.error().message())) {
      return;
    }
  }
  if (d.verify && smime::classify(c.text) != smime::SmimeKind::kNone) {
    verify_and_report(c, d, true);
  }
}

// Facts for decide(): the signing credential (kept for signing) and recipient certs.
policy::Facts gather_facts(Context& c, const policy::Classification& cls,
                           std::optional<smime::Credential>& cred,
                           std::vector<smime::ossl::Cert>& certs) {
  policy::Facts f;
  if (cls.wants_signer) {
    if (!auth_owns_sender(c.env.auth_user, c.env.sender)) {
      f.signer.status = CertStatus::kNone;
      f.signer.detail = "SMTP AUTH user " + c.env.auth_user + " does not own " + c.env.sender;
      c.notes.push_back("auth-mismatch");
    } else {
      const auto pref = preference(cls.rule->signer);
      auto l = c.ks.signing_credential(c.env.sender, pref);
      if (!l) {
        f.signer.status = CertStatus::kUnavailable;
      } else if (*l) {
        f.signer.status = CertStatus::kUsable;
        cred = std::move(**l);
      } else {
        f.signer.status = missing_signer_status(c.ks, c.env.sender);
      }
    }
  }
  if (cls.wants_recipients) {
    for (const auto& r : c.env.recipients) {
      policy::RecipientFact rf;
      rf.address = r;
      auto rc = c.ks.encryption_certs(r);
      if (!rc) {
        rf.status = CertStatus::kUnavailable;
      } else if (!rc->empty()) {
        rf.status = CertStatus::kUsable;
        rf.modern_capable = rc->front().caps.aes_gcm.value_or(false);
        c.notes.push_back("rcpt-cert=" + rc->front().fingerprint.substr(0, 16));
        c.out.audit.certificates.push_back(cert_use("recipient", *rc->front().cert));
        certs.push_back(std::move(rc->front().cert));
      }
      f.recipients.push_back(rf);
    }
  }
  return f;
}

smime::SignOptions sign_options(const policy::Algorithms& a) {
  smime::SignOptions o;
  o.rsa_padding = a.signature_padding == policy::SignaturePadding::kPss
                      ? smime::RsaPadding::kPss
                      : smime::RsaPadding::kPkcs1v15;
  return o;
}

smime::EncryptOptions encrypt_options(const policy::Algorithms& a) {
  smime::EncryptOptions o;
  o.cipher = a.cipher == policy::Cipher::kAes256Gcm ? smime::Cipher::kAes256Gcm
                                                    : smime::Cipher::kAes256Cbc;
  o.rsa = a.key_transport == policy::KeyTransport::kRsaOaep ? smime::KeyTransport::kRsaOaep
                                                            : smime::KeyTransport::kRsaPkcs1v15;
  return o;
}

// The log notes and audit facts of a signature made for `signer`.
void note_signed(Context& c, const policy::Decision& d, const smime::Credential& signer) {
  c.notes.push_back("signer=" + smime::fingerprint_sha256(*signer.cert).substr(0, 16));
  c.out.audit.actions.emplace_back("sign");
  c.out.audit.certificates.push_back(cert_use("signer", *signer.cert));
  const auto so = sign_options(d.algorithms);
  add_algorithm(c.out.audit, so.digest == smime::Digest::kSha512   ? "sha512"
                             : so.digest == smime::Digest::kSha384 ? "sha384"
                                                                   : "sha256");
  add_algorithm(c.out.audit, so.rsa_padding == smime::RsaPadding::kPss ? "rsa-pss" : "rsa-pkcs1");
}

// The same for an encryption to `recipients` certificates.
void note_encrypted(Context& c, const policy::Decision& d, std::size_t recipients) {
  const std::string cipher(smime::cipher_name(encrypt_options(d.algorithms).cipher));
  c.out.audit.actions.emplace_back("encrypt");
  add_algorithm(c.out.audit, cipher);
  add_algorithm(c.out.audit, d.algorithms.key_transport == policy::KeyTransport::kRsaOaep
                                 ? "rsa-oaep"
                                 : "rsa-pkcs1");
  c.notes.push_back("encrypted-to=" + std::to_string(recipients) + " cipher=" + cipher);
}

void change_subject(Context& c, const policy::Decision& d) {
  if (d.new_subject) {  // strip_subject_tag: the tag only told us to protect the message
    c.out.header_edits.push_back(
        HeaderEdit{HeaderEdit::Kind::kChange, "Subject", 1, encode_header_text(*d.new_subject)});
  }
}

void outbound(Context& c, const policy::Classification& cls, const policy::Decision& first_pass,
              std::optional<smime::Credential>& cred, std::vector<smime::ossl::Cert>& certs) {
  const policy::Decision& d = first_pass;
  if (apply(c, d.verdict, d.failure ? std::string(policy::name(*d.failure)) : "policy")) {
    return;
  }
  (void)cls;
  const smime::SmimeKind kind = smime::classify(c.text);
  bool changed = false;
  if (kind != smime::SmimeKind::kNone) {
    c.notes.push_back("client-protected=" + std::string(smime::smime_kind_name(kind)));
    if (kind == smime::SmimeKind::kSigned || kind == smime::SmimeKind::kOpaqueSigned) {
      Outcome keep = c.out;
      verify_and_report(c, d, false);  // logged only; the recipient's side verifies again
      keep.audit = std::move(c.out.audit);
      c.out = std::move(keep);
    } else {
      return;  // already encrypted by the client: nothing to add
    }
  } else if (d.sign && cred) {
    auto s = smime::sign_message(c.text, *cred, sign_options(d.algorithms));
    if (!s) {
      apply(c, d.on_error(s.error().code(), s.error().detail()), "sign: " + s.error().message());
      return;
    }
    c.text = std::move(*s);
    changed = true;
    note_signed(c, d, *cred);
  }
  if (d.encrypt && !certs.empty()) {
    auto e = smime::encrypt_message(c.text, certs, encrypt_options(d.algorithms));
    if (!e) {
      apply(c, d.on_error(e.error().code(), e.error().detail()), "encrypt: " + e.error().message());
      return;
    }
    c.text = std::move(*e);
    changed = true;
    note_encrypted(c, d, certs.size());
  }
  if (changed) {
    rewrite_to(c.msg.headers, c.text, c.out);
  }
  change_subject(c, d);
}

// Whether outbound_file() can take the message: its body is spooled and its headers
// show a plain message (a client-protected one goes through outbound()).
bool takes_file_path(const Context& c) {
  return c.msg.body != nullptr && c.msg.body->spooled() &&
         smime::classify(c.msg.serialize_headers() + "\r\n") == smime::SmimeKind::kNone;
}

// outbound() for a plain message whose body is spooled to a file: the same decision,
// signed and encrypted from the spool file into new files (smime sign_file /
// encrypt_file), so memory does not grow with the message; the new body reaches the
// MTA from its file. Errors are handled as outbound() handles them.
void outbound_file(Context& c, const policy::Decision& d, std::optional<smime::Credential>& cred,
                   std::vector<smime::ossl::Cert>& certs) {
  if (apply(c, d.verdict, d.failure ? std::string(policy::name(*d.failure)) : "policy")) {
    return;
  }
  const std::string headers = c.msg.serialize_headers();
  std::optional<smime::FileMessage> current;
  if (d.sign && cred) {
    auto s = smime::sign_file(headers, c.msg.body->fd(), *cred, sign_options(d.algorithms),
                              c.settings.spool_dir);
    if (!s) {
      apply(c, d.on_error(s.error().code(), s.error().detail()), "sign: " + s.error().message());
      return;
    }
    current = std::move(*s);
    note_signed(c, d, *cred);
  }
  if (d.encrypt && !certs.empty()) {
    auto e = current ? smime::encrypt_file(current->headers, current->body.fd(), certs,
                                           encrypt_options(d.algorithms), c.settings.spool_dir)
                     : smime::encrypt_file(headers, c.msg.body->fd(), certs,
                                           encrypt_options(d.algorithms), c.settings.spool_dir);
    if (!e) {
      apply(c, d.on_error(e.error().code(), e.error().detail()), "encrypt: " + e.error().message());
      return;
    }
    current = std::move(*e);
    note_encrypted(c, d, certs.size());
  }
  if (current) {
    rewrite_to(c.msg.headers, current->headers + "\r\n", c.out);
    c.out.new_body.reset();
    c.out.new_body_file = std::make_shared<const smime::TempFile>(std::move(current->body));
    c.notes.push_back("from-spool");
  }
  change_subject(c, d);
}

std::string summary(const Context& c, const policy::Decision& d) {
  std::string s = "direction=" + std::string(policy::name(d.direction)) + " rule=" + d.rule;
  s += std::string(" sign=") + (d.sign ? "yes" : "no") + " encrypt=" + (d.encrypt ? "yes" : "no");
  for (const auto& n : c.notes) {
    s += " " + n;
  }
  return s;
}

// Outbound: the sender's department; inbound: the first recipient's that has one.
policy::DepartmentFact department(Context& c) {
  std::vector<std::string> ignored;
  const auto dir = policy::classify_direction(c.cfg, c.env, ignored);
  return dir == policy::Direction::kOutbound ? department_of(c.ks, c.env.sender)
                                             : department_of_any(c.ks, c.env.recipients);
}

audit::IncidentKind incident_of(const policy::Decision& d, const policy::Facts& facts,
                                const audit::DecisionRecord& r) {
  if (d.direction == policy::Direction::kOutbound && d.failure) {
    if (facts.signer.status == CertStatus::kRevoked) {
      return audit::IncidentKind::kRevokedCertUse;
    }
    if (facts.signer.status == CertStatus::kExpired) {
      return audit::IncidentKind::kExpiredCertUse;
    }
  }
  if (d.failure == policy::Failure::kKeystoreUnavailable ||
      r.reason == policy::errc_name(policy::Errc::kUnavailable)) {
    return audit::IncidentKind::kKeystoreFailure;
  }
  if (d.direction == policy::Direction::kInbound && r.reason == "sender-mismatch") {
    return audit::IncidentKind::kSenderMismatch;
  }
  return audit::IncidentKind::kNone;  // the trail derives bad signatures from verification
}

// The pipeline's part of the audit record (Session adds the envelope and verdict).
void finish_audit(Context& c, const policy::Decision& d, const policy::Facts& facts,
                  const policy::DepartmentFact& dept) {
  audit::DecisionRecord& r = c.out.audit;
  r.direction = std::string(policy::name(d.direction));
  r.rule = d.rule;
  r.department = dept.state == policy::FactState::kKnown ? dept.name : std::string();
  if (r.reason.empty() && d.failure) {
    r.reason = std::string(policy::name(*d.failure));
  }
  r.incident = incident_of(d, facts, r);
  if (r.incident != audit::IncidentKind::kNone) {
    r.detail = facts.signer.detail;
  }
  c.out.why = d.reasons;
  if (dept.state != policy::FactState::kNone) {
    c.out.why.push_back("department " + (dept.state == policy::FactState::kKnown
                                             ? dept.name
                                             : std::string("unavailable")));
  }
  for (const auto& n : c.notes) {
    c.out.why.push_back(n);
  }
}

}  // namespace

bool auth_owns_sender(std::string_view auth_user, std::string_view sender) {
  if (auth_user.empty()) {
    return true;
  }
  if (iequals(auth_user, sender)) {
    return true;
  }
  // Postfix appends the SASL realm (smtpd_sasl_local_domain) to bare logins, so
  // "alice@mx.example.gov" and "alice" both name the local part "alice".
  const auto at = sender.find('@');
  const auto login_local = auth_user.substr(0, auth_user.find('@'));
  return at != std::string_view::npos && !login_local.empty() &&
         iequals(login_local, sender.substr(0, at));
}

Outcome SmimePipeline::process(const Message& message, const Snapshot& snapshot) {
  if (!snapshot.config || !keystore_) {
    return tempfail_outcome("S/MIME gateway not configured, try again later");
  }
  Context c{message,
            *snapshot.config,
            snapshot.settings,
            *keystore_,
            harvester_.get(),
            envelope_of(message),
            {},
            {},
            {}};
  const policy::DepartmentFact dept = department(c);
  const policy::Classification cls = policy::classify(c.cfg, c.env, dept);
  std::optional<smime::Credential> cred;
  std::vector<smime::ossl::Cert> certs;
  const policy::Facts facts = gather_facts(c, cls, cred, certs);
  const policy::Decision d = policy::decide(c.cfg, cls, c.env, facts);
  if (d.direction == policy::Direction::kOutbound && takes_file_path(c)) {
    outbound_file(c, d, cred, certs);
  } else {
    // The message in memory: small ones, inbound ones, client-protected ones.
    auto text = message.serialize();
    if (!text) {
      return tempfail_outcome("temporary local problem in the S/MIME gateway");
    }
    c.text = std::move(*text);
    if (d.direction == policy::Direction::kInbound) {
      inbound(c, d);
    } else {
      outbound(c, cls, d, cred, certs);
    }
  }
  order_edits(c.out.header_edits);
  c.out.summary = summary(c, d);
  finish_audit(c, d, facts, dept);
  return std::move(c.out);
}

}  // namespace milter
