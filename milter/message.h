// One message as the milter saw it: connection facts, macros, envelope, headers (in
// order, duplicates kept, raw values) and the body spool. Built by Session; read by
// the Pipeline. Thread-safety: one owner.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "milter/spool.h"
#include "policy/result.h"

namespace milter {

// Milter macros by their libmilter names: "i", "{auth_authen}", "{daemon_name}" ...
using Macros = std::map<std::string, std::string, std::less<>>;

struct Header {
  std::string name;
  // Raw value: everything after the colon, leading whitespace and folding kept.
  std::string value;
};

struct Envelope {
  std::string client_host;
  std::string client_addr;
  std::string queue_id;                 // macro i
  std::string auth_authen;              // macro {auth_authen}: SMTP AUTH login, empty if none
  std::string daemon_name;              // macro {daemon_name}: e.g. "ORIGINATING" on submission
  std::string sender;                   // MAIL FROM address, angle brackets removed
  std::vector<std::string> recipients;  // RCPT TO addresses, angle brackets removed
};

struct Message {
  Envelope envelope;
  std::vector<Header> headers;
  const BodySpool* body = nullptr;  // owned by the Session

  // Value of the first header called `name` (case-insensitive), leading space trimmed.
  std::string first_header(std::string_view name) const;
  // The message as RFC 5322 text with CRLF line ends (headers, blank line, body).
  policy::Result<std::string> serialize() const;
  // The header block alone: each field ending in CRLF, no blank line after it.
  std::string serialize_headers() const;
};

// "<a@b>" -> "a@b"; also trims surrounding whitespace.
std::string strip_angle_brackets(std::string_view address);
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace milter
