// What `trust.check_revocation = false` means for inbound verification (policy/config.h:
// "revocation state is not consulted (fail open!)"; the key's documentation in
// policy/config_keys.cpp: "unknown revocation state counts as good; revoked certificates
// are still never used"). LenientRevocation wraps the keystore's RevocationChecker:
//   kUnknown (no CRL held from the issuer, CRL past its nextUpdate) -> kGood, counted so
//            the message's log line says that revocation went unchecked;
//   kRevoked (a revocation we hold: CRL entry or `smimectl revoke`) -> stays revoked;
//   store error (database locked/missing) -> stays an error (temperror): our own
//            failure is never turned into a pass.
// Outbound lookups already follow the key through policy::decide (effective()).
// Ownership: borrows the inner checker. Thread-safety: one instance per message.
#pragma once

#include <cstddef>

#include "smime/interfaces.h"

namespace milter {

class LenientRevocation final : public smime::RevocationChecker {
 public:
  explicit LenientRevocation(smime::RevocationChecker& inner) : inner_(inner) {}
  policy::Result<smime::Revocation> status(const X509& cert, const X509& issuer) override;
  // How many unknown answers were counted as good.
  std::size_t relaxed() const { return relaxed_; }

 private:
  smime::RevocationChecker& inner_;
  std::size_t relaxed_ = 0;
};

}  // namespace milter
