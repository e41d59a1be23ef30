#include "smime/parse_mime.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>

namespace smime {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Line at `pos` without its terminator; `next` receives the start of the next line.
std::string_view line_at(std::string_view s, std::size_t pos, std::size_t& next) {
  const std::size_t nl = s.find('\n', pos);
  std::size_t end = nl == std::string_view::npos ? s.size() : nl;
  next = nl == std::string_view::npos ? s.size() : nl + 1;
  if (end > pos && s[end - 1] == '\r') {
    --end;
  }
  return s.substr(pos, end - pos);
}

bool is_header_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) {
    return false;
  }
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c <= 32 || c >= 127) {
      return false;
    }
  }
  return true;
}

// Parameters of a structured field value ("a/b; k=v; k2=\"q\""), names lowercased.
std::vector<std::pair<std::string, std::string>> parse_params(std::string_view v,
                                                              std::string& main_value) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t i = 0;
  const std::size_t semi = v.find(';');
  main_value = lower(trim(v.substr(0, semi)));
  if (semi == std::string_view::npos) {
    return params;
  }
  i = semi + 1;
  while (i < v.size()) {
    const std::size_t eq = v.find('=', i);
    if (eq == std::string_view::npos) {
      break;
    }
    std::string name = lower(trim(v.substr(i, eq - i)));
    std::size_t j = eq + 1;
    while (j < v.size() && (v[j] == ' ' || v[j] == '\t')) {
      ++j;
    }
    std::string value;
    if (j < v.size() && v[j] == '"') {
      ++j;
      while (j < v.size() && v[j] != '"') {
        if (v[j] == '\\' && j + 1 < v.size()) {
          ++j;
        }
        value.push_back(v[j]);
        ++j;
      }
      const std::size_t after = v.find(';', j);
      i = after == std::string_view::npos ? v.size() : after + 1;
    } else {
      const std::size_t after = v.find(';', j);
      value = std::string(
          trim(v.substr(j, after == std::string_view::npos ? std::string_view::npos : after - j)));
      i = after == std::string_view::npos ? v.size() : after + 1;
    }
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

std::string param(const std::vector<std::pair<std::string, std::string>>& ps,
                  std::string_view name) {
  for (const auto& [k, v] : ps) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

policy::Result<std::string> decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      continue;
    }
    if (c == '=') {
      break;  // padding: the rest carries no data
    }
    const int v = b64_value(c);
    if (v < 0) {
      return policy::unexpected(policy::Errc::kMalformedInput,
                                "bad base64: invalid character in body");
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  if (bits >= 6) {
    return policy::unexpected(policy::Errc::kMalformedInput, "bad base64: truncated final quantum");
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

std::string decode_qp(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {  // soft line break
      i += (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') ? 2U : 1U;
      continue;
    }
    if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
      continue;
    }
    out.push_back('=');  // lenient, like most readers
  }
  return out;
}

// True when the line starting at `pos` is "--boundary" [ "--" ] [ whitespace ].
bool is_delimiter(std::string_view line, std::string_view boundary, bool& closing) {
  if (line.size() < boundary.size() + 2 || line.substr(0, 2) != "--" ||
      line.substr(2, boundary.size()) != boundary) {
    return false;
  }
  std::string_view rest = line.substr(2 + boundary.size());
  closing = rest.substr(0, 2) == "--";
  if (closing) {
    rest.remove_prefix(2);
  }
  return trim(rest).empty();
}

// Occurrences of byte `c` in `s`, one memchr per occurrence (std::count is a byte loop).
std::size_t count_byte(std::string_view s, char c) {
  std::size_t n = 0;
  for (std::size_t i = s.find(c); i != std::string_view::npos; i = s.find(c, i + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

policy::Result<RawEntity> parse_raw_entity(std::string_view raw, const Limits& limits) {
  RawEntity e;
  e.raw = raw;
  std::size_t pos = 0;
  std::size_t body_start = 0;
  bool first = true;
  while (pos < raw.size()) {
    std::size_t next = 0;
    const std::string_view line = line_at(raw, pos, next);
    if (line.empty()) {  // the blank line separating headers from body
      body_start = next;
      break;
    }
    const bool continuation = !first && (line.front() == ' ' || line.front() == '\t');
    if (!continuation && !is_header_line(line)) {
      body_start = pos;  // no (more) headers: the body starts here
      break;
    }
    first = false;
    pos = next;
    body_start = pos;
  }
  e.header = raw.substr(0, std::min(body_start, raw.size()));
  if (e.header.size() > limits.max_header_bytes) {
    return policy::unexpected(policy::Errc::kLimitExceeded,
                              "header block of " + std::to_string(e.header.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(limits.max_header_bytes));
  }
  // Trim the separating blank line off the header view.
  while (!e.header.empty() && (e.header.back() == '\n' || e.header.back() == '\r')) {
    e.header.remove_suffix(1);
  }
  e.body = raw.substr(std::min(body_start, raw.size()));
  std::string main;
  const auto ct = raw_header_value(e.header, "Content-Type");
  const auto ct_params = parse_params(ct.value_or(""), main);
  e.type = main.empty() ? "text/plain" : main;
  e.boundary = param(ct_params, "boundary");
  e.protocol = lower(param(ct_params, "protocol"));
  e.smime_type = lower(param(ct_params, "smime-type"));
  e.name = lower(param(ct_params, "name"));
  std::string disp;
  const auto cd_params =
      parse_params(raw_header_value(e.header, "Content-Disposition").value_or(""), disp);
  if (const std::string fn = param(cd_params, "filename"); !fn.empty()) {
    e.name = lower(fn);
  }
  e.encoding = lower(trim(raw_header_value(e.header, "Content-Transfer-Encoding").value_or("")));
  return e;
}

policy::Result<std::vector<std::string_view>> split_multipart(const RawEntity& entity) {
  if (entity.boundary.empty()) {
    return policy::unexpected(policy::Errc::kMalformedInput,
                              entity.type + " has no boundary parameter");
  }
  const std::string_view body = entity.body;
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  std::size_t part_start = std::string_view::npos;
  bool closed = false;
  while (pos < body.size()) {
    std::size_t next = 0;
    const std::string_view line = line_at(body, pos, next);
    bool closing = false;
    if (is_delimiter(line, entity.boundary, closing)) {
      if (part_start != std::string_view::npos) {
        // The line break before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
        std::size_t end = pos;
        if (end > part_start && body[end - 1] == '\n') {
          --end;
          if (end > part_start && body[end - 1] == '\r') {
            --end;
          }
        }
        parts.push_back(body.substr(part_start, end - part_start));
      }
      if (closing) {
        closed = true;
        break;
      }
      part_start = next;
    }
    pos = next;
  }
  if (!closed && part_start != std::string_view::npos) {
    parts.push_back(body.substr(std::min(part_start, body.size())));  // missing close delimiter
  }
  if (parts.empty()) {
    return policy::unexpected(
        policy::Errc::kMalformedInput,
        entity.type + ": no delimiter line for boundary \"" + entity.boundary + "\"");
  }
  return parts;
}

policy::Result<std::string> decode_body(const RawEntity& entity) {
  if (entity.encoding == "base64") {
    return decode_base64(entity.body);
  }
  if (entity.encoding == "quoted-printable") {
    return decode_qp(entity.body);
  }
  return std::string(entity.body);
}

std::string to_crlf(std::string_view text) {
  // Every CR, LF or CRLF becomes CRLF. Copies whole runs between line ends; the next CR
  // and the next LF are each searched once (memchr) and only moved forward, so the scan
  // stays linear however rare one of them is.
  constexpr std::size_t kNone = std::string_view::npos;
  std::string out;
  out.reserve(text.size() + count_byte(text, '\n') + count_byte(text, '\r'));
  std::size_t pos = 0;
  std::size_t cr = text.find('\r');
  std::size_t lf = text.find('\n');
  for (std::size_t end = std::min(cr, lf); end != kNone; end = std::min(cr, lf)) {
    out.append(text.substr(pos, end - pos));
    out += "\r\n";
    pos = end + 1;
    if (end == cr && pos < text.size() && text[pos] == '\n') {
      ++pos;
    }
    if (cr < pos) {
      cr = text.find('\r', pos);
    }
    if (lf < pos) {
      lf = text.find('\n', pos);
    }
  }
  out.append(text.substr(pos));
  return out;
}

std::optional<std::string> raw_header_value(std::string_view header_block, std::string_view name) {
  std::size_t pos = 0;
  const std::string want = lower(name);
  while (pos < header_block.size()) {
    std::size_t next = 0;
    const std::string_view line = line_at(header_block, pos, next);
    pos = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.empty() || line.front() == ' ' ||
        line.front() == '\t' || lower(trim(line.substr(0, colon))) != want) {
      continue;
    }
    std::string value(line.substr(colon + 1));
    while (pos < header_block.size() && (header_block[pos] == ' ' || header_block[pos] == '\t')) {
      std::size_t cont_next = 0;
      value += ' ';
      value += trim(line_at(header_block, pos, cont_next));
      pos = cont_next;
    }
    return std::string(trim(value));
  }
  return std::nullopt;
}

std::string outer_headers(std::string_view header_block) {
  std::string out;
  std::size_t pos = 0;
  bool keep = false;
  while (pos < header_block.size()) {
    std::size_t next = 0;
    const std::string_view line = line_at(header_block, pos, next);
    pos = next;
    if (line.empty()) {
      continue;
    }
    if (line.front() != ' ' && line.front() != '\t') {
      const std::string name = lower(trim(line.substr(0, line.find(':'))));
      keep = name.rfind("content-", 0) != 0 && name != "mime-version";
    }
    if (keep) {
      out.append(line);
      out += "\r\n";
    }
  }
  return out;
}

bool is_pkcs7_mime(const RawEntity& e) {
  return e.type == "application/pkcs7-mime" || e.type == "application/x-pkcs7-mime" ||
         (e.type == "application/octet-stream" && ends_with(e.name, ".p7m"));
}

bool is_pkcs7_signature(const RawEntity& e) {
  return e.type == "application/pkcs7-signature" || e.type == "application/x-pkcs7-signature" ||
         (e.type == "application/octet-stream" && ends_with(e.name, ".p7s"));
}

bool looks_like_der(std::string_view data) {
  // SEQUENCE with a definite long-form or indefinite length, then the contentType OID.
  return data.size() > 4 && static_cast<unsigned char>(data[0]) == 0x30U &&
         (static_cast<unsigned char>(data[1]) >= 0x80U);
}

}  // namespace smime
