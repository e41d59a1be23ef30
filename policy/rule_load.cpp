#include "policy/rule_load.h"

#include <array>
#include <string>
#include <vector>

#include "policy/reply.h"

namespace policy::detail {
namespace {

// Action keys shared by [default] and [[rule]].
constexpr std::array<std::string_view, 15> kActionKeys{"sign",
                                                       "encrypt",
                                                       "signer",
                                                       "profile",
                                                       "verify",
                                                       "decrypt",
                                                       "strip_subject_tag",
                                                       "on_no_signing_cert",
                                                       "on_no_recipient_cert",
                                                       "on_revoked",
                                                       "on_revocation_unknown",
                                                       "on_bad_signature",
                                                       "on_decrypt_error",
                                                       "on_keystore_unavailable",
                                                       "on_internal_error"};

std::vector<std::string_view> rule_keys() {
  std::vector<std::string_view> keys{"name", "match"};
  keys.insert(keys.end(), kActionKeys.begin(), kActionKeys.end());
  return keys;
}

void read_requirement(const TomlReader& r, const toml::table& t, std::string_view key,
                      std::string_view where, Requirement& out) {
  std::string v;
  if (!r.get(t, key, where, v)) {
    return;
  }
  const auto parsed = parse_requirement(v);
  if (!parsed) {
    r.fail(*t.get(key), TomlReader::qualified(where, key) + ": '" + v +
                            "' is not one of required, if-possible, never");
  }
  out = *parsed;
}

FailureAction read_failure(const TomlReader& r, const toml::node& n, Failure f,
                           const std::string& what) {
  std::string action_text;
  std::string reply;
  bool has_reply = false;
  const toml::node* action_node = &n;
  if (const auto* t = n.as_table()) {
    r.allow_only(*t, what, {"action", "reply"});
    if (!r.get(*t, "action", what, action_text)) {
      r.fail(n, what + ": missing 'action'");
    }
    action_node = t->get("action");
    has_reply = r.get(*t, "reply", what, reply);
  } else if (const auto* s = n.as_string()) {
    action_text = **s;
  } else {
    r.fail(n, what + ": expected an action string or a table { action = ..., reply = ... }");
  }
  const auto action = parse_action(action_text);
  if (!action) {
    r.fail(*action_node, what + ": '" + action_text +
                             "' is not one of accept, reject, tempfail, quarantine, discard");
  }
  if (!has_reply) {
    return default_failure_action(f, *action);
  }
  auto parsed = parse_failure_reply(*action, reply);
  if (!parsed) {
    r.fail(*n.as_table()->get("reply"), what + ".reply: " + parsed.error().detail());
  }
  return std::move(*parsed);
}

void read_actions(const TomlReader& r, const toml::table& t, const std::string& where, Rule& rule) {
  read_requirement(r, t, "sign", where, rule.sign);
  read_requirement(r, t, "encrypt", where, rule.encrypt);
  if (const toml::array* a = r.string_array(t, "signer", where)) {
    rule.signer.clear();
    for (const auto& e : *a) {
      const auto type = parse_cert_type(**e.as_string());
      if (!type) {
        r.fail(e,
               where + ".signer: '" + **e.as_string() + "' is not one of individual, role, system");
      }
      rule.signer.push_back(*type);
    }
    if (rule.signer.empty()) {
      r.fail(*t.get("signer"), where + ".signer: name at least one certificate type");
    }
  }
  std::string profile;
  if (r.get(t, "profile", where, profile)) {
    const auto p = parse_profile(profile);
    if (!p) {
      r.fail(*t.get("profile"),
             where + ".profile: '" + profile + "' is not one of compatible, modern, per-recipient");
    }
    rule.profile = *p;
  }
  r.get(t, "verify", where, rule.verify);
  r.get(t, "decrypt", where, rule.decrypt);
  r.get(t, "strip_subject_tag", where, rule.strip_subject_tag);
  for (const Failure f : kAllFailures) {
    const std::string key = "on_" + std::string(name(f));
    if (const toml::node* n = t.get(key)) {
      std::string what = where;
      what += '.';
      what += key;
      rule.on[static_cast<std::size_t>(f)] = read_failure(r, *n, f, what);
    }
  }
}

void read_globs(const TomlReader& r, const toml::table& t, std::string_view key,
                const std::string& where, std::vector<std::string>& out) {
  if (r.get(t, key, where, out)) {
    for (const auto& g : out) {
      if (g.empty()) {
        r.fail(*t.get(key), TomlReader::qualified(where, key) + ": empty pattern");
      }
    }
  }
}

HeaderMatch read_header(const TomlReader& r, const toml::node& n, const std::string& where) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    r.fail(n, where + ": expected a table { name = ..., value = ... }");
  }
  r.allow_only(*t, where, {"name", "value", "regex"});
  HeaderMatch h;
  if (!r.get(*t, "name", where, h.name) || h.name.empty() ||
      h.name.find_first_of(": \t") != std::string::npos) {
    r.fail(n, where + ": needs name = \"Header-Name\" (no colon or spaces)");
  }
  const bool has_value = r.get(*t, "value", where, h.value_glob);
  const bool has_regex = r.get(*t, "regex", where, h.regex_text);
  if (has_value == has_regex) {
    r.fail(n, where + ": give exactly one of value (glob) or regex");
  }
  if (has_regex) {
    try {
      h.regex.emplace(h.regex_text, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      r.fail(*t->get("regex"), where + ".regex: invalid regular expression: " + e.what());
    }
  }
  return h;
}

Match read_match(const TomlReader& r, const toml::table& t, const std::string& where) {
  r.allow_only(t, where,
               {"direction", "sender", "department", "recipients_all", "recipients_any", "headers",
                "subject_tag"});
  Match m;
  std::string direction;
  if (r.get(t, "direction", where, direction)) {
    const auto d = parse_direction_match(direction);
    if (!d) {
      r.fail(*t.get("direction"),
             where + ".direction: '" + direction + "' is not one of inbound, outbound, any");
    }
    m.direction = *d;
  }
  read_globs(r, t, "sender", where, m.sender);
  read_globs(r, t, "department", where, m.department);
  read_globs(r, t, "recipients_all", where, m.recipients_all);
  read_globs(r, t, "recipients_any", where, m.recipients_any);
  if (const toml::node* n = t.get("headers")) {
    const auto* a = n->as_array();
    if (a == nullptr) {
      r.fail(*n, where + ".headers: expected an array of tables");
    }
    for (const auto& e : *a) {
      m.headers.push_back(read_header(r, e, where + ".headers"));
    }
  }
  if (r.get(t, "subject_tag", where, m.subject_tag) && m.subject_tag.empty()) {
    r.fail(*t.get("subject_tag"), where + ".subject_tag: must not be empty");
  }
  return m;
}

void check_against_mode(const TomlReader& r, const toml::node& n, const Rule& rule,
                        const ModeConfig& mode, const std::string& where) {
  if (rule.sign == Requirement::kRequired && !mode.sign) {
    r.fail(n, where + " requires signing but [milter] mode does not include \"sign\"");
  }
  if (rule.encrypt == Requirement::kRequired && !mode.encrypt) {
    r.fail(n, where + " requires encryption but [milter] mode does not include \"encrypt\"");
  }
  if (rule.strip_subject_tag && rule.match.subject_tag.empty()) {
    r.fail(n, where + ": strip_subject_tag needs match.subject_tag");
  }
}

Rule read_rule(const TomlReader& r, const toml::node& n, std::size_t index, const Config& c) {
  const std::string where = "rule #" + std::to_string(index + 1);
  const auto* t = n.as_table();
  if (t == nullptr) {
    r.fail(n, where + ": expected a table ([[rule]])");
  }
  r.allow_only(*t, where, rule_keys());
  Rule rule = c.default_rule;
  rule.name.clear();
  if (!r.get(*t, "name", where, rule.name) || rule.name.empty()) {
    r.fail(n, where + ": every [[rule]] needs a name");
  }
  if (rule.name == "default") {
    r.fail(*t->get("name"), where + ": the name 'default' is reserved for [default]");
  }
  for (const auto& other : c.rules) {
    if (other.name == rule.name) {
      r.fail(*t->get("name"), where + ": duplicate rule name '" + rule.name + "'");
    }
  }
  const std::string label = "rule '" + rule.name + "'";
  if (const auto* m = r.table(*t, "match", label)) {
    rule.match = read_match(r, *m, label + ".match");
  }
  read_actions(r, *t, label, rule);
  check_against_mode(r, n, rule, c.mode, label);
  return rule;
}

}  // namespace

void read_rules(const TomlReader& r, const toml::table& root, Config& c) {
  if (const auto* t = r.table(root, "default", "")) {
    r.allow_only(*t, "default", kActionKeys);
    read_actions(r, *t, "default", c.default_rule);
    check_against_mode(r, *t, c.default_rule, c.mode, "[default]");
  }
  const toml::node* rules = root.get("rule");
  if (rules == nullptr) {
    return;
  }
  const auto* a = rules->as_array();
  if (a == nullptr) {
    r.fail(*rules, "rules are written [[rule]] (an array of tables), not [rule]");
  }
  for (std::size_t i = 0; i < a->size(); ++i) {
    c.rules.push_back(read_rule(r, (*a)[i], i, c));
    c.uses_department = c.uses_department || !c.rules.back().match.department.empty();
  }
}

}  // namespace policy::detail
