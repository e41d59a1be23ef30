// Third-party PKCS#12 files import: MimeKit's RC2-40 .pfx (legacy provider) and the
// RFC 9216 bundles, with their own roots as trust anchors.
#include <filesystem>

#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {
using testsupport::corpus_dir;
using testsupport::read_file;

ImportRequest from_p12(const std::filesystem::path& p, const char* pass) {
  ImportRequest req;
  auto p12 = smime::parse_pkcs12(read_file(p), pass);
  EXPECT_TRUE(p12.has_value()) << p << ": " << (p12 ? "" : p12.error().message());
  if (p12) {
    req.certs.push_back(std::move(p12->cert));
    for (auto& c : p12->extra) {
      req.certs.push_back(std::move(c));
    }
    req.key = std::move(p12->key);
  }
  return req;
}

TEST_F(KeystoreTest, MimeKitLegacyPfxImports) {
  const auto dir = corpus_dir() / "mimekit" / "smime";
  // The root only ships inside its own .pfx; take the certificate from there.
  auto root = smime::parse_pkcs12(read_file(dir / "certificate-authority.pfx"), "no.secret");
  ASSERT_TRUE(root.has_value()) << root.error().message();
  ASSERT_TRUE(ks_->add_anchor(*root->cert, "test").has_value());
  auto r = ks_->import(from_p12(dir / "rsa" / "smime.pfx", "no.secret"));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->key_stored);
  auto cred = ks_->signing_credential("rsa@mimekit.net", {});
  ASSERT_TRUE(cred.has_value() && cred->has_value());
  EXPECT_EQ((*cred)->chain.size(), 2U);  // secondary and primary intermediates
  // dnsnames/smime.pfx has no e-mail address.
  auto dns = ks_->import(from_p12(dir / "dnsnames" / "smime.pfx", "no.secret"));
  ASSERT_FALSE(dns.has_value());
  EXPECT_EQ(dns.error().code(), policy::Errc::kMalformedInput);
}

TEST_F(KeystoreTest, Rfc9216BundlesImport) {
  const auto dir = corpus_dir() / "rfc9216-smime-example-keys";
  auto anchor = smime::parse_cert(read_file(dir / "ca.rsa.crt"));
  ASSERT_TRUE(anchor.has_value());
  ASSERT_TRUE(ks_->add_anchor(**anchor, "test").has_value());
  for (const char* who : {"alice", "bob"}) {
    auto r = ks_->import(from_p12(dir / (std::string(who) + ".p12"), who));
    ASSERT_TRUE(r.has_value()) << who << ": " << r.error().message();
    EXPECT_TRUE(r->key_stored);
    ASSERT_EQ(r->emails.size(), 1U);
    EXPECT_EQ(r->emails[0], std::string(who) + "@smime.example");
  }
  auto wrong = smime::parse_pkcs12(read_file(dir / "alice.p12"), "bob");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), policy::Errc::kWrongPassphrase);
}

}  // namespace
}  // namespace keystore::test
