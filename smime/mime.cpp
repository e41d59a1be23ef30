#include "smime/mime.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include <gmime/gmime.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "smime/gobj.h"
#include "smime/mime_detail.h"
#include "smime/ossl.h"

namespace smime {

namespace {

using policy::Errc;
using policy::unexpected;

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

}  // namespace

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

policy::Result<FileHead> split_file_head(std::string_view headers, int body_fd,
                                         const Limits& limits) {
  FileHead head;
  head.text = std::string(headers) + "\r\n";
  const std::uint64_t total = head.text.size() + file_size(body_fd);
  if (total > limits.max_message_bytes) {
    return unexpected(Errc::kLimitExceeded, "message of " + std::to_string(total) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(limits.max_message_bytes));
  }
  auto split = split_message(head.text, limits);
  if (!split) {
    return std::move(split).error();
  }
  head.split = std::move(*split);
  return head;
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

std::string plain_entity(const SplitMessage& message) {
  std::string headers = message.content_headers;
  if (header_value(headers, "Content-Type").empty()) {
    headers.insert(0, detail::has_8bit(message.body)
                          ? "Content-Type: text/plain; charset=utf-8\r\n"
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

std::string multipart_signed_headers(std::string_view outer_headers, std::string_view micalg,
                                     std::string_view boundary) {
  std::string out(outer_headers);
  out.append("MIME-Version: 1.0\r\n");
  out.append("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n");
  out.append(" micalg=").append(micalg).append("; boundary=\"").append(boundary).append("\"\r\n");
  return out;
}

std::string multipart_signed_opening(std::string_view boundary) {
  std::string out("This is a cryptographically signed message in MIME format.\r\n\r\n");
  out.append("--").append(boundary).append("\r\n");
  return out;
}

std::string multipart_signed_closing(std::string_view boundary, std::string_view signature_der) {
  // RFC 2046 5.1.1: the CRLF before a boundary belongs to the boundary, so the signed
  // content is exactly the entity before it.
  std::string out("\r\n--");
  out.append(boundary).append("\r\n");
  out.append("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n");
  out.append("Content-Transfer-Encoding: base64\r\n");
  out.append("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n");
  out.append("Content-Description: S/MIME Cryptographic Signature\r\n\r\n");
  out.append(base64_lines(signature_der));
  out.append("\r\n--").append(boundary).append("--\r\n");
  return out;
}

std::string build_multipart_signed(std::string_view outer_headers, std::string_view entity,
                                   std::string_view signature_der, std::string_view micalg) {
  const std::string boundary = make_boundary(entity);
  std::string out = multipart_signed_headers(outer_headers, micalg, boundary);
  out.append("\r\n");
  out.append(multipart_signed_opening(boundary));
  out.append(entity);
  out.append(multipart_signed_closing(boundary, signature_der));
  return out;
}

std::string pkcs7_mime_headers(std::string_view outer_headers, std::string_view smime_type) {
  std::string out(outer_headers);
  out.append("MIME-Version: 1.0\r\n");
  out.append("Content-Type: application/pkcs7-mime; smime-type=").append(smime_type);
  out.append(";\r\n name=\"smime.p7m\"\r\n");
  out.append("Content-Disposition: attachment; filename=\"smime.p7m\"\r\n");
  out.append("Content-Transfer-Encoding: base64\r\n");
  return out;
}

std::string build_pkcs7_mime(std::string_view outer_headers, std::string_view der,
                             std::string_view smime_type) {
  std::string out = pkcs7_mime_headers(outer_headers, smime_type);
  out.append("\r\n");
  out.append(base64_lines(der));
  return out;
}

}  // namespace smime
