// S/MIME decryption (RFC 8551 3.3, RFC 5652 6, RFC 5083): enveloped-data and
// authEnveloped-data (AES-GCM), key transport RSA PKCS#1 v1.5 / RSAES-OAEP and ECDH key
// agreement. The recipient key comes from KeyProvider, matched by issuer+serial or
// subjectKeyIdentifier; CMS_decrypt is never called without the recipient certificate,
// so OpenSSL's MMA defence (random key, garbage output) can never reach the caller: a
// message that is not for us is Errc::kNoKey.
// When the top-level entity is enveloped, or sits only inside the first part of
// multipart/signed wrappers (encrypt-then-sign; the wrappers were verified before and
// cannot stay valid), the result is the outer non-Content headers + the decrypted entity.
// Otherwise every enveloped part in the MIME tree is replaced in place by its decrypted
// entity (refused as kMalformedInput if that entity holds an enclosing boundary).
// Ownership: plain values out. Thread-safety: reentrant (KeyProvider must be too).
#pragma once

#include <string>
#include <string_view>

#include "policy/result.h"
#include "smime/interfaces.h"
#include "smime/limits.h"

namespace smime {

struct DecryptOptions {
  Limits limits;
};

struct DecryptResult {
  std::string message;                // outer headers + decrypted entity (CRLF)
  std::string recipient_fingerprint;  // SHA-256 of the certificate whose key opened it
  std::string cipher;                 // e.g. "aes-256-cbc", "id-aes256-gcm"
  bool authenticated = false;         // authEnveloped-data (AEAD tag checked)
  bool whole_message = false;         // the top-level entity was the encrypted one
  std::size_t layers = 0;             // enveloped entities decrypted
};

// Errors: kNoKey (not encrypted for any key we hold), kMalformedInput (MIME/CMS does
// not parse), kLimitExceeded, kUnavailable (KeyProvider could not answer), kCrypto
// (our key matched but decryption failed: corrupt or tampered, GCM tag mismatch).
// A message without any enveloped entity is kInvalidArgument.
policy::Result<DecryptResult> decrypt_message(std::string_view message, KeyProvider& keys,
                                              const DecryptOptions& options = {});

}  // namespace smime
