// Raw MIME splitting for verification and decryption. A detached signature covers the
// exact bytes of the first body part (RFC 8551 3.5.3), so this parser never
// re-serialises: every entity is a view into the caller's buffer, and multipart bodies
// are split on delimiter lines (RFC 2046 5.1.1) into exact byte ranges. Preamble and
// epilogue are excluded. Bare-LF input is accepted; to_crlf() canonicalises.
// Ownership: views borrow the input, which must outlive them.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "smime/limits.h"

namespace smime {

struct RawEntity {
  std::string_view raw;     // the whole entity exactly as in the input
  std::string_view header;  // header block without the separating blank line
  std::string_view body;    // everything after the blank line
  std::string type;         // "type/subtype", lowercased; "text/plain" when absent
  std::string boundary;     // multipart boundary parameter (case preserved)
  std::string protocol;     // lowercased
  std::string smime_type;   // lowercased smime-type parameter
  std::string name;         // Content-Type name or Content-Disposition filename, lowercased
  std::string encoding;     // Content-Transfer-Encoding, lowercased ("" when absent)
};

// Splits headers from body and reads the Content-* fields. A first line that is not a
// header line means "no headers" (the body starts there). kLimitExceeded when the
// header block is larger than limits.max_header_bytes.
policy::Result<RawEntity> parse_raw_entity(std::string_view raw, const Limits& limits);

// The body parts of a multipart entity as exact byte ranges. A missing closing
// delimiter is tolerated (the last part runs to the end); a missing boundary parameter
// or no delimiter line at all is kMalformedInput.
policy::Result<std::vector<std::string_view>> split_multipart(const RawEntity& entity);

// Body with its Content-Transfer-Encoding removed (base64, quoted-printable, identity).
// Bad base64 is kMalformedInput.
policy::Result<std::string> decode_body(const RawEntity& entity);

// Every line ending (LF, CRLF, lone CR) becomes CRLF.
std::string to_crlf(std::string_view text);

// First occurrence of a header field (case-insensitive name), unfolded and trimmed.
std::optional<std::string> raw_header_value(std::string_view header_block, std::string_view name);

// The message's header fields that are not Content-* or MIME-Version, as one block
// ending in CRLF (used when a decrypted or unwrapped entity replaces the body).
std::string outer_headers(std::string_view header_block);

// True for application/(x-)pkcs7-mime, or octet-stream named *.p7m.
bool is_pkcs7_mime(const RawEntity& e);
// True for application/(x-)pkcs7-signature, or octet-stream named *.p7s.
bool is_pkcs7_signature(const RawEntity& e);
// True when the data looks like a bare DER ContentInfo (no MIME headers at all).
bool looks_like_der(std::string_view data);

}  // namespace smime
