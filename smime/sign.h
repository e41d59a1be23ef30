// S/MIME signing (RFC 8551 3.5): a full RFC 5322 message in, the signed message out.
// Default is a detached signature in multipart/signed (best handled by Outlook); opaque
// application/pkcs7-mime; smime-type=signed-data on request. The signed entity is the
// original body with its Content-* headers, made 7-bit and CRLF canonical first (see
// mime.h) so relays and 8BITMIME downgrades cannot break it. Signed attributes: content
// type, message digest, signing time, SMIMECapabilities, encryption key preference.
// The signer certificate and its intermediates (never a self-signed root) travel along.
// Ownership: the Credential is borrowed. Thread-safety: reentrant.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "policy/result.h"
#include "smime/interfaces.h"
#include "smime/limits.h"
#include "smime/temp_file.h"

namespace smime {

enum class Digest { kSha256, kSha384, kSha512 };
enum class RsaPadding { kPkcs1v15, kPss };

struct SignOptions {
  Digest digest = Digest::kSha256;
  RsaPadding rsa_padding = RsaPadding::kPkcs1v15;  // PSS is shown invalid by many clients
  bool opaque = false;                             // signed-data instead of multipart/signed
  Limits limits;
};

// message = full RFC 5322 message (headers+body, LF or CRLF). Returns the full signed
// message with CRLF line ends. Errors:
//   kConflict              the message is already S/MIME signed or encrypted (not wrapped again)
//   kUnsupportedAlgorithm  key type this OpenSSL cannot use in CMS (e.g. Ed25519 on 3.0)
//   kInvalidArgument       no certificate/key, key does not match the certificate
//   kMalformedInput / kLimitExceeded  for the message, as mime.h describes
policy::Result<std::string> sign_message(std::string_view message, const Credential& signer,
                                         const SignOptions& options = {});

// sign_message() for a message whose body lives in a file (the milter's spool):
// `headers` is the header block (CRLF fields, no blank line), `body_fd` the body (CRLF
// line ends; read with pread, its offset is not used). The result is the signed
// message as its header block and a new body file in `tmpdir`: byte for byte what
// sign_message() makes of headers + CRLF + body (but for the random boundary), with
// memory that does not grow with the body (see canonical_entity_file for the one
// exception). Detached signatures only (options.opaque: kInvalidArgument). Same errors
// as sign_message, plus kIo when a file cannot be written or read.
policy::Result<FileMessage> sign_file(std::string_view headers, int body_fd,
                                      const Credential& signer, const SignOptions& options,
                                      const std::filesystem::path& tmpdir);

// RFC 8551 3.5.3.2 micalg name: "sha-256", "sha-384", "sha-512".
std::string_view micalg_name(Digest digest);

}  // namespace smime
