// Internal to the config loader: typed access to toml++ tables that reports unknown
// keys, wrong types and bad values as "file:line:col: message". The loader signals such
// errors with the local ConfigFault exception, caught at its single entry point
// (parse_config) and turned into a Result; nothing escapes the loader.
// Thread-safety: one reader per load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace policy::detail {

class ConfigFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TomlReader {
 public:
  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const;
  [[noreturn]] void fail(const toml::node& where, const std::string& message) const {
    fail(where.source(), message);
  }

  // Every key of `t` must be in `allowed`; `where` names the table in the message.
  void allow_only(const toml::table& t, std::string_view where,
                  std::span<const std::string_view> allowed) const;
  void allow_only(const toml::table& t, std::string_view where,
                  std::initializer_list<std::string_view> allowed) const {
    allow_only(t, where, std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }

  // Getters leave `out` untouched when the key is absent.
  bool get(const toml::table& t, std::string_view key, std::string_view where,
           std::string& out) const;
  bool get(const toml::table& t, std::string_view key, std::string_view where, bool& out) const;
  bool get(const toml::table& t, std::string_view key, std::string_view where, std::size_t& out,
           std::size_t min, std::size_t max) const;
  bool get(const toml::table& t, std::string_view key, std::string_view where,
           std::vector<std::string>& out) const;
  // An array whose elements must all be strings (absent: nullptr).
  const toml::array* string_array(const toml::table& t, std::string_view key,
                                  std::string_view where) const;
  // A sub-table (absent: nullptr).
  const toml::table* table(const toml::table& t, std::string_view key,
                           std::string_view where) const;

  // "daemon.socket" style name for messages.
  static std::string qualified(std::string_view where, std::string_view key);

 private:
  const toml::node* typed(const toml::table& t, std::string_view key, std::string_view where,
                          toml::node_type want, std::string_view want_name) const;
  std::string file_;
};

}  // namespace policy::detail
