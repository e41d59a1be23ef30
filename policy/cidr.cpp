#include "policy/cidr.h"

#include <arpa/inet.h>
#include <charconv>

namespace policy {
namespace {

bool bit_prefix_equal(const IpBytes& a, const IpBytes& b, unsigned bits) noexcept {
  for (std::size_t i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8U : bits;
    const auto mask = static_cast<std::uint8_t>(0xFFU << (8U - take));
    if ((a[i] & mask) != (b[i] & mask)) {
      return false;
    }
    bits -= take;
  }
  return true;
}

}  // namespace

std::optional<IpBytes> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 45) {
    return std::nullopt;
  }
  const std::string s(text);
  IpBytes out{};
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xFF;
    out[11] = 0xFF;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v4.s_addr);
    for (std::size_t i = 0; i < 4; ++i) {
      out[12 + i] = b[i];
    }
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    for (std::size_t i = 0; i < 16; ++i) {
      out[i] = v6.s6_addr[i];
    }
    return out;
  }
  return std::nullopt;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  c.text_ = std::string(text);
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  const auto ip = parse_ip(addr);
  if (!ip) {
    return unexpected(Errc::kConfig,
                      "'" + c.text_ + "' is not an IPv4 or IPv6 address or CIDR prefix");
  }
  const bool v4 = addr.find(':') == std::string_view::npos;
  const unsigned max = v4 ? 32U : 128U;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || end != p.data() + p.size() || p.empty() || prefix > max) {
      return unexpected(Errc::kConfig,
                        "'" + c.text_ + "': prefix length must be 0.." + std::to_string(max));
    }
  }
  c.net_ = *ip;
  c.prefix_ = v4 ? prefix + 96U : prefix;
  IpBytes zeroed{};
  // The network address with host bits cleared must equal what was written.
  for (std::size_t i = 0; i < 16; ++i) {
    const unsigned bit0 = static_cast<unsigned>(i) * 8U;
    if (bit0 + 8U <= c.prefix_) {
      zeroed[i] = c.net_[i];
    } else if (bit0 < c.prefix_) {
      zeroed[i] = static_cast<std::uint8_t>(c.net_[i] & (0xFFU << (8U - (c.prefix_ - bit0))));
    }
  }
  if (zeroed != c.net_) {
    return unexpected(Errc::kConfig, "'" + c.text_ + "' has host bits set below the /" +
                                         std::to_string(prefix) + " prefix");
  }
  return c;
}

bool Cidr::contains(const IpBytes& ip) const noexcept {
  return bit_prefix_equal(net_, ip, prefix_);
}

bool in_any(const std::vector<Cidr>& list, std::string_view ip) {
  const auto parsed = parse_ip(ip);
  if (!parsed) {
    return false;
  }
  for (const auto& c : list) {
    if (c.contains(*parsed)) {
      return true;
    }
  }
  return false;
}

}  // namespace policy
