#include "policy/socket.h"

#include <charconv>

#include "policy/cidr.h"

namespace policy {
namespace {

bool parse_port(std::string_view s, std::uint16_t& port) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(v);
  return true;
}

Result<SocketSpec> parse_local(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return unexpected(Errc::kConfig,
                      "local socket path must be absolute, e.g. "
                      "local:/var/spool/postfix/smime-milter/smime-milter.sock");
  }
  SocketSpec s;
  s.kind = SocketSpec::Kind::kLocal;
  s.path = std::string(path);
  s.libmilter = "local:" + s.path;
  return s;
}

}  // namespace

Result<SocketSpec> parse_socket(std::string_view text) {
  const std::string t(text);
  if (text.starts_with("local:")) {
    return parse_local(text.substr(6));
  }
  if (text.starts_with("unix:")) {
    return parse_local(text.substr(5));
  }
  const bool v6 = text.starts_with("inet6:");
  if (!v6 && !text.starts_with("inet:")) {
    return unexpected(Errc::kConfig,
                      "socket '" + t + "' must start with local:, unix:, inet: or inet6:");
  }
  const std::string_view rest = text.substr(v6 ? 6 : 5);
  const auto at = rest.find('@');
  const std::string_view port_text = rest.substr(0, at);
  SocketSpec s;
  s.kind = v6 ? SocketSpec::Kind::kInet6 : SocketSpec::Kind::kInet;
  if (!parse_port(port_text, s.port)) {
    const auto colon = rest.rfind(':');
    if (!v6 && at == std::string_view::npos && colon != std::string_view::npos) {
      const std::string host(rest.substr(0, colon));
      const std::string port(rest.substr(colon + 1));
      return unexpected(Errc::kConfig, "socket '" + t +
                                           "' uses Postfix's inet:host:port spelling; libmilter "
                                           "writes the port first: use \"inet:" +
                                           port + "@" + host + "\"");
    }
    return unexpected(Errc::kConfig, "socket '" + t + "': port must be 1..65535 (inet:PORT@HOST)");
  }
  if (at != std::string_view::npos) {
    s.host = std::string(rest.substr(at + 1));
    if (s.host.empty()) {
      return unexpected(Errc::kConfig, "socket '" + t + "': empty host after '@'");
    }
    if (v6 && !parse_ip(s.host)) {
      return unexpected(Errc::kConfig,
                        "socket '" + t + "': inet6 host must be an IPv6 address, e.g. [::1]");
    }
  }
  s.libmilter = t;
  return s;
}

}  // namespace policy
