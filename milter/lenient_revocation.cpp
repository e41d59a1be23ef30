#include "milter/lenient_revocation.h"

namespace milter {

policy::Result<smime::Revocation> LenientRevocation::status(const X509& cert, const X509& issuer) {
  auto r = inner_.status(cert, issuer);
  if (r && r->state == smime::RevocationState::kUnknown) {
    r->state = smime::RevocationState::kGood;
    ++relaxed_;
  }
  return r;
}

}  // namespace milter
