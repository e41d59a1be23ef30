// verify_chain / check_revocation on their own (the keystore may use them to validate
// a recipient certificate before encrypting to it).
#include "smime/chain.h"

#include <ctime>

#include <gtest/gtest.h>

#include "helpers.h"

namespace smime::testing {
namespace {

TEST(Chain, PurposeValidityAndAnchors) {
  struct Case {
    const char* leaf;
    int purpose;
    bool with_intermediate;
    const char* want;  // errc name, "ok" when valid
  };
  const Case cases[] = {
      {"alice", X509_PURPOSE_SMIME_SIGN, true, "ok"},
      {"alice", X509_PURPOSE_SMIME_ENCRYPT, true, "ok"},
      {"alice", X509_PURPOSE_SMIME_SIGN, false, "untrusted-chain"},  // issuer unknown
      {"signonly", X509_PURPOSE_SMIME_SIGN, true, "ok"},
      {"signonly", X509_PURPOSE_SMIME_ENCRYPT, true, "untrusted-chain"},  // no keyEncipherment
      // OpenSSL's smimeencrypt purpose wants keyEncipherment, which an ECDH (keyAgreement)
      // certificate does not have: validate EC recipients with X509_PURPOSE_ANY plus
      // fit_for_encryption() instead.
      {"carol", X509_PURPOSE_SMIME_ENCRYPT, true, "untrusted-chain"},
      {"carol", X509_PURPOSE_ANY, true, "ok"},
      {"expired", X509_PURPOSE_SMIME_SIGN, true, "expired"},
      {"mallory", X509_PURPOSE_SMIME_SIGN, true, "untrusted-chain"},
  };
  const std::vector<ossl::Cert> anchors = [] {
    std::vector<ossl::Cert> v;
    v.push_back(load_cert(testsupport::pki("root.crt")));
    return v;
  }();
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.leaf) + " purpose " + std::to_string(c.purpose));
    const ossl::Cert leaf = load_cert(testsupport::pki(std::string(c.leaf) + ".crt"));
    std::vector<ossl::Cert> helpers;
    if (c.with_intermediate) {
      helpers.push_back(load_cert(testsupport::pki("inter.crt")));
      helpers.push_back(load_cert(testsupport::pki("other-root.crt")));  // never an anchor
    }
    auto r = verify_chain(*leaf, helpers, anchors, ChainOptions{0, c.purpose});
    EXPECT_EQ(r ? std::string("ok") : std::string(policy::errc_name(r.error().code())), c.want)
        << (r ? "" : r.error().detail());
    if (r) {
      ASSERT_EQ(r->size(), 3U);
      EXPECT_EQ(::X509_cmp(r->back().get(), anchors[0].get()), 0);
    }
  }
}

TEST(Chain, RevocationWalksThePath) {
  auto rev = pki_revocation();
  const std::vector<ossl::Cert> anchors = [] {
    std::vector<ossl::Cert> v;
    v.push_back(load_cert(testsupport::pki("root.crt")));
    return v;
  }();
  std::vector<ossl::Cert> helpers;
  helpers.push_back(load_cert(testsupport::pki("inter.crt")));
  auto good =
      verify_chain(*load_cert(testsupport::pki("bob.crt")), helpers, anchors, ChainOptions{});
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(check_revocation(*good, rev).has_value());
  auto revoked =
      verify_chain(*load_cert(testsupport::pki("revoked.crt")), helpers, anchors, ChainOptions{});
  ASSERT_TRUE(revoked.has_value());
  auto st = check_revocation(*revoked, rev);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), policy::Errc::kRevoked);
  FakeRevocation unknown;
  unknown.no_crl = RevocationState::kUnknown;
  st = check_revocation(*good, unknown);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), policy::Errc::kRevocationUnknown);
}

}  // namespace
}  // namespace smime::testing
