// MIME plumbing for the S/MIME engine: GMime initialisation, splitting a message into
// its outer headers and the entity to protect, canonicalising that entity so a
// signature survives relays (RFC 8551 3.1.1-3.1.3), and assembling the multipart/signed
// and application/pkcs7-mime results. Bytes in, bytes out; no cryptography here.
// Ownership: every GMime object is held by GPtr inside the .cpp; nothing leaks out.
// Thread-safety: mime_init() is thread-safe (call it before any GMime use; the verify
// side calls it too); every other function is reentrant.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "policy/result.h"
#include "smime/limits.h"
#include "smime/temp_file.h"

namespace smime {

// Initialises GMime exactly once per process (g_mime_init). Safe from any thread.
void mime_init();

// A message cut at its header/body boundary. Line ends are already CRLF.
struct SplitMessage {
  // Every header field that is not Content-* or MIME-Version, byte for byte as given
  // (folded lines and RFC 2047 words untouched), each ending in CRLF.
  std::string outer_headers;
  // The Content-* header fields, verbatim, each ending in CRLF ("" when none).
  std::string content_headers;
  // Everything after the blank line that ends the header block (CRLF line ends).
  std::string body;
};

// Splits a full RFC 5322 message (LF or CRLF line ends). Checks the message and header
// size limits first. An empty message, or a header line that is neither a field nor a
// continuation, is Errc::kMalformedInput.
policy::Result<SplitMessage> split_message(std::string_view message, const Limits& limits);

// The header block of a message whose body is the file behind `body_fd` (sign_file,
// encrypt_file): `headers` + CRLF, split as split_message() splits it, after the
// message size limit of split_message() applied to the header block and the file.
struct FileHead {
  std::string text;    // headers + the blank line
  SplitMessage split;  // of `text`: outer and Content-* headers, empty body
};
policy::Result<FileHead> split_file_head(std::string_view headers, int body_fd,
                                         const Limits& limits);

// Value of the first header field called `name` (case-insensitive) in a CRLF header
// block, unfolded, without the name; std::nullopt-like "" when absent.
std::string header_value(std::string_view headers, std::string_view name);

// The S/MIME nature of a message's top-level entity, judged from its Content-Type
// (and the smime.p7m / smime.p7s names that some clients put on octet-stream).
// A minimal local detector: the verify module's detect.h classify() is the canonical one.
enum class TopLevel { kPlain, kSigned, kEncrypted };
TopLevel top_level_kind(const SplitMessage& message);

// The entity to sign: the Content-* headers plus the body, re-encoded so that it is
// 7-bit clean (8bit/binary/long-line leaves become quoted-printable for text/*, base64
// otherwise), CRLF canonical, no line of 998 octets or more, and with multipart
// preambles and epilogues dropped (RFC 8551 3.1.1; Outlook rejects a signed epilogue).
// Missing Content-Type becomes text/plain with us-ascii, or utf-8 when the body has
// 8-bit octets. Enforces the depth and part-count limits.
policy::Result<std::string> canonical_entity(const SplitMessage& message, const Limits& limits);

// canonical_entity() of `content_headers` (verbatim Content-* fields, CRLF) and the
// body in the file behind `body_fd` (CRLF), appended to `out`: the same bytes, with
// memory that does not grow with the body. Intermediate files go to `tmpdir`. A leaf
// that must be re-encoded (8-bit text, binary) is still re-encoded in memory.
policy::Status canonical_entity_file(std::string_view content_headers, int body_fd, TempFile& out,
                                     const std::filesystem::path& tmpdir, const Limits& limits);

// The entity to encrypt: Content-* headers plus body, untouched except for CRLF
// (a signed entity inside must not change, RFC 8551 3.7).
std::string plain_entity(const SplitMessage& message);

// Line-end and search helpers of canonical_entity (public for the tests).
// CRLF -> LF; a lone CR stays as it is.
std::string to_lf(std::string_view s);
// Lone LF -> CRLF; an existing CRLF and a lone CR stay as they are. (parse_mime.h's
// to_crlf() differs: it also turns a lone CR into CRLF.)
std::string lf_to_crlf(std::string_view s);
// Occurrences (overlapping) of the lower-case ASCII `needle` in `hay`, ASCII
// case-insensitively, whatever the locale. An empty needle counts hay.size().
std::size_t count_ci(std::string_view hay, std::string_view needle);

// Base64 in lines of 76 characters, each ending in CRLF.
std::string base64_lines(std::string_view data);

// A boundary that does not occur in `content`.
std::string make_boundary(std::string_view content);

// outer headers + MIME-Version + multipart/signed wrapping `entity` (verbatim) and the
// detached signature `signature_der` (RFC 8551 3.5.3). `micalg` e.g. "sha-256".
std::string build_multipart_signed(std::string_view outer_headers, std::string_view entity,
                                   std::string_view signature_der, std::string_view micalg);

// The pieces of build_multipart_signed(), for a body written to a file (sign_file):
// the header block (outer headers + MIME-Version + Content-Type, no blank line), the
// body up to and including the first boundary line, and everything after the entity.
std::string multipart_signed_headers(std::string_view outer_headers, std::string_view micalg,
                                     std::string_view boundary);
std::string multipart_signed_opening(std::string_view boundary);
std::string multipart_signed_closing(std::string_view boundary, std::string_view signature_der);

// The header block of build_pkcs7_mime() (no blank line), for encrypt_file.
std::string pkcs7_mime_headers(std::string_view outer_headers, std::string_view smime_type);

// outer headers + MIME-Version + application/pkcs7-mime; smime-type=<smime_type> carrying
// `der` as base64 smime.p7m (RFC 8551 3.2, 3.3, 3.5.2).
std::string build_pkcs7_mime(std::string_view outer_headers, std::string_view der,
                             std::string_view smime_type);

}  // namespace smime
