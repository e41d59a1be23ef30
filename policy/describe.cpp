// describe(): the effective configuration as TOML (defaults filled in), loadable again.
#include <cstdio>

#include "policy/config.h"

namespace policy {
namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) {
    out += out.size() == 1 ? "" : ", ";
    out += quote(s);
  }
  return out + "]";
}

const char* boolean(bool b) {
  return b ? "true" : "false";
}

void line(std::string& out, std::string_view key, const std::string& value) {
  out += key;
  out += " = ";
  out += value;
  out += '\n';
}

std::string failure_action(const FailureAction& fa) {
  std::string reply;
  for (const std::string* p : {&fa.rcode, &fa.xcode, &fa.text_template}) {
    if (!p->empty()) {
      reply += reply.empty() ? "" : " ";
      reply += *p;
    }
  }
  return "{ action = " + quote(name(fa.action)) + ", reply = " + quote(reply) + " }";
}

void actions(std::string& out, const Rule& r) {
  line(out, "sign", quote(name(r.sign)));
  line(out, "encrypt", quote(name(r.encrypt)));
  std::vector<std::string> signer;
  for (const auto t : r.signer) {
    signer.emplace_back(name(t));
  }
  line(out, "signer", list(signer));
  line(out, "profile", quote(name(r.profile)));
  line(out, "verify", boolean(r.verify));
  line(out, "decrypt", boolean(r.decrypt));
  line(out, "strip_subject_tag", boolean(r.strip_subject_tag));
  for (const Failure f : kAllFailures) {
    line(out, "on_" + std::string(name(f)), failure_action(r.on_failure(f)));
  }
}

void match(std::string& out, const Match& m) {
  out += "[rule.match]\n";
  line(out, "direction", quote(name(m.direction)));
  const std::pair<std::string_view, const std::vector<std::string>*> lists[] = {
      {"sender", &m.sender},
      {"department", &m.department},
      {"recipients_all", &m.recipients_all},
      {"recipients_any", &m.recipients_any}};
  for (const auto& [k, v] : lists) {
    if (!v->empty()) {
      line(out, k, list(*v));
    }
  }
  if (!m.subject_tag.empty()) {
    line(out, "subject_tag", quote(m.subject_tag));
  }
  for (const auto& h : m.headers) {
    out += "[[rule.match.headers]]\n";
    line(out, "name", quote(h.name));
    if (h.regex) {
      line(out, "regex", quote(h.regex_text));
    } else {
      line(out, "value", quote(h.value_glob));
    }
  }
}

}  // namespace

std::string describe(const Config& c) {
  std::string out = "# effective configuration";
  out += c.source.empty() ? " (built-in defaults)\n" : " loaded from " + c.source + "\n";
  out += "\n[daemon]\n";
  line(out, "socket", quote(c.daemon.socket.libmilter));
  line(out, "user", quote(c.daemon.user));
  line(out, "group", quote(c.daemon.group));
  char umask[8];
  std::snprintf(umask, sizeof umask, "%03o", c.daemon.umask);
  line(out, "umask", quote(umask));
  line(out, "pid_file", quote(c.daemon.pid_file));
  line(out, "foreground", boolean(c.daemon.foreground));
  line(out, "log_level", quote(c.daemon.log_level));
  line(out, "syslog_facility", quote(c.daemon.syslog_facility));
  line(out, "log_why", boolean(c.daemon.log_why));
  out += "\n[milter]\n";
  std::vector<std::string> mode;
  for (const auto& [n, on] :
       {std::pair{"sign", c.mode.sign}, std::pair{"encrypt", c.mode.encrypt},
        std::pair{"verify", c.mode.verify}, std::pair{"decrypt", c.mode.decrypt}}) {
    if (on) {
      mode.emplace_back(n);
    }
  }
  line(out, "mode", list(mode));
  std::vector<std::string> hosts;
  for (const auto& h : c.internal_hosts) {
    hosts.push_back(h.text());
  }
  line(out, "internal_hosts", list(hosts));
  line(out, "originating_daemons", list(c.originating_daemons));
  line(out, "authserv_id", quote(c.authserv_id));
  out += "\n[keystore]\n";
  line(out, "path", quote(c.keystore.path));
  line(out, "secret_file", quote(c.keystore.secret_file));
  line(out, "allow_unsafe_permissions", boolean(c.keystore.allow_unsafe_permissions));
  out += "\n[trust]\n";
  line(out, "check_revocation", boolean(c.trust.check_revocation));
  line(out, "require_sender_match", boolean(c.trust.require_sender_match));
  line(out, "harvest_certificates", boolean(c.trust.harvest_certificates));
  out += "\n[limits]\n";
  line(out, "max_message_size", std::to_string(c.limits.max_message_size));
  line(out, "max_headers", std::to_string(c.limits.max_headers));
  line(out, "max_recipients", std::to_string(c.limits.max_recipients));
  line(out, "max_mime_depth", std::to_string(c.limits.max_mime_depth));
  line(out, "spool_threshold", std::to_string(c.limits.spool_threshold));
  out += "\n[audit]\n";
  line(out, "database", quote(c.audit.database));
  line(out, "on_audit_failure", quote(name(c.audit.on_audit_failure)));
  line(out, "head_interval", std::to_string(c.audit.head_interval));
  line(out, "head_signer", quote(c.audit.head_signer));
  for (const auto& r : c.rules) {
    out += "\n[[rule]]\n";
    line(out, "name", quote(r.name));
    actions(out, r);
    match(out, r.match);
  }
  out += "\n# applies when no [[rule]] matches\n[default]\n";
  actions(out, c.default_rule);
  return out;
}

}  // namespace policy
