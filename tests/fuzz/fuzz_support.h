// Minimal in-memory TrustStore / RevocationChecker / KeyProvider for the fuzz targets.
// Keys and anchors come from files named in the environment so that seeds from the
// corpus reach the signature and decryption code:
//   SMIME_FUZZ_ANCHORS = colon-separated certificate files (PEM or DER)
//   SMIME_FUZZ_KEYS    = colon-separated "cert,key" pairs
// Test-only code.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "smime/interfaces.h"
#include "smime/x509.h"

namespace smime::fuzz {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> split(const char* env, char sep) {
  std::vector<std::string> out;
  if (env == nullptr) {
    return out;
  }
  std::string cur;
  for (const char* p = env; *p != '\0'; ++p) {
    if (*p == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += *p;
    }
  }
  if (!cur.empty()) {
    out.push_back(cur);
  }
  return out;
}

class Trust : public TrustStore {
 public:
  std::vector<ossl::Cert> roots;
  void load() {
    for (const auto& f : split(std::getenv("SMIME_FUZZ_ANCHORS"), ':')) {
      if (auto c = parse_cert(slurp(f))) {
        roots.push_back(std::move(*c));
      }
    }
  }
  policy::Result<std::vector<ossl::Cert>> anchors() override {
    std::vector<ossl::Cert> out;
    for (const auto& c : roots) {
      out.push_back(ossl::share(c.get()));
    }
    return out;
  }
  policy::Result<std::vector<ossl::Cert>> intermediates() override {
    return std::vector<ossl::Cert>{};
  }
};

class Revocation : public RevocationChecker {
 public:
  policy::Result<smime::Revocation> status(const X509&, const X509&) override {
    return smime::Revocation{RevocationState::kGood, "", 0, ""};
  }
};

class Keys : public KeyProvider {
 public:
  std::vector<Credential> creds;
  void load() {
    for (const auto& pair : split(std::getenv("SMIME_FUZZ_KEYS"), ':')) {
      const auto parts = split(pair.c_str(), ',');
      if (parts.size() != 2) {
        continue;
      }
      auto c = parse_cert(slurp(parts[0]));
      auto k = parse_private_key(slurp(parts[1]));
      if (c && k) {
        Credential cred;
        cred.cert = std::move(*c);
        cred.key = std::move(*k);
        creds.push_back(std::move(cred));
      }
    }
  }
  Lookup<Credential> decryption_key(const CertId&) override { return std::optional<Credential>(); }
  policy::Result<std::vector<Credential>> all_decryption_keys() override {
    std::vector<Credential> out;
    for (const auto& c : creds) {
      Credential copy;
      copy.cert = ossl::share(c.cert.get());
      copy.key = ossl::share(c.key.get());
      out.push_back(std::move(copy));
    }
    return out;
  }
};

}  // namespace smime::fuzz
