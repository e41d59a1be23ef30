// S/MIME signing (RFC 8551 3.5): a full RFC 5322 message in, the signed message out.
// Default is a detached signature in multipart/signed (best handled by Outlook); opaque
// application/pkcs7-mime; smime-type=signed-data on request. The signed entity is the
// original body with its Content-* headers, made 7-bit and CRLF canonical first (see
// mime.h) so relays and 8BITMIME downgrades cannot break it. Signed attributes: content
// type, message digest, signing time, SMIMECapabilities, encryption key preference.
// The signer certificate and its intermediates (never a self-signed root) travel along.
// Ownership: the Credential is borrowed. Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "policy/result.h"
#include "smime/interfaces.h"
#include "smime/limits.h"

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

// RFC 8551 3.5.3.2 micalg name: "sha-256", "sha-384", "sha-512".
std::string_view micalg_name(Digest digest);

}  // namespace smime
