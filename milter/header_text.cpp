// RFC 2047 decoding of header values for policy matching; see header_text.h.
#include "milter/header_text.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include <glib.h>
#include <gmime/gmime.h>

#include "smime/mime.h"

namespace milter {
namespace {

struct GFree {
  void operator()(char* p) const noexcept { ::g_free(p); }
};
using GChars = std::unique_ptr<char, GFree>;

// `v` without CR, LF and NUL.
std::string without_line_breaks(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c != '\r' && c != '\n' && c != '\0') {
      out += c;
    }
  }
  return out;
}

std::string trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  return std::string(v);
}

}  // namespace

std::string decode_header_text(std::string_view raw) {
  const std::string unfolded = trim(without_line_breaks(raw));
  if (unfolded.empty()) {
    return {};
  }
  // Nothing to decode (most values): ASCII without an encoded word.
  const bool eight_bit = std::any_of(unfolded.begin(), unfolded.end(), [](char ch) {
    return static_cast<unsigned char>(ch) >= 0x80;
  });
  if (!eight_bit && unfolded.find("=?") == std::string::npos) {
    return unfolded;
  }
  smime::mime_init();
  // nullptr options: GMime's defaults (lenient RFC 2047, fallback charsets UTF-8 then
  // ISO-8859-1); the result is a newly allocated UTF-8 string.
  const GChars decoded(::g_mime_utils_header_decode_text(nullptr, unfolded.c_str()));
  if (!decoded) {
    return unfolded;
  }
  return trim(without_line_breaks(decoded.get()));
}

std::string encode_header_text(std::string_view text) {
  const std::string clean = without_line_breaks(text);
  const bool eight_bit = std::any_of(
      clean.begin(), clean.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
  if (!eight_bit) {
    return clean;
  }
  smime::mime_init();
  // nullptr options: GMime's default format options; charset utf-8 (the decoded text is
  // UTF-8). The result may be folded with CRLF + space, which the milter may send as is.
  const GChars encoded(::g_mime_utils_header_encode_text(nullptr, clean.c_str(), "utf-8"));
  if (!encoded) {
    return clean;
  }
  return trim(without_line_breaks(encoded.get()));
}

}  // namespace milter
