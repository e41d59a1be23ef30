// Step 1 of the decision: direction and rule matching (see decide.h).
#include <algorithm>
#include <cctype>
#include <fnmatch.h>
#include <strings.h>

#include "policy/decide.h"

namespace policy {
namespace {

constexpr std::size_t kRegexWindow = 1024;  // libstdc++ regex recurses per character

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool glob(std::string_view pattern, std::string_view text) {
  const std::string p(pattern);
  const std::string t(text);
  return ::fnmatch(p.c_str(), t.c_str(), FNM_CASEFOLD) == 0;
}

bool any_glob(const std::vector<std::string>& patterns, std::string_view address) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return address_matches(address, p); });
}

const Header* find_header(const Envelope& env, std::string_view name) {
  for (const auto& h : env.headers) {
    if (iequals(h.name, name)) {
      return &h;
    }
  }
  return nullptr;
}

bool header_matches(const HeaderMatch& m, const Envelope& env) {
  for (const auto& h : env.headers) {
    if (!iequals(h.name, m.name)) {
      continue;
    }
    const std::string_view value = trim(h.value);
    if (m.regex) {
      const std::string window(value.substr(0, kRegexWindow));
      // A cut value must not look complete to '$'.
      const auto flags = value.size() > kRegexWindow ? std::regex_constants::match_not_eol
                                                     : std::regex_constants::match_default;
      if (std::regex_search(window, *m.regex, flags)) {
        return true;
      }
    } else if (glob(m.value_glob, value)) {
      return true;
    }
  }
  return false;
}

// Why a rule fails to match ("" when it matches). `unavailable` is set when the answer
// depends on a department the keystore could not give.
std::string mismatch(const Match& m, Direction dir, const Envelope& env, const DepartmentFact& dept,
                     bool& unavailable) {
  if (m.direction != DirectionMatch::kAny &&
      (m.direction == DirectionMatch::kInbound) != (dir == Direction::kInbound)) {
    return "direction is " + std::string(name(dir));
  }
  if (!m.sender.empty() && !any_glob(m.sender, env.sender)) {
    return "sender <" + env.sender + "> matches none of " + join(m.sender);
  }
  if (!m.department.empty()) {
    if (dept.state == FactState::kUnavailable) {
      unavailable = true;
      return "sender's department unknown: keystore unavailable";
    }
    const bool hit = dept.state == FactState::kKnown &&
                     std::any_of(m.department.begin(), m.department.end(),
                                 [&](const std::string& d) { return iequals(d, dept.name); });
    if (!hit) {
      return "sender's department '" + dept.name + "' is not one of " + join(m.department);
    }
  }
  if (!m.recipients_all.empty()) {
    for (const auto& r : env.recipients) {
      if (!any_glob(m.recipients_all, r)) {
        return "recipient <" + r + "> matches none of " + join(m.recipients_all);
      }
    }
    if (env.recipients.empty()) {
      return "no recipients";
    }
  }
  if (!m.recipients_any.empty() &&
      std::none_of(env.recipients.begin(), env.recipients.end(),
                   [&](const std::string& r) { return any_glob(m.recipients_any, r); })) {
    return "no recipient matches " + join(m.recipients_any);
  }
  if (!m.headers.empty() &&
      std::none_of(m.headers.begin(), m.headers.end(),
                   [&](const HeaderMatch& h) { return header_matches(h, env); })) {
    return "no header condition matches";
  }
  if (!m.subject_tag.empty()) {
    const Header* s = find_header(env, "Subject");
    if (s == nullptr || lower(s->value).find(lower(m.subject_tag)) == std::string::npos) {
      return "Subject does not contain " + m.subject_tag;
    }
  }
  return {};
}

std::string strip_tag(std::string_view subject, std::string_view tag) {
  std::string s(subject);
  const auto pos = lower(s).find(lower(tag));
  if (pos == std::string::npos) {
    return s;
  }
  s.erase(pos, tag.size());
  if (pos > 0 && pos < s.size() && s[pos - 1] == ' ' && s[pos] == ' ') {
    s.erase(pos, 1);
  }
  return std::string(trim(s));
}

}  // namespace

bool address_matches(std::string_view address, std::string_view pattern) {
  if (pattern.find('@') != std::string_view::npos) {
    return glob(pattern, address);
  }
  const auto at = address.rfind('@');
  return glob(pattern, at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
}

Direction classify_direction(const Config& c, const Envelope& env,
                             std::vector<std::string>& reasons) {
  if (!env.auth_user.empty()) {
    reasons.push_back("outbound: client authenticated as '" + env.auth_user + "' ({auth_authen})");
    return Direction::kOutbound;
  }
  if (const auto ip = parse_ip(env.client_ip)) {
    for (const auto& cidr : c.internal_hosts) {
      if (cidr.contains(*ip)) {
        reasons.push_back("outbound: client " + env.client_ip + " is in internal_hosts (" +
                          cidr.text() + ")");
        return Direction::kOutbound;
      }
    }
  }
  for (const auto& d : c.originating_daemons) {
    if (!env.daemon_name.empty() && d == env.daemon_name) {
      reasons.push_back("outbound: daemon name '" + d + "' is in originating_daemons");
      return Direction::kOutbound;
    }
  }
  reasons.push_back("inbound: not authenticated, client '" + env.client_ip +
                    "' not in internal_hosts, daemon name '" + env.daemon_name +
                    "' not in originating_daemons");
  return Direction::kInbound;
}

Classification classify(const Config& c, const Envelope& env, const DepartmentFact& department) {
  Classification cls;
  cls.direction = classify_direction(c, env, cls.reasons);
  for (const auto& rule : c.rules) {
    bool unavailable = false;
    const std::string why = mismatch(rule.match, cls.direction, env, department, unavailable);
    if (unavailable) {
      cls.rule = &rule;
      cls.department_unavailable = true;
      cls.reasons.push_back("rule '" + rule.name + "': " + why + "; cannot decide, stopping here");
      return cls;
    }
    if (why.empty()) {
      cls.rule = &rule;
      cls.reasons.push_back("rule '" + rule.name + "' matches (first match wins)");
      break;
    }
    cls.reasons.push_back("rule '" + rule.name + "' does not match: " + why);
  }
  if (cls.rule == nullptr) {
    cls.rule = &c.default_rule;
    cls.reasons.push_back("no rule matched: using the default rule");
  }
  if (cls.rule->strip_subject_tag) {
    if (const Header* s = find_header(env, "Subject")) {
      cls.new_subject = strip_tag(s->value, cls.rule->match.subject_tag);
      cls.reasons.push_back("rewrite Subject to '" + *cls.new_subject + "' (strip_subject_tag)");
    }
  }
  const bool out = cls.direction == Direction::kOutbound;
  cls.wants_signer = out && c.mode.sign && cls.rule->sign != Requirement::kNever;
  cls.wants_recipients = out && c.mode.encrypt && cls.rule->encrypt != Requirement::kNever;
  return cls;
}

}  // namespace policy
