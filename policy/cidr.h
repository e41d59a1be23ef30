// IPv4/IPv6 CIDR prefixes for `internal_hosts`. IPv4 prefixes are kept as IPv4-mapped
// IPv6 (::ffff:a.b.c.d/96+n), so a client address Postfix reports as ::ffff:10.1.2.3
// matches 10.0.0.0/8 as well. Plain values; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"

namespace policy {

using IpBytes = std::array<std::uint8_t, 16>;

// Parses an IPv4 or IPv6 address (optionally in [brackets]); IPv4 becomes v4-mapped.
std::optional<IpBytes> parse_ip(std::string_view text);

class Cidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a host), "[::1]/128".
  // Host bits set below the prefix ("10.1.0.0/8") are an error: usually a typo.
  static Result<Cidr> parse(std::string_view text);
  bool contains(const IpBytes& ip) const noexcept;
  const std::string& text() const noexcept { return text_; }

 private:
  IpBytes net_{};
  unsigned prefix_ = 0;  // in the v6 space
  std::string text_;
};

// True when `ip` (text) parses and lies in any of `list`.
bool in_any(const std::vector<Cidr>& list, std::string_view ip);

}  // namespace policy
