// Certificate path validation for verification: an X509_STORE built from the
// TrustStore's anchors only; certificates found in a message and the TrustStore's
// intermediates are offered as untrusted helpers, never as anchors. Validity is judged
// at a given time and the leaf must be fit for S/MIME (X509_PURPOSE_SMIME_SIGN checks
// keyUsage / extendedKeyUsage, RFC 8550 4.4). Revocation is asked of RevocationChecker
// for every certificate on the path except the anchor.
// Ownership: returned chains hold their own references.
// Thread-safety: reentrant; the TrustStore/RevocationChecker must be thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/result.h"
#include "smime/interfaces.h"
#include "smime/ossl.h"

namespace smime {

struct ChainOptions {
  std::int64_t at_time = 0;  // unix seconds; 0 = now
  int purpose = X509_PURPOSE_SMIME_SIGN;
};

// The validated path, leaf first, anchor last. Errors: kExpired (a certificate on the
// path is outside its validity at at_time), kUntrustedChain (no path to an anchor, bad
// certificate signature, unfit key usage, ...).
policy::Result<std::vector<ossl::Cert>> verify_chain(X509& leaf,
                                                     const std::vector<ossl::Cert>& untrusted,
                                                     const std::vector<ossl::Cert>& anchors,
                                                     const ChainOptions& options);

// Asks `checker` about each certificate of `chain` (leaf first) against its issuer.
// Errors: kRevoked, kRevocationUnknown, kUnavailable (the checker could not answer).
policy::Status check_revocation(const std::vector<ossl::Cert>& chain, RevocationChecker& checker);

}  // namespace smime
