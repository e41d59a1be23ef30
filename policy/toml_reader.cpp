#include "policy/toml_reader.h"

#include <algorithm>
#include <vector>

namespace policy::detail {
namespace {

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

}  // namespace

void TomlReader::fail(const toml::source_region& where, const std::string& message) const {
  throw ConfigFault(file_ + ":" + std::to_string(where.begin.line) + ":" +
                    std::to_string(where.begin.column) + ": " + message);
}

std::string TomlReader::qualified(std::string_view where, std::string_view key) {
  std::string out(where);
  if (!out.empty()) {
    out += '.';
  }
  out += key;
  return out;
}

namespace {

// Levenshtein distance, for "did you mean" on unknown keys (keys are short).
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string hint(std::string_view key, std::span<const std::string_view> allowed) {
  std::string_view best;
  std::size_t best_d = 3;  // suggest only close misspellings
  for (const auto a : allowed) {
    const std::size_t d = distance(key, a);
    if (d < best_d) {
      best_d = d;
      best = a;
    }
  }
  if (!best.empty()) {
    return "did you mean '" + std::string(best) + "'?";
  }
  std::string known = "known: ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    known += i == 0 ? "" : ", ";
    known += allowed[i];
  }
  return known;
}

}  // namespace

void TomlReader::allow_only(const toml::table& t, std::string_view where,
                            std::span<const std::string_view> allowed) const {
  for (auto&& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      const auto& src = k.source().begin.line != 0 ? k.source() : v.source();
      const std::string table = where.empty() ? std::string("the top level")
                                : where.find(' ') == std::string_view::npos
                                    ? "[" + std::string(where) + "]"
                                    : std::string(where);
      fail(src, "unknown key '" + std::string(k.str()) + "' in " + table + " (" +
                    hint(k.str(), allowed) + ")");
    }
  }
}

const toml::node* TomlReader::typed(const toml::table& t, std::string_view key,
                                    std::string_view where, toml::node_type want,
                                    std::string_view want_name) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    return nullptr;
  }
  if (n->type() != want) {
    fail(*n, qualified(where, key) + ": expected " + std::string(want_name) + ", got " +
                 std::string(type_name(n->type())));
  }
  return n;
}

bool TomlReader::get(const toml::table& t, std::string_view key, std::string_view where,
                     std::string& out) const {
  const auto* n = typed(t, key, where, toml::node_type::string, "a string");
  if (n == nullptr) {
    return false;
  }
  out = **n->as_string();
  return true;
}

bool TomlReader::get(const toml::table& t, std::string_view key, std::string_view where,
                     bool& out) const {
  const auto* n = typed(t, key, where, toml::node_type::boolean, "a boolean (true or false)");
  if (n == nullptr) {
    return false;
  }
  out = **n->as_boolean();
  return true;
}

bool TomlReader::get(const toml::table& t, std::string_view key, std::string_view where,
                     std::size_t& out, std::size_t min, std::size_t max) const {
  const auto* n = typed(t, key, where, toml::node_type::integer, "an integer");
  if (n == nullptr) {
    return false;
  }
  const std::int64_t v = **n->as_integer();
  if (v < 0 || static_cast<std::uint64_t>(v) < min || static_cast<std::uint64_t>(v) > max) {
    fail(*n, qualified(where, key) + ": " + std::to_string(v) + " is out of range " +
                 std::to_string(min) + ".." + std::to_string(max));
  }
  out = static_cast<std::size_t>(v);
  return true;
}

const toml::array* TomlReader::string_array(const toml::table& t, std::string_view key,
                                            std::string_view where) const {
  const auto* n = typed(t, key, where, toml::node_type::array, "an array of strings");
  if (n == nullptr) {
    return nullptr;
  }
  for (const auto& e : *n->as_array()) {
    if (!e.is_string()) {
      fail(e, qualified(where, key) + ": expected an array of strings, found " +
                  std::string(type_name(e.type())) + " in it");
    }
  }
  return n->as_array();
}

bool TomlReader::get(const toml::table& t, std::string_view key, std::string_view where,
                     std::vector<std::string>& out) const {
  const auto* a = string_array(t, key, where);
  if (a == nullptr) {
    return false;
  }
  out.clear();
  for (const auto& e : *a) {
    out.push_back(**e.as_string());
  }
  return true;
}

const toml::table* TomlReader::table(const toml::table& t, std::string_view key,
                                     std::string_view where) const {
  const auto* n = typed(t, key, where, toml::node_type::table, "a table");
  return n == nullptr ? nullptr : n->as_table();
}

}  // namespace policy::detail
