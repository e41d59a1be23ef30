// S/MIME signature verification (RFC 8551, RFC 5652): detached multipart/signed and
// opaque signed-data, wherever they sit in the MIME tree (also labelled
// application/octet-stream with a smime.p7m/p7s name or application/x-pkcs7-*), nested
// signatures, several signers. Results in RFC 7281 / RFC 8601 terms, one report per
// signer. Encrypted layers are not opened here: decrypt_message() first, then verify
// its output (triple wrapping, RFC 8551 3.7). Mapping table: smime/README.verify.md.
// Ownership: reports own their certificates. Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "smime/capabilities.h"
#include "smime/interfaces.h"
#include "smime/limits.h"
#include "smime/ossl.h"

namespace smime {

enum class AuthResult { kNone, kPass, kFail, kNeutral, kPolicy, kTempError, kPermError };
// "none", "pass", "fail", "neutral", "policy", "temperror", "permerror".
std::string_view auth_result_name(AuthResult r);
// The result to report when verify_message() itself returned an error:
// kUnavailable -> temperror, kMalformedInput/kLimitExceeded -> permerror, else temperror.
AuthResult auth_result_for_error(policy::Errc e);

struct SignerReport {
  AuthResult result = AuthResult::kNone;
  // "" on pass, else bad-signature | untrusted-chain | expired | revoked |
  // revocation-unknown | sender-mismatch | unsupported-algorithm | malformed
  std::string reason;
  std::string detail;  // human-readable explanation of the reason
  std::string subject, issuer, serial_hex, fingerprint;
  std::vector<std::string> emails;
  std::string digest_alg, signature_alg;  // OpenSSL short names, e.g. "SHA256", "RSA"
  std::int64_t signing_time = 0;          // 0 when the attribute is absent
  ossl::Cert cert;                        // null when the signer certificate was not found
  std::vector<ossl::Cert> chain;          // validated path leaf..anchor (empty unless built)
  // What the signer's client announced (RFC 8551 2.5.2 / 2.5.3); filled only once the
  // signature itself verified, so a forged attribute cannot steer our encryption.
  Capabilities capabilities;
  std::string capabilities_der;  // for the keystore to remember
  KeyPreference key_preference;
  int layer = 0;     // 0 = outermost signature layer, 1 = the one inside it, ...
  std::string part;  // MIME part holding the signature layer: "" = top level, "2.1", ...
};

struct VerifyOptions {
  std::string from_address;  // bare address from From:; "" skips the sender check
  std::int64_t at_time = 0;  // 0 = now
  Limits limits;
};

struct VerifyReport {
  // Result of the first signature layer found (document order, outermost first):
  // pass when at least one of its signers passes, else the first signer's result.
  // kNone when the message carries no signature.
  AuthResult result = AuthResult::kNone;
  std::string reason;
  std::vector<SignerReport> signers;  // every signer of every layer, outermost first
  std::string content;                // the entity signed by the first layer, exactly as signed
  bool whole_message = false;         // the first layer is the top-level entity
  std::size_t encrypted_parts = 0;    // enveloped layers seen but not opened
};

// Errors (not per-signer results): kMalformedInput (MIME or CMS does not parse),
// kLimitExceeded (size, depth, parts), kUnavailable (TrustStore could not answer).
policy::Result<VerifyReport> verify_message(std::string_view message, TrustStore& trust,
                                            RevocationChecker& revocation,
                                            const VerifyOptions& options);

}  // namespace smime
