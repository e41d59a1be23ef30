// Loads the TOML configuration into a Config snapshot (see config.h). Rules are read by
// rule_load.cpp; this file reads the fixed sections and drives the whole load.
#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "policy/config.h"
#include "policy/rule_load.h"
#include "policy/toml_reader.h"

namespace policy {
namespace {

using detail::TomlReader;

constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info",
                                                     "warn",  "error", "critical"};
constexpr std::array<std::string_view, 11> kFacilities{"mail",   "daemon", "user",   "local0",
                                                       "local1", "local2", "local3", "local4",
                                                       "local5", "local6", "local7"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

void require_absolute(const TomlReader& r, const toml::table& t, std::string_view key,
                      std::string_view where, std::string& out) {
  if (r.get(t, key, where, out) && (out.empty() || out.front() != '/')) {
    r.fail(*t.get(key),
           TomlReader::qualified(where, key) + ": '" + out + "' must be an absolute path");
  }
}

void read_daemon(const TomlReader& r, const toml::table& t, DaemonConfig& d) {
  constexpr std::string_view w = "daemon";
  r.allow_only(t, w,
               {"socket", "user", "group", "umask", "pid_file", "foreground", "log_level",
                "syslog_facility", "log_why"});
  std::string socket;
  if (r.get(t, "socket", w, socket)) {
    auto s = parse_socket(socket);
    if (!s) {
      r.fail(*t.get("socket"), "daemon.socket: " + s.error().detail());
    }
    d.socket = std::move(*s);
  }
  r.get(t, "user", w, d.user);
  r.get(t, "group", w, d.group);
  std::string umask;
  if (r.get(t, "umask", w, umask)) {
    const bool octal = !umask.empty() && umask.size() <= 4 &&
                       umask.find_first_not_of("01234567") == std::string::npos;
    if (!octal) {
      r.fail(*t.get("umask"), "daemon.umask: '" + umask + "' is not an octal umask like \"007\"");
    }
    d.umask = static_cast<unsigned>(std::stoul(umask, nullptr, 8));
  }
  require_absolute(r, t, "pid_file", w, d.pid_file);
  r.get(t, "foreground", w, d.foreground);
  if (r.get(t, "log_level", w, d.log_level) && !one_of(kLogLevels, d.log_level)) {
    r.fail(*t.get("log_level"), "daemon.log_level: '" + d.log_level +
                                    "' is not one of trace, debug, info, warn, error, critical");
  }
  if (r.get(t, "syslog_facility", w, d.syslog_facility) &&
      !one_of(kFacilities, d.syslog_facility)) {
    r.fail(*t.get("syslog_facility"), "daemon.syslog_facility: '" + d.syslog_facility +
                                          "' is not one of mail, daemon, user, local0..local7");
  }
  r.get(t, "log_why", w, d.log_why);
}

void read_mode(const TomlReader& r, const toml::table& t, ModeConfig& m) {
  const toml::array* a = r.string_array(t, "mode", "milter");
  if (a == nullptr) {
    return;
  }
  m = ModeConfig{false, false, false, false};
  if (a->empty()) {
    r.fail(*t.get("mode"), "milter.mode: must name at least one of sign, encrypt, verify, decrypt");
  }
  for (const auto& e : *a) {
    const std::string& v = **e.as_string();
    bool* flag = v == "sign"      ? &m.sign
                 : v == "encrypt" ? &m.encrypt
                 : v == "verify"  ? &m.verify
                 : v == "decrypt" ? &m.decrypt
                                  : nullptr;
    if (flag == nullptr) {
      r.fail(e, "milter.mode: '" + v + "' is not one of sign, encrypt, verify, decrypt");
    }
    if (*flag) {
      r.fail(e, "milter.mode: '" + v + "' is listed twice");
    }
    *flag = true;
  }
}

void read_milter(const TomlReader& r, const toml::table& t, Config& c) {
  constexpr std::string_view w = "milter";
  r.allow_only(t, w, {"mode", "internal_hosts", "originating_daemons", "authserv_id"});
  read_mode(r, t, c.mode);
  if (const toml::array* a = r.string_array(t, "internal_hosts", w)) {
    c.internal_hosts.clear();
    for (const auto& e : *a) {
      auto cidr = Cidr::parse(**e.as_string());
      if (!cidr) {
        r.fail(e, "milter.internal_hosts: " + cidr.error().detail());
      }
      c.internal_hosts.push_back(std::move(*cidr));
    }
  }
  r.get(t, "originating_daemons", w, c.originating_daemons);
  if (r.get(t, "authserv_id", w, c.authserv_id) &&
      c.authserv_id.find_first_of(" \t;()\"\\") != std::string::npos) {
    r.fail(*t.get("authserv_id"),
           "milter.authserv_id: '" + c.authserv_id +
               "' must be a bare host name (RFC 8601 authserv-id: no spaces, ';', '(' or quotes)");
  }
}

void read_keystore(const TomlReader& r, const toml::table& t, KeystoreConfig& k) {
  constexpr std::string_view w = "keystore";
  r.allow_only(t, w, {"path", "secret_file", "allow_unsafe_permissions"});
  require_absolute(r, t, "path", w, k.path);
  require_absolute(r, t, "secret_file", w, k.secret_file);
  r.get(t, "allow_unsafe_permissions", w, k.allow_unsafe_permissions);
}

void read_trust(const TomlReader& r, const toml::table& t, TrustConfig& tr) {
  constexpr std::string_view w = "trust";
  r.allow_only(t, w, {"check_revocation", "require_sender_match", "harvest_certificates"});
  r.get(t, "check_revocation", w, tr.check_revocation);
  r.get(t, "require_sender_match", w, tr.require_sender_match);
  r.get(t, "harvest_certificates", w, tr.harvest_certificates);
}

void read_limits(const TomlReader& r, const toml::table& t, LimitsConfig& l) {
  constexpr std::string_view w = "limits";
  constexpr std::size_t kGiB = std::size_t{1024} * 1024U * 1024U;
  r.allow_only(
      t, w,
      {"max_message_size", "max_headers", "max_recipients", "max_mime_depth", "spool_threshold"});
  r.get(t, "max_message_size", w, l.max_message_size, 1024, 4 * kGiB);
  r.get(t, "max_headers", w, l.max_headers, 1, 100000);
  r.get(t, "max_recipients", w, l.max_recipients, 1, 100000);
  r.get(t, "max_mime_depth", w, l.max_mime_depth, 1, 64);
  r.get(t, "spool_threshold", w, l.spool_threshold, 0, 4 * kGiB);
}

void read_audit(const TomlReader& r, const toml::table& t, AuditConfig& a) {
  constexpr std::string_view w = "audit";
  r.allow_only(t, w, {"database", "on_audit_failure", "head_interval", "head_signer"});
  require_absolute(r, t, "database", w, a.database);
  r.get(t, "head_interval", w, a.head_interval, 0, std::size_t{31} * 24U * 3600U);
  if (r.get(t, "head_signer", w, a.head_signer) && !a.head_signer.empty() &&
      a.head_signer.find('@') == std::string::npos) {
    r.fail(*t.get("head_signer"),
           "audit.head_signer: '" + a.head_signer + "' is not a mailbox address");
  }
  std::string action;
  if (r.get(t, "on_audit_failure", w, action)) {
    const auto parsed = parse_action(action);
    if (!parsed || (*parsed != Action::kTempfail && *parsed != Action::kReject &&
                    *parsed != Action::kAccept)) {
      r.fail(*t.get("on_audit_failure"),
             "audit.on_audit_failure: '" + action + "' is not one of tempfail, reject, accept");
    }
    a.on_audit_failure = *parsed;
  }
}

void read_all(const TomlReader& r, const toml::table& root, Config& c) {
  r.allow_only(root, "",
               {"daemon", "milter", "keystore", "trust", "limits", "audit", "default", "rule"});
  if (const auto* t = r.table(root, "daemon", "")) {
    read_daemon(r, *t, c.daemon);
  }
  if (const auto* t = r.table(root, "milter", "")) {
    read_milter(r, *t, c);
  }
  if (const auto* t = r.table(root, "keystore", "")) {
    read_keystore(r, *t, c.keystore);
  }
  if (const auto* t = r.table(root, "trust", "")) {
    read_trust(r, *t, c.trust);
  }
  if (const auto* t = r.table(root, "limits", "")) {
    read_limits(r, *t, c.limits);
  }
  if (const auto* t = r.table(root, "audit", "")) {
    read_audit(r, *t, c.audit);
  }
  detail::read_rules(r, root, c);
}

Config builtin_config() {
  Config c;
  c.daemon.socket = *parse_socket("local:/var/spool/postfix/smime-milter/smime-milter.sock");
  c.internal_hosts = {*Cidr::parse("127.0.0.0/8"), *Cidr::parse("::1/128")};
  c.default_rule.name = "default";
  return c;
}

}  // namespace

Result<ConfigPtr> parse_config(std::string_view toml_text, std::string_view source_name) {
  auto config = std::make_shared<Config>(builtin_config());
  config->source = std::string(source_name);
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    read_all(TomlReader(std::string(source_name)), root, *config);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return unexpected(Errc::kConfig, std::string(source_name) + ":" + std::to_string(b.line) + ":" +
                                         std::to_string(b.column) + ": " +
                                         std::string(e.description()));
  } catch (const detail::ConfigFault& e) {
    return unexpected(Errc::kConfig, e.what());
  }
  return ConfigPtr(std::move(config));
}

Result<ConfigPtr> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return unexpected(Errc::kIo, path + ": cannot read the configuration file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return unexpected(Errc::kIo, path + ": read error");
  }
  return parse_config(text.str(), path);
}

}  // namespace policy
