#include "smime/mime.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include <gmime/gmime.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "smime/gobj.h"
#include "smime/ossl.h"

namespace smime {

namespace {

using policy::Errc;
using policy::unexpected;

// RFC 5322 2.1.1: lines must be shorter than 998 octets (without CRLF).
constexpr std::size_t kMaxLine = 998;

struct FormatOptionsFree {
  void operator()(GMimeFormatOptions* o) const noexcept { ::g_mime_format_options_free(o); }
};
using FormatOptions = std::unique_ptr<GMimeFormatOptions, FormatOptionsFree>;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// RFC 5322 3.6.8 field name (printable ASCII but colon), tolerating the obsolete
// white space before the colon (RFC 5322 4.5.8); "" when invalid (e.g. an mbox From_ line).
std::string_view field_name(std::string_view raw) {
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  const bool ok = std::all_of(raw.begin(), raw.end(), [](char c) { return c > 32 && c < 127; });
  return ok ? raw : std::string_view();
}

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0x80U) != 0; });
}

// True when LF-form content cannot travel as 7bit unchanged: 8-bit octets, NUL, a CR,
// a line of 998 octets or more, or a "From " line that mbox-style relays mangle.
bool needs_transfer_encoding(std::string_view s) {
  std::size_t line_start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      const std::string_view line = s.substr(line_start, i - line_start);
      if (line.size() >= kMaxLine || line.starts_with("From ")) {
        return true;
      }
      line_start = i + 1;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0 || c == '\r' || c >= 0x80) {
      return true;
    }
  }
  return false;
}

std::string stream_bytes(GMimeStream* stream) {
  GByteArray* bytes = ::g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// Replaces a text leaf's content by its quoted-printable form with "From " line
// starts armoured as "=46rom " (mbox-style relays would turn them into ">From ").
policy::Status set_quoted_printable(GMimePart* part, const std::string& raw) {
  GPtr<GMimeStream> encoded(::g_mime_stream_mem_new());
  {
    GPtr<GMimeStream> filtered(::g_mime_stream_filter_new(encoded.get()));
    GPtr<GMimeFilter> qp(::g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, TRUE));
    ::g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), qp.get());
    if (::g_mime_stream_write(filtered.get(), raw.data(), raw.size()) < 0 ||
        ::g_mime_stream_flush(filtered.get()) != 0) {
      return unexpected(Errc::kInternal, "quoted-printable encoding failed");
    }
  }
  std::string text = stream_bytes(encoded.get());
  for (std::size_t pos = 0; pos < text.size(); pos = text.find('\n', pos) + 1) {
    if (std::string_view(text).substr(pos).starts_with("From ")) {
      text.replace(pos, 1, "=46");
    }
    if (text.find('\n', pos) == std::string::npos) {
      break;
    }
  }
  GPtr<GMimeStream> armoured(::g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  GPtr<GMimeDataWrapper> wrapper(::g_mime_data_wrapper_new_with_stream(
      armoured.get(), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE));
  ::g_mime_part_set_content(part, wrapper.get());
  ::g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return {};
}

// The content as it stands in the message (still transfer-encoded).
std::string raw_content(GMimeDataWrapper* content) {
  GMimeStream* stream = ::g_mime_data_wrapper_get_stream(content);  // borrowed
  GPtr<GMimeStream> mem(::g_mime_stream_mem_new());
  if (stream == nullptr || ::g_mime_stream_reset(stream) != 0 ||
      ::g_mime_stream_write_to_stream(stream, mem.get()) < 0) {
    return {};
  }
  ::g_mime_stream_reset(stream);
  return stream_bytes(mem.get());
}

void set_base64(GMimePart* part, const std::string& decoded) {
  GPtr<GMimeStream> stream(::g_mime_stream_mem_new_with_buffer(decoded.data(), decoded.size()));
  GPtr<GMimeDataWrapper> wrapper(
      ::g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  ::g_mime_part_set_content(part, wrapper.get());
  ::g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
}

// Re-encodes one leaf so it is 7-bit safe (RFC 8551 3.1.2: 7-bit for signed data).
// Parts already in base64/QP are kept as written unless their encoded form itself
// breaks the rules (8-bit octets, lines of 998+ octets, bare "From ").
policy::Status make_leaf_7bit(GMimePart* part) {
  GMimeDataWrapper* content = ::g_mime_part_get_content(part);  // borrowed
  if (content == nullptr) {
    return {};
  }
  const GMimeContentEncoding enc = ::g_mime_part_get_content_encoding(part);
  const bool encoded = enc == GMIME_CONTENT_ENCODING_BASE64 ||
                       enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
                       enc == GMIME_CONTENT_ENCODING_UUENCODE;
  if (encoded && !needs_transfer_encoding(raw_content(content))) {
    return {};
  }
  GPtr<GMimeStream> mem(::g_mime_stream_mem_new());
  if (::g_mime_data_wrapper_write_to_stream(content, mem.get()) < 0) {
    return unexpected(Errc::kMalformedInput, "cannot read the content of a MIME part");
  }
  const std::string decoded = stream_bytes(mem.get());
  if (!encoded && !needs_transfer_encoding(decoded)) {
    return {};
  }
  GMimeContentType* type = ::g_mime_object_get_content_type(GMIME_OBJECT(part));  // borrowed
  if (type != nullptr && ::g_mime_content_type_is_type(type, "text", "*")) {
    return set_quoted_printable(part, decoded);
  }
  set_base64(part, decoded);
  return {};
}

struct Walk {
  const Limits& limits;
  std::size_t parts = 0;
};

policy::Status canonicalise(GMimeObject* object, std::size_t depth, Walk& walk) {
  if (depth > walk.limits.max_mime_depth) {
    return unexpected(Errc::kLimitExceeded,
                      "MIME nesting deeper than " + std::to_string(walk.limits.max_mime_depth));
  }
  if (++walk.parts > walk.limits.max_mime_parts) {
    return unexpected(Errc::kLimitExceeded,
                      "more than " + std::to_string(walk.limits.max_mime_parts) + " MIME parts");
  }
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    // Preamble and epilogue are not part of any body part and relays rewrite them.
    ::g_mime_multipart_set_prologue(multipart, nullptr);
    ::g_mime_multipart_set_epilogue(multipart, nullptr);
    const int count = ::g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) {
      auto st = canonicalise(::g_mime_multipart_get_part(multipart, i), depth + 1, walk);
      if (!st) {
        return st;
      }
    }
    return {};
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = ::g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner == nullptr || ::g_mime_message_get_mime_part(inner) == nullptr) {
      return {};
    }
    return canonicalise(::g_mime_message_get_mime_part(inner), depth + 1, walk);
  }
  if (GMIME_IS_PART(object)) {
    return make_leaf_7bit(GMIME_PART(object));
  }
  return {};
}

policy::Status check_line_lengths(std::string_view crlf) {
  std::size_t start = 0;
  while (start < crlf.size()) {
    std::size_t end = crlf.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = crlf.size();
    }
    if (end - start >= kMaxLine) {
      return unexpected(Errc::kInvalidArgument,
                        "a Content-* header line of the entity is 998 octets or longer");
    }
    start = end + 2;
  }
  return {};
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

// CRLF -> LF (a lone CR stays). Copies whole runs between CRLFs.
std::string to_lf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t cr = s.find("\r\n"); cr != std::string_view::npos; cr = s.find("\r\n", pos)) {
    out.append(s.substr(pos, cr - pos));
    pos = cr + 1;  // the LF starts the next run; the CR is dropped
  }
  out.append(s.substr(pos));
  return out;
}

// Lone LF -> CRLF (existing CRLF and lone CR kept). Copies whole runs between lone LFs,
// into a buffer reserved once for the worst case.
std::string lf_to_crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + count_byte(s, '\n'));
  std::size_t pos = 0;
  for (std::size_t lf = s.find('\n'); lf != std::string_view::npos; lf = s.find('\n', lf + 1)) {
    if (lf == 0 || s[lf - 1] != '\r') {
      out.append(s.substr(pos, lf - pos));
      out += "\r\n";
      pos = lf + 1;
    }
  }
  out.append(s.substr(pos));
  return out;
}

// Occurrences of lowercase `needle` in `hay`, folding ASCII letters only (no tolower,
// no locale), without copying `hay`: memchr for the first byte in either case, then a
// comparison of the rest.
std::size_t count_ci(std::string_view hay, std::string_view needle) {
  if (needle.empty()) {
    return hay.size();
  }
  if (hay.size() < needle.size()) {
    return 0;
  }
  const auto fold = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  };
  const char lo_first = needle.front();
  const char up_first =
      (lo_first >= 'a' && lo_first <= 'z') ? static_cast<char>(lo_first - ('a' - 'A')) : lo_first;
  constexpr std::size_t kNone = std::string_view::npos;
  const std::size_t last = hay.size() - needle.size();
  std::size_t lo = hay.find(lo_first);
  std::size_t up = up_first == lo_first ? kNone : hay.find(up_first);
  std::size_t n = 0;
  for (std::size_t i = std::min(lo, up); i != kNone && i <= last; i = std::min(lo, up)) {
    std::size_t j = 0;
    while (j < needle.size() && fold(hay[i + j]) == needle[j]) {
      ++j;
    }
    n += j == needle.size() ? 1U : 0U;
    if (i == lo) {
      lo = hay.find(lo_first, i + 1);
    } else {
      up = hay.find(up_first, i + 1);
    }
  }
  return n;
}

void mime_init() {
  static std::once_flag once;
  std::call_once(once, [] { ::g_mime_init(); });
}

policy::Result<SplitMessage> split_message(std::string_view message, const Limits& limits) {
  if (message.empty()) {
    return unexpected(Errc::kMalformedInput, "empty message");
  }
  if (message.size() > limits.max_message_bytes) {
    return unexpected(Errc::kLimitExceeded, "message of " + std::to_string(message.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(limits.max_message_bytes));
  }
  const std::string lf = to_lf(message);
  std::size_t header_end = lf.find("\n\n");
  std::size_t body_start = 0;
  if (lf.starts_with("\n")) {
    header_end = 0;
    body_start = 1;
  } else if (header_end == std::string::npos) {
    header_end = lf.size();
    body_start = lf.size();
  } else {
    header_end += 1;  // keep the last header's LF
    body_start = header_end + 1;
  }
  if (header_end > limits.max_header_bytes) {
    return unexpected(Errc::kLimitExceeded, "header block exceeds the limit of " +
                                                std::to_string(limits.max_header_bytes) + " bytes");
  }
  SplitMessage out;
  std::string dropped;  // MIME-Version and its continuation lines: we write our own
  std::string* current = nullptr;
  std::size_t pos = 0;
  while (pos < header_end) {
    std::size_t eol = lf.find('\n', pos);
    if (eol == std::string::npos || eol > header_end) {
      eol = header_end;
    }
    const std::string_view line(lf.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.starts_with(" ") || line.starts_with("\t")) {
      if (current == nullptr) {
        return unexpected(Errc::kMalformedInput, "message starts with a continuation line");
      }
    } else {
      const std::size_t colon = line.find(':');
      const std::string_view name =
          colon == std::string_view::npos ? std::string_view() : field_name(line.substr(0, colon));
      if (name.empty()) {
        return unexpected(Errc::kMalformedInput, "header line without a valid field name");
      }
      current = iequals(name, "MIME-Version")    ? &dropped
                : istarts_with(name, "Content-") ? &out.content_headers
                                                 : &out.outer_headers;
    }
    current->append(line);
    current->append("\r\n");
  }
  out.body = lf_to_crlf(std::string_view(lf).substr(std::min(body_start, lf.size())));
  return out;
}

std::string header_value(std::string_view headers, std::string_view name) {
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t eol = headers.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      eol = headers.size();
    }
    const std::string_view line = headers.substr(pos, eol - pos);
    pos = eol + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !iequals(field_name(line.substr(0, colon)), name)) {
      continue;
    }
    std::string value(line.substr(colon + 1));
    while (pos < headers.size() && (headers[pos] == ' ' || headers[pos] == '\t')) {
      std::size_t next = headers.find("\r\n", pos);
      if (next == std::string_view::npos) {
        next = headers.size();
      }
      value.append(headers.substr(pos, next - pos));
      pos = next + 2;
    }
    const std::size_t first = value.find_first_not_of(" \t");
    return first == std::string::npos ? std::string() : value.substr(first);
  }
  return {};
}

TopLevel top_level_kind(const SplitMessage& message) {
  const std::string type = lower(header_value(message.content_headers, "Content-Type"));
  const std::string disposition =
      lower(header_value(message.content_headers, "Content-Disposition"));
  if (type.starts_with("multipart/signed")) {
    return TopLevel::kSigned;
  }
  const bool pkcs7 =
      type.starts_with("application/pkcs7-mime") || type.starts_with("application/x-pkcs7-mime");
  const bool named_p7m = type.starts_with("application/octet-stream") &&
                         (type.find("smime.p7m") != std::string::npos ||
                          disposition.find("smime.p7m") != std::string::npos);
  if (!pkcs7 && !named_p7m) {
    return TopLevel::kPlain;
  }
  if (type.find("signed-data") != std::string::npos ||
      type.find("certs-only") != std::string::npos) {
    return TopLevel::kSigned;
  }
  return TopLevel::kEncrypted;  // enveloped, authEnveloped, or unlabelled p7m
}

policy::Result<std::string> canonical_entity(const SplitMessage& message, const Limits& limits) {
  mime_init();
  std::string headers = to_lf(message.content_headers);
  const std::string body = to_lf(message.body);
  if (header_value(message.content_headers, "Content-Type").empty()) {
    headers.insert(0, has_8bit(body) ? "Content-Type: text/plain; charset=utf-8\n"
                                     : "Content-Type: text/plain; charset=us-ascii\n");
  }
  const std::string entity = headers + "\n" + body;
  // Every container announces itself with a boundary or as message/rfc822: an upper
  // bound on the parts GMime would build, checked before it recurses.
  if (count_ci(entity, "boundary=") + count_ci(entity, "message/rfc822") > limits.max_mime_parts) {
    return unexpected(Errc::kLimitExceeded,
                      "more than " + std::to_string(limits.max_mime_parts) + " MIME parts");
  }
  GPtr<GMimeStream> in(::g_mime_stream_mem_new_with_buffer(entity.data(), entity.size()));
  GPtr<GMimeParser> parser(::g_mime_parser_new_with_stream(in.get()));
  GPtr<GMimeObject> root(::g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root) {
    return unexpected(Errc::kMalformedInput, "the message body is not parseable MIME");
  }
  Walk walk{limits};
  if (auto st = canonicalise(root.get(), 0, walk); !st) {
    return st.error();
  }
  FormatOptions format(::g_mime_format_options_new());
  ::g_mime_format_options_set_newline_format(format.get(), GMIME_NEWLINE_FORMAT_DOS);
  GPtr<GMimeStream> out(::g_mime_stream_mem_new());
  if (::g_mime_object_write_to_stream(root.get(), format.get(), out.get()) < 0) {
    return unexpected(Errc::kInternal, "cannot serialise the canonical entity");
  }
  std::string canonical = lf_to_crlf(stream_bytes(out.get()));
  if (auto st = check_line_lengths(canonical); !st) {
    return st.error();
  }
  return canonical;
}

std::string plain_entity(const SplitMessage& message) {
  std::string headers = message.content_headers;
  if (header_value(headers, "Content-Type").empty()) {
    headers.insert(0, has_8bit(message.body) ? "Content-Type: text/plain; charset=utf-8\r\n"
                                             : "Content-Type: text/plain; charset=us-ascii\r\n");
  }
  return headers + "\r\n" + message.body;
}

std::string base64_lines(std::string_view data) {
  constexpr std::size_t kChunk = 57;  // 57 octets -> 76 characters
  std::string out;
  out.reserve(data.size() * 4 / 3 + data.size() / 20 + 8);
  unsigned char buf[80];
  for (std::size_t pos = 0; pos < data.size(); pos += kChunk) {
    const std::size_t n = std::min(kChunk, data.size() - pos);
    const int len = ::EVP_EncodeBlock(
        buf, reinterpret_cast<const unsigned char*>(data.data() + pos), static_cast<int>(n));
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
    out.append("\r\n");
  }
  return out;
}

std::string make_boundary(std::string_view content) {
  for (;;) {
    unsigned char rnd[12];
    if (::RAND_bytes(rnd, sizeof rnd) != 1) {
      std::fill(std::begin(rnd), std::end(rnd), static_cast<unsigned char>(content.size() & 0xffU));
    }
    std::string boundary = "----=_smime_" + ossl::hex(rnd, sizeof rnd);
    if (content.find(boundary) == std::string_view::npos) {
      return boundary;
    }
  }
}

std::string build_multipart_signed(std::string_view outer_headers, std::string_view entity,
                                   std::string_view signature_der, std::string_view micalg) {
  const std::string boundary = make_boundary(entity);
  std::string out(outer_headers);
  out.append("MIME-Version: 1.0\r\n");
  out.append("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n");
  out.append(" micalg=").append(micalg).append("; boundary=\"").append(boundary).append("\"\r\n");
  out.append("\r\nThis is a cryptographically signed message in MIME format.\r\n\r\n");
  out.append("--").append(boundary).append("\r\n");
  out.append(entity);
  // RFC 2046 5.1.1: the CRLF before a boundary belongs to the boundary, so the signed
  // content is exactly `entity`.
  out.append("\r\n--").append(boundary).append("\r\n");
  out.append("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n");
  out.append("Content-Transfer-Encoding: base64\r\n");
  out.append("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n");
  out.append("Content-Description: S/MIME Cryptographic Signature\r\n\r\n");
  out.append(base64_lines(signature_der));
  out.append("\r\n--").append(boundary).append("--\r\n");
  return out;
}

std::string build_pkcs7_mime(std::string_view outer_headers, std::string_view der,
                             std::string_view smime_type) {
  std::string out(outer_headers);
  out.append("MIME-Version: 1.0\r\n");
  out.append("Content-Type: application/pkcs7-mime; smime-type=").append(smime_type);
  out.append(";\r\n name=\"smime.p7m\"\r\n");
  out.append("Content-Disposition: attachment; filename=\"smime.p7m\"\r\n");
  out.append("Content-Transfer-Encoding: base64\r\n\r\n");
  out.append(base64_lines(der));
  return out;
}

}  // namespace smime
