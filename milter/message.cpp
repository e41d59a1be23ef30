#include "milter/message.h"

#include <cctype>

namespace milter {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string strip_angle_brackets(std::string_view address) {
  while (!address.empty() && std::isspace(static_cast<unsigned char>(address.front())) != 0) {
    address.remove_prefix(1);
  }
  while (!address.empty() && std::isspace(static_cast<unsigned char>(address.back())) != 0) {
    address.remove_suffix(1);
  }
  if (address.size() >= 2 && address.front() == '<') {
    const auto close = address.find('>');
    if (close != std::string_view::npos) {
      return std::string(address.substr(1, close - 1));
    }
  }
  return std::string(address);
}

std::string Message::first_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) {
      std::string_view v = h.value;
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
        v.remove_prefix(1);
      }
      return std::string(v);
    }
  }
  return {};
}

namespace {
// Appends `text` converting bare LF (and bare CR) to CRLF.
void append_crlf(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
}
}  // namespace

std::string Message::serialize_headers() const {
  std::string out;
  for (const auto& h : headers) {
    out += h.name;
    out += ':';
    append_crlf(out, h.value);
    out += "\r\n";
  }
  return out;
}

policy::Result<std::string> Message::serialize() const {
  std::string out = serialize_headers();
  out += "\r\n";
  if (body != nullptr) {
    auto b = body->contents();
    if (!b) {
      return std::move(b).error();
    }
    out += *b;  // the MTA hands the body over with CRLF line ends already
  }
  return out;
}

}  // namespace milter
