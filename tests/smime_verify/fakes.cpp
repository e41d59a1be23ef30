#include "fakes.h"

#include <stdexcept>

#include <openssl/x509.h>

#include "smime/x509.h"
#include "tests/common/test_support.h"

namespace smime::testing {

ossl::Cert load_cert(const std::filesystem::path& p) {
  auto c = parse_cert(testsupport::read_file(p));
  if (!c) {
    throw std::runtime_error("cannot load " + p.string() + ": " + c.error().message());
  }
  return std::move(*c);
}

std::vector<ossl::Cert> load_certs(const std::filesystem::path& p) {
  auto c = parse_certs(testsupport::read_file(p));
  if (!c) {
    throw std::runtime_error("cannot load " + p.string() + ": " + c.error().message());
  }
  return std::move(*c);
}

Credential load_credential(const std::filesystem::path& cert, const std::filesystem::path& key) {
  Credential cred;
  cred.cert = load_cert(cert);
  auto k = parse_private_key(testsupport::read_file(key));
  if (!k) {
    throw std::runtime_error("cannot load key " + key.string() + ": " + k.error().message());
  }
  cred.key = std::move(*k);
  return cred;
}

Credential clone(const Credential& c) {
  Credential out;
  out.cert = ossl::share(c.cert.get());
  out.key = ossl::share(c.key.get());
  for (const auto& x : c.chain) {
    out.chain.push_back(ossl::share(x.get()));
  }
  return out;
}

namespace {
std::vector<ossl::Cert> copy(const std::vector<ossl::Cert>& v) {
  std::vector<ossl::Cert> out;
  for (const auto& c : v) {
    out.push_back(ossl::share(c.get()));
  }
  return out;
}
}  // namespace

policy::Result<std::vector<ossl::Cert>> FakeTrust::anchors() {
  if (unavailable) {
    return policy::unexpected(policy::Errc::kUnavailable, "fake store is down");
  }
  return copy(anchor_certs);
}

policy::Result<std::vector<ossl::Cert>> FakeTrust::intermediates() {
  if (unavailable) {
    return policy::unexpected(policy::Errc::kUnavailable, "fake store is down");
  }
  return copy(intermediate_certs);
}

policy::Result<Revocation> FakeRevocation::status(const X509& cert, const X509& issuer) {
  if (unavailable) {
    return policy::unexpected(policy::Errc::kUnavailable, "fake revocation store is down");
  }
  if (!revoke_subject.empty() && inspect(cert).subject.find(revoke_subject) != std::string::npos) {
    return Revocation{RevocationState::kRevoked, "cACompromise", 0, ""};
  }
  for (const auto& crl : crls) {
    if (::X509_NAME_cmp(::X509_CRL_get_issuer(crl.get()), ::X509_get_subject_name(&issuer)) != 0) {
      continue;
    }
    X509_REVOKED* entry = nullptr;  // borrowed from the CRL
    if (::X509_CRL_get0_by_cert(crl.get(), &entry, const_cast<X509*>(&cert)) == 1) {
      return Revocation{RevocationState::kRevoked, "keyCompromise", 0, ""};
    }
    return Revocation{RevocationState::kGood, "", 0, ""};
  }
  return Revocation{no_crl, "", 0, no_crl == RevocationState::kUnknown ? "no CRL for issuer" : ""};
}

Lookup<Credential> FakeKeys::decryption_key(const CertId& id) {
  ++lookups;
  if (unavailable) {
    return policy::unexpected(policy::Errc::kUnavailable, "fake key store is down");
  }
  if (!find_by_id) {
    return std::optional<Credential>();
  }
  for (const auto& c : creds) {
    const CertInfo info = inspect(*c.cert);
    std::string issuer_der;
    unsigned char* der = nullptr;
    const int len = ::i2d_X509_NAME(::X509_get_issuer_name(c.cert.get()), &der);
    if (len > 0) {
      issuer_der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    }
    ::OPENSSL_free(der);
    const bool by_serial =
        !id.serial_hex.empty() && id.serial_hex == info.serial_hex && id.issuer_der == issuer_der;
    const bool by_ski = !id.ski_hex.empty() && id.ski_hex == info.ski_hex;
    if (by_serial || by_ski) {
      return std::optional<Credential>(clone(c));
    }
  }
  return std::optional<Credential>();
}

policy::Result<std::vector<Credential>> FakeKeys::all_decryption_keys() {
  if (unavailable) {
    return policy::unexpected(policy::Errc::kUnavailable, "fake key store is down");
  }
  std::vector<Credential> out;
  for (const auto& c : creds) {
    out.push_back(clone(c));
  }
  return out;
}

}  // namespace smime::testing
