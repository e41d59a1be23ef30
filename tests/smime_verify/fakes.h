// In-memory TrustStore / RevocationChecker / KeyProvider for tests: they only inject
// what the keystore would return (found, not found, unavailable). Test-only code.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "smime/interfaces.h"

namespace smime::testing {

ossl::Cert load_cert(const std::filesystem::path& p);
std::vector<ossl::Cert> load_certs(const std::filesystem::path& p);
Credential load_credential(const std::filesystem::path& cert, const std::filesystem::path& key);
Credential clone(const Credential& c);

class FakeTrust : public TrustStore {
 public:
  std::vector<ossl::Cert> anchor_certs;
  std::vector<ossl::Cert> intermediate_certs;
  bool unavailable = false;
  policy::Result<std::vector<ossl::Cert>> anchors() override;
  policy::Result<std::vector<ossl::Cert>> intermediates() override;
};

// Answers from CRLs: revoked when the issuer's CRL lists the certificate, good when the
// issuer has a CRL that does not, `no_crl` when the issuer has no CRL.
class FakeRevocation : public RevocationChecker {
 public:
  std::vector<ossl::Crl> crls;
  RevocationState no_crl = RevocationState::kGood;
  bool unavailable = false;
  std::string revoke_subject;  // when set, any certificate whose subject contains it is revoked
  policy::Result<Revocation> status(const X509& cert, const X509& issuer) override;
};

class FakeKeys : public KeyProvider {
 public:
  std::vector<Credential> creds;
  bool unavailable = false;
  bool find_by_id = true;  // false: only all_decryption_keys() answers
  int lookups = 0;
  Lookup<Credential> decryption_key(const CertId& id) override;
  policy::Result<std::vector<Credential>> all_decryption_keys() override;
};

}  // namespace smime::testing
