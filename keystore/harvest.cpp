// Keystore::harvest: external correspondents' certificates taken from verified signed
// mail (origin "harvested"), so later mail to them can be encrypted.
#include "keystore/keystore.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;

policy::Result<ImportOutcome> Keystore::harvest(const X509& cert,
                                                const std::vector<smime::ossl::Cert>& chain,
                                                const Capabilities& caps) {
  ImportRequest req;
  smime::ossl::Cert leaf(::X509_dup(&cert));
  if (!leaf) {
    return unexpected(Errc::kCrypto, "copying the certificate: " + smime::ossl::drain_errors());
  }
  req.certs.push_back(std::move(leaf));
  for (const auto& c : chain) {
    if (c) {
      req.certs.push_back(smime::ossl::share(c.get()));
    }
  }
  req.harvested = true;
  req.actor = "milter (harvested)";
  auto out = import(req);
  if (!out) {
    return out;
  }
  if (caps.aes_gcm.has_value()) {
    if (auto s = set_capabilities(out->fingerprint, caps); !s) {
      return s.error();
    }
  }
  return out;
}

}  // namespace keystore
