// smimectl policy commands: explain (what would happen to a message, and why: OpenDKIM's
// LogWhy on demand), check (validate a configuration and print the effective one) and
// reference (the Markdown key reference, docs/configuration.md).
// explain looks the keystore facts up like the milter does; --sender-cert,
// --recipient-cert and --department override them (or stand in when no keystore exists).
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/ks_common.h"
#include "cli/registry.h"
#include "policy/config.h"
#include "policy/config_keys.h"
#include "policy/decide.h"

namespace cli::policy_cmd {
namespace {

using Json = nlohmann::json;
using policy::CertStatus;

struct ExplainOptions {
  std::string from;
  std::vector<std::string> to;
  std::vector<std::string> headers;
  std::string subject;
  std::string client_ip;
  std::string auth;
  std::string daemon_name;
  std::string sender_cert;                  // explicit fact
  std::vector<std::string> recipient_cert;  // ADDR=STATE[,modern]
  std::string department;
  bool json = false;
};

std::optional<CertStatus> parse_status(std::string_view s) {
  if (s == "found" || s == "usable") {
    return CertStatus::kUsable;
  }
  if (s == "none") {
    return CertStatus::kNone;
  }
  if (s == "expired") {
    return CertStatus::kExpired;
  }
  if (s == "revoked") {
    return CertStatus::kRevoked;
  }
  if (s == "revocation-unknown") {
    return CertStatus::kRevocationUnknown;
  }
  if (s == "unavailable") {
    return CertStatus::kUnavailable;
  }
  return std::nullopt;
}

constexpr const char* kStates = "found, none, expired, revoked, revocation-unknown, unavailable";

policy::Result<policy::Envelope> build_envelope(const ExplainOptions& o) {
  policy::Envelope e;
  e.sender = o.from;
  e.recipients = o.to;
  e.auth_user = o.auth;
  e.client_ip = o.client_ip;
  e.daemon_name = o.daemon_name;
  for (const auto& h : o.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return policy::unexpected(policy::Errc::kInvalidArgument,
                                "--header '" + h + "' must be 'Name: value'");
    }
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    e.headers.push_back({h.substr(0, colon), value});
  }
  if (!o.subject.empty()) {
    e.headers.push_back({"Subject", o.subject});
  }
  return e;
}

// Refines "no usable certificate" into expired / revoked for the explanation.
CertStatus why_none(keystore::Keystore& ks, const std::string& address) {
  auto records = ks.find_certs(address);
  if (!records) {
    return CertStatus::kUnavailable;
  }
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  CertStatus s = CertStatus::kNone;
  for (const auto& r : *records) {
    if (!r.revoked_reason.empty()) {
      s = CertStatus::kRevoked;
    } else if (r.not_after < now && s == CertStatus::kNone) {
      s = CertStatus::kExpired;
    }
  }
  return s;
}

struct FactSource {
  std::unique_ptr<keystore::Keystore> ks;
  std::string note;  // why the keystore is not used
};

FactSource open_facts(const Globals& g) {
  FactSource src;
  auto ks = cli::ks::open_keystore(g, cli::ks::KsOptions{}, false);
  if (ks) {
    src.ks = std::move(*ks);
  } else {
    src.note = "keystore not used: " + ks.error().message();
  }
  return src;
}

policy::DepartmentFact lookup_department(FactSource& src, const std::string& sender) {
  if (!src.ks) {
    return {policy::FactState::kUnavailable, ""};
  }
  auto records = src.ks->find_certs(sender);
  if (!records) {
    return {policy::FactState::kUnavailable, ""};
  }
  for (const auto& r : *records) {
    if (!r.department.empty()) {
      return {policy::FactState::kKnown, r.department};
    }
  }
  return {policy::FactState::kNone, ""};
}

// Uses the certificate listing rather than signing_credential(), so explain needs no
// access to the key-encryption secret: a certificate with a stored key counts.
policy::SignerFact lookup_signer(FactSource& src, const std::string& sender,
                                 const std::vector<policy::CertType>& pref) {
  if (!src.ks) {
    return {CertStatus::kUnavailable, src.note};
  }
  auto records = src.ks->find_certs(sender);
  if (!records) {
    return {CertStatus::kUnavailable, records.error().message()};
  }
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto t : pref) {  // in order of preference
    for (const auto& r : *records) {
      const bool type_ok = policy::name(t) == keystore::cert_type_name(r.type);
      if (type_ok && r.has_key && r.fit_sign && r.revoked_reason.empty() && r.not_before <= now &&
          now <= r.not_after) {
        return {CertStatus::kUsable,
                std::string(policy::name(t)) + " certificate " + r.fingerprint};
      }
    }
  }
  return {why_none(*src.ks, sender), ""};
}

policy::RecipientFact lookup_recipient(FactSource& src, const std::string& rcpt) {
  policy::RecipientFact f{rcpt, CertStatus::kUnavailable, false};
  if (!src.ks) {
    return f;
  }
  auto certs = src.ks->encryption_certs(rcpt);
  if (!certs) {
    return f;
  }
  if (certs->empty()) {
    f.status = why_none(*src.ks, rcpt);
    return f;
  }
  f.status = CertStatus::kUsable;
  f.modern_capable = true;
  for (const auto& c : *certs) {
    f.modern_capable = f.modern_capable && c.caps.aes_gcm.value_or(false);
  }
  return f;
}

policy::Status apply_overrides(const ExplainOptions& o, policy::Facts& facts) {
  if (!o.sender_cert.empty()) {
    const auto s = parse_status(o.sender_cert);
    if (!s) {
      return policy::unexpected(policy::Errc::kInvalidArgument,
                                "--sender-cert '" + o.sender_cert + "': use one of " + kStates);
    }
    facts.signer = {*s, "given on the command line"};
  }
  for (const auto& spec : o.recipient_cert) {
    const auto eq = spec.find('=');
    std::string state = eq == std::string::npos ? "" : spec.substr(eq + 1);
    bool modern = false;
    if (const auto comma = state.find(','); comma != std::string::npos) {
      modern = state.substr(comma + 1) == "modern";
      state.resize(comma);
    }
    const auto s = parse_status(state);
    if (eq == std::string::npos || !s) {
      return policy::unexpected(
          policy::Errc::kInvalidArgument,
          "--recipient-cert '" + spec + "': use ADDR=STATE[,modern], STATE one of " + kStates);
    }
    const std::string addr = spec.substr(0, eq);
    std::erase_if(facts.recipients,
                  [&](const policy::RecipientFact& f) { return f.address == addr; });
    facts.recipients.push_back({addr, *s, modern});
  }
  return {};
}

Json to_json(const policy::Decision& d, const policy::Facts& facts) {
  Json preference = Json::array();
  for (const auto t : d.signer_preference) {
    preference.push_back(std::string(policy::name(t)));
  }
  Json rcpts = Json::array();
  for (const auto& r : facts.recipients) {
    rcpts.push_back({{"address", r.address},
                     {"certificate", std::string(policy::name(r.status))},
                     {"modern_capable", r.modern_capable}});
  }
  const auto& a = d.algorithms;
  return Json{
      {"direction", std::string(policy::name(d.direction))},
      {"rule", d.rule},
      {"sign", d.sign},
      {"encrypt", d.encrypt},
      {"verify", d.verify},
      {"decrypt", d.decrypt},
      {"signer_preference", preference},
      {"algorithms",
       {{"profile", std::string(policy::name(a.profile))},
        {"cipher", std::string(policy::name(a.cipher))},
        {"signature", std::string(policy::name(a.signature_padding))},
        {"key_transport", std::string(policy::name(a.key_transport))},
        {"digest", std::string(policy::name(a.digest))}}},
      {"recipients_without_cert", d.recipients_without_cert},
      {"new_subject", d.new_subject ? Json(*d.new_subject) : Json(nullptr)},
      {"failure", d.failure ? Json(std::string(policy::name(*d.failure))) : Json(nullptr)},
      {"verdict",
       {{"action", std::string(policy::name(d.verdict.action))},
        {"rcode", d.verdict.rcode},
        {"xcode", d.verdict.xcode},
        {"text", d.verdict.text}}},
      {"facts",
       {{"sender_certificate", std::string(policy::name(facts.signer.status))},
        {"recipients", rcpts}}},
      {"reasons", d.reasons},
  };
}

int verdict_exit(policy::Action a) {
  switch (a) {
    case policy::Action::kAccept:
      return kExitOk;
    case policy::Action::kReject:
      return kExitReject;
    case policy::Action::kTempfail:
      return kExitTempfail;
    case policy::Action::kDiscard:
      return kExitDiscard;
    case policy::Action::kQuarantine:
      return kExitQuarantine;
  }
  return kExitInternal;
}

int explain(const Globals& g, const ExplainOptions& o) {
  auto cfg = policy::load_config(g.config_path);
  if (!cfg) {
    return cli::ks::fail(cfg.error());
  }
  auto env = build_envelope(o);
  if (!env) {
    return cli::ks::fail(env.error());
  }
  const bool all_given = !o.sender_cert.empty() && o.recipient_cert.size() >= o.to.size() &&
                         (!(*cfg)->uses_department || !o.department.empty());
  FactSource src =
      all_given ? FactSource{nullptr, "keystore not consulted: every fact given"} : open_facts(g);
  const policy::DepartmentFact dept =
      !o.department.empty() ? policy::DepartmentFact{policy::FactState::kKnown, o.department}
                            : lookup_department(src, env->sender);
  const policy::Classification cls = policy::classify(**cfg, *env, dept);
  policy::Facts facts;
  if (cls.wants_signer) {
    facts.signer = lookup_signer(src, env->sender, cls.rule->signer);
  }
  if (cls.wants_recipients) {
    for (const auto& r : env->recipients) {
      facts.recipients.push_back(lookup_recipient(src, r));
    }
  }
  if (auto st = apply_overrides(o, facts); !st) {
    return cli::ks::fail(st.error());
  }
  const policy::Decision d = policy::decide(**cfg, cls, *env, facts);
  if (g.json || o.json) {
    Json j = to_json(d, facts);
    j["keystore_note"] = src.note;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    if (!src.note.empty()) {
      std::printf("note: %s\n", src.note.c_str());
    }
    int step = 1;
    for (const auto& r : d.reasons) {
      std::printf("%2d. %s\n", step++, r.c_str());
    }
    std::printf("decision: rule '%s', %s, sign=%s encrypt=%s verify=%s decrypt=%s -> %s\n",
                d.rule.c_str(), std::string(policy::name(d.direction)).c_str(),
                d.sign ? "yes" : "no", d.encrypt ? "yes" : "no", d.verify ? "yes" : "no",
                d.decrypt ? "yes" : "no", d.verdict.to_string().c_str());
  }
  return verdict_exit(d.verdict.action);
}

void add_explain(CLI::App& policy_app, Globals& g, int& rc) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = policy_app.add_subcommand(
      "explain",
      "what would happen to a message, and why (exit 0 accept, 20 reject, 21 tempfail, "
      "22 discard, 23 quarantine)");
  cmd->add_option("--from", o->from, "envelope sender")->required();
  cmd->add_option("--to", o->to, "recipient (repeat for more)")->required();
  cmd->add_option("--header", o->headers, "'Name: value' (repeatable)");
  cmd->add_option("--subject", o->subject, "Subject header");
  cmd->add_option("--client-ip", o->client_ip, "connecting client's address");
  cmd->add_option("--auth", o->auth, "SMTP AUTH user ({auth_authen})");
  cmd->add_option("--daemon-name", o->daemon_name, "Postfix {daemon_name} macro");
  cmd->add_option("--sender-cert", o->sender_cert, std::string("override: ") + kStates);
  cmd->add_option("--recipient-cert", o->recipient_cert,
                  "override: ADDR=STATE[,modern] (repeatable)");
  cmd->add_option("--department", o->department, "override the sender's department")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([&g, &rc, o] { rc = explain(g, *o); });
}

void add_check(CLI::App& policy_app, Globals& g, int& rc) {
  auto file = std::make_shared<std::string>();
  auto* cmd = policy_app.add_subcommand(
      "check", "validate a configuration file and print the effective configuration");
  cmd->add_option("file", *file, "configuration file (default: --config)");
  cmd->callback([&g, &rc, file] {
    auto cfg = policy::load_config(file->empty() ? g.config_path : *file);
    if (!cfg) {
      rc = cli::ks::fail(cfg.error());
      return;
    }
    std::fputs(policy::describe(**cfg).c_str(), stdout);
    rc = kExitOk;
  });
}

const bool kReg = cli::register_group([](CLI::App& app, Globals& g, int& rc) {
  auto* policy_app = app.add_subcommand("policy", "explain and check the policy configuration");
  policy_app->require_subcommand(1);
  add_explain(*policy_app, g, rc);
  add_check(*policy_app, g, rc);
  policy_app->add_subcommand("reference", "print the configuration key reference (Markdown)")
      ->callback([&rc] {
        std::fputs(policy::configuration_reference().c_str(), stdout);
        rc = kExitOk;
      });
});

}  // namespace
}  // namespace cli::policy_cmd
