// The milter listening socket in libmilter's spelling (OpenDKIM `Socket`):
//   local:/path  unix:/path  inet:PORT  inet:PORT@HOST  inet6:PORT  inet6:PORT@[ADDR]
// Postfix writes TCP milters as inet:HOST:PORT in main.cf; that spelling is rejected
// with a message giving the libmilter form, because libmilter would misread it and one
// spelling in the file is easier to diff and to compare with libmilter's own logs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/result.h"

namespace policy {

struct SocketSpec {
  enum class Kind { kLocal, kInet, kInet6 };
  Kind kind = Kind::kLocal;
  std::string path;  // kLocal
  std::uint16_t port = 0;
  std::string host;  // empty: all interfaces
  // The string handed to smfi_setconn (normalised: "unix:" becomes "local:").
  std::string libmilter;
};

Result<SocketSpec> parse_socket(std::string_view text);

}  // namespace policy
