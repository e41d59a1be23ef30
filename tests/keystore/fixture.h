// Shared fixture for keystore tests: a fresh keystore in a temp dir, with the test
// PKI's root as anchor and a key-encryption secret. Test-only code.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "keystore/keystore.h"
#include "smime/x509.h"
#include "tests/common/test_support.h"

namespace keystore::test {

inline smime::ossl::Cert load_cert(const std::string& name) {
  auto c = smime::parse_cert(testsupport::read_file(testsupport::pki(name)));
  EXPECT_TRUE(c.has_value()) << name;
  return c ? std::move(*c) : nullptr;
}

// ImportRequest from <name>.p12 (passphrase "test-pass").
inline ImportRequest p12_request(const std::string& name, CertType type = CertType::kIndividual) {
  ImportRequest req;
  auto p12 =
      smime::parse_pkcs12(testsupport::read_file(testsupport::pki(name + ".p12")), "test-pass");
  EXPECT_TRUE(p12.has_value()) << name;
  if (p12) {
    req.certs.push_back(std::move(p12->cert));
    for (auto& c : p12->extra) {
      req.certs.push_back(std::move(c));
    }
    req.key = std::move(p12->key);
  }
  req.type = type;
  return req;
}

// ImportRequest from <name>.chain.pem (leaf + issuing CA), else <name>.crt; no key.
inline ImportRequest cert_request(const std::string& name) {
  ImportRequest req;
  const auto chain = testsupport::pki(name + ".chain.pem");
  auto certs = smime::parse_certs(testsupport::read_file(
      std::filesystem::exists(chain) ? chain : testsupport::pki(name + ".crt")));
  EXPECT_TRUE(certs.has_value()) << name;
  if (certs) {
    req.certs = std::move(*certs);
  }
  return req;
}

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testsupport::write_file(secret_path(), "0123456789abcdef-test-secret\n", 0600);
    ks_ = open_store(true);
    ASSERT_TRUE(ks_);
    auto a = ks_->add_anchor(*load_cert("root.crt"), "test");
    ASSERT_TRUE(a.has_value()) << a.error().message();
  }
  std::string db_path() const { return (dir_ / "keystore.db").string(); }
  std::string secret_path() const { return (dir_ / "secret").string(); }
  std::unique_ptr<Keystore> open_store(bool create = false) {
    OpenOptions o;
    o.create = create;
    o.secret_file = secret_path();
    auto ks = Keystore::open(db_path(), o);
    EXPECT_TRUE(ks.has_value()) << ks.error().message();
    return ks ? std::move(*ks) : nullptr;
  }
  void import_ok(const ImportRequest& req) {
    auto r = ks_->import(req);
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  testsupport::TempDir dir_;
  std::unique_ptr<Keystore> ks_;
};

}  // namespace keystore::test
