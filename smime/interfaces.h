// The seams through which the keystore (or a test) supplies keys, trust anchors and
// revocation answers to the S/MIME engine. smime/ never touches SQLite.
//
// Every lookup has three outcomes (house style, like Postfix's dictionaries):
//   value with an object    -> found
//   value with std::nullopt -> not found
//   error (kUnavailable)    -> the store could not answer; never reported as "not found"
// Thread-safety: implementations must be safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "smime/ossl.h"

namespace smime {

template <class T>
using Lookup = policy::Result<std::optional<T>>;

// A certificate with its private key and the intermediates that travel with it.
struct Credential {
  ossl::Cert cert;
  ossl::PKey key;
  std::vector<ossl::Cert> chain;  // intermediates, leaf's issuer first; never the root
};

// How a CMS RecipientInfo / SignerInfo names a certificate (RFC 5652 5.3, 6.2).
struct CertId {
  std::string issuer_der;  // DER of the issuer Name (issuerAndSerialNumber)
  std::string serial_hex;  // lowercase hex, no leading zeros beyond one byte
  std::string ski_hex;     // subjectKeyIdentifier, lowercase hex (alternative form)
};

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // Private key + certificate for a recipient identifier found in a message.
  virtual Lookup<Credential> decryption_key(const CertId& id) = 0;
  // All decryption credentials we hold (used when a message's RecipientInfos
  // must be matched one by one).
  virtual policy::Result<std::vector<Credential>> all_decryption_keys() = 0;
};

class TrustStore {
 public:
  virtual ~TrustStore() = default;
  // Trust anchors (roots). Certificates in a message are never anchors.
  virtual policy::Result<std::vector<ossl::Cert>> anchors() = 0;
  // Known intermediates that may complete a chain (e.g. for leaf-only messages).
  virtual policy::Result<std::vector<ossl::Cert>> intermediates() = 0;
};

enum class RevocationState { kGood, kRevoked, kUnknown };

struct Revocation {
  RevocationState state = RevocationState::kUnknown;
  std::string reason;           // RFC 5280 reason name when revoked, e.g. "keyCompromise"
  std::int64_t revoked_at = 0;  // unix time when revoked
  std::string detail;           // why unknown (no CRL, CRL stale, ...)
};

class RevocationChecker {
 public:
  virtual ~RevocationChecker() = default;
  // Status of `cert` as issued by `issuer`. kUnavailable error when the store is down.
  virtual policy::Result<Revocation> status(const X509& cert, const X509& issuer) = 0;
};

}  // namespace smime
