// Keys of expired certificates: mail encrypted to a key while its certificate was valid
// stays readable after the certificate expired (the decryption lookup skips the validity
// check), while signing with, and encrypting to, an expired certificate stays
// impossible and a revocation (any reason) ends every use. The encrypted mail is made
// by the openssl CLI (`openssl cms -encrypt`) and opened by smime::decrypt_message with
// the keystore as KeyProvider, the same path the milter takes.
#include <span>
#include <string>

#include <gtest/gtest.h>

#include "smime/decrypt.h"
#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {

const std::span<const CertType> kAnyType{};

class ExpiredKeyTest : public KeystoreTest {
 protected:
  // A message for `name`'s certificate, enveloped by `openssl cms -encrypt` (S/MIME).
  std::string encrypted_for(const std::string& name) {
    const auto plain = dir_ / "plain.eml";
    const auto out = dir_ / "enc.eml";
    testsupport::write_file(plain,
                            "Content-Type: text/plain\r\n\r\n" + std::string(kSecret) + "\r\n");
    const auto r =
        testsupport::run({"openssl", "cms", "-encrypt", "-aes256", "-in", plain.string(), "-out",
                          out.string(), testsupport::pki(name + ".crt").string()});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::string mail = "From: sender@partner.example\r\nTo: " + name + "@example.gov\r\n";
    for (const char c : testsupport::read_file(out)) {  // openssl writes LF line ends
      mail += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    return mail;
  }
  // The key opens the message until the certificate is revoked for `reason`.
  void expect_revocation_ends_decryption(const char* reason) {
    auto req = p12_request("expired");
    req.allow_expired = true;
    import_ok(req);
    const std::string msg = encrypted_for("expired");
    ASSERT_TRUE(smime::decrypt_message(msg, *ks_).has_value());  // the key is cached now
    auto rev = ks_->revoke("expired@example.gov", reason, "test");
    ASSERT_TRUE(rev.has_value()) << rev.error().message();
    auto opened = smime::decrypt_message(msg, *ks_);
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code(), policy::Errc::kNoKey) << opened.error().message();
    auto all = ks_->all_decryption_keys();
    ASSERT_TRUE(all.has_value());
    EXPECT_TRUE(all->empty());
  }
  static constexpr const char* kSecret = "written while the certificate was valid";
};

TEST_F(ExpiredKeyTest, ExpiredCertificateKeyStillDecryptsButNeverSigns) {
  auto req = p12_request("expired");
  req.allow_expired = true;
  import_ok(req);
  const std::string fp = smime::inspect(*load_cert("expired.crt")).fingerprint_sha256;

  auto opened = smime::decrypt_message(encrypted_for("expired"), *ks_);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_NE(opened->message.find(kSecret), std::string::npos);
  EXPECT_EQ(opened->recipient_fingerprint, fp);
  auto all = ks_->all_decryption_keys();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 1U);

  // After the decryption lookup cached the key: still no signing, no encryption.
  auto sign = ks_->signing_credential("expired@example.gov", kAnyType);
  ASSERT_TRUE(sign.has_value());
  EXPECT_FALSE(sign->has_value());
  auto enc = ks_->encryption_certs("expired@example.gov");
  ASSERT_TRUE(enc.has_value());
  EXPECT_TRUE(enc->empty());
}

TEST_F(ExpiredKeyTest, ExpiredCertificateRevokedForKeyCompromiseDecryptsNothing) {
  expect_revocation_ends_decryption("keyCompromise");
}

TEST_F(ExpiredKeyTest, ExpiredCertificateRevokedAsSupersededDecryptsNothing) {
  expect_revocation_ends_decryption("superseded");
}

TEST_F(ExpiredKeyTest, ValidCertificateSignsAfterItsKeyWasUsedToDecrypt) {
  import_ok(p12_request("bob"));
  auto opened = smime::decrypt_message(encrypted_for("bob"), *ks_);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  auto sign = ks_->signing_credential("bob@example.gov", kAnyType);
  ASSERT_TRUE(sign.has_value()) << sign.error().message();
  ASSERT_TRUE(sign->has_value());
  EXPECT_FALSE((*sign)->chain.empty());  // the issuing CA, from a time-checked chain
}

}  // namespace
}  // namespace keystore::test
