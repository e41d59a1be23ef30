// Keystore caches of parsed certificates (CA set, per-row certificates) and harvesting's
// steady state: repeated lookups give the same answers, every change to the database
// (another connection's or this handle's own) takes effect for the next lookup, and
// harvesting a signer already held with the same capabilities writes nothing.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <sqlite3.h>

#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {
using policy::Errc;

constexpr std::array<CertType, 0> kAnyType{};

// PRAGMA data_version seen by a separate connection: changes with every commit by
// another connection that wrote something.
class Watcher {
 public:
  explicit Watcher(const std::string& path) {
    EXPECT_EQ(::sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  }
  ~Watcher() { ::sqlite3_close_v2(db_); }
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  std::int64_t data_version() const {
    sqlite3_stmt* st = nullptr;
    std::int64_t v = -1;
    if (::sqlite3_prepare_v2(db_, "PRAGMA data_version", -1, &st, nullptr) == SQLITE_OK &&
        ::sqlite3_step(st) == SQLITE_ROW) {
      v = ::sqlite3_column_int64(st, 0);
    }
    ::sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string fingerprint_of(const X509& c) {
  return smime::inspect(c).fingerprint_sha256;
}

// Rounds of RepeatedLookupsGiveTheSameAnswers: KEYSTORE_LOOKUP_ROUNDS (tests/keystore/
// lookup_cost.sh runs it with 1 and 101 under callgrind), else 20.
int lookup_rounds() {
  const char* env = std::getenv("KEYSTORE_LOOKUP_ROUNDS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : 20;
}

}  // namespace

// The lookups a message makes (signer credential, recipient certificate), repeated: the
// answers stay the same while the database does not change. callgrind over this test's
// loop gives the keystore's instructions per call (tests/keystore/lookup_cost.sh).
TEST_F(KeystoreTest, RepeatedLookupsGiveTheSameAnswers) {
  import_ok(p12_request("alice"));
  import_ok(cert_request("bob"));
  std::string signer_fp;
  std::string bob_fp;
  const int rounds = lookup_rounds();
  for (int i = 0; i < rounds; ++i) {
    auto sign = ks_->signing_credential("alice@example.gov", kAnyType);
    ASSERT_TRUE(sign.has_value() && sign->has_value());
    ASSERT_TRUE((*sign)->cert && (*sign)->key);
    ASSERT_FALSE((*sign)->chain.empty());
    auto bob = ks_->encryption_certs("bob@example.gov");
    ASSERT_TRUE(bob.has_value());
    ASSERT_EQ(bob->size(), 1U);
    const std::string sfp = fingerprint_of(*(*sign)->cert);
    const std::string bfp = fingerprint_of(*(*bob)[0].cert);
    if (i == 0) {
      signer_fp = sfp;
      bob_fp = bfp;
    }
    EXPECT_EQ(sfp, signer_fp);
    EXPECT_EQ(bfp, bob_fp);
    EXPECT_EQ((*bob)[0].fingerprint, bob_fp);
  }
  auto anchors = ks_->anchors();
  ASSERT_TRUE(anchors.has_value());
  ASSERT_EQ(anchors->size(), 1U);
  EXPECT_EQ(fingerprint_of(*(*anchors)[0]), fingerprint_of(*load_cert("root.crt")));
}

// Removing the anchor through the same handle (no data_version change for it) and
// through another connection both make the cached CA set and certificates stale.
TEST_F(KeystoreTest, CachedCertificatesFollowAnchorChangesFromEitherConnection) {
  import_ok(cert_request("bob"));
  auto other = open_store();
  ASSERT_TRUE(other);
  for (auto* ks : {ks_.get(), other.get()}) {
    auto bob = ks->encryption_certs("bob@example.gov");
    ASSERT_TRUE(bob.has_value());
    EXPECT_EQ(bob->size(), 1U);  // CA set and bob's certificate now cached in both
  }
  const std::string root_fp = fingerprint_of(*load_cert("root.crt"));
  ASSERT_TRUE(ks_->remove_anchor(root_fp, "test").has_value());
  for (auto* ks : {ks_.get(), other.get()}) {
    auto bob = ks->encryption_certs("bob@example.gov");
    ASSERT_TRUE(bob.has_value());
    EXPECT_TRUE(bob->empty());  // no path to an anchor any more
    auto anchors = ks->anchors();
    ASSERT_TRUE(anchors.has_value());
    EXPECT_TRUE(anchors->empty());
  }
  // Back again, added by the other connection this time.
  auto a = other->add_anchor(*load_cert("root.crt"), "test");
  ASSERT_TRUE(a.has_value()) << a.error().message();
  for (auto* ks : {ks_.get(), other.get()}) {
    auto bob = ks->encryption_certs("bob@example.gov");
    ASSERT_TRUE(bob.has_value());
    EXPECT_EQ(bob->size(), 1U);
  }
}

// Inbound mail from a correspondent already held: no write (other readers keep their
// caches), unless the announced capabilities changed.
TEST_F(KeystoreTest, HarvestOfAHeldSignerWritesOnlyWhenCapabilitiesChange) {
  auto bob = cert_request("bob");
  ASSERT_EQ(bob.certs.size(), 2U);
  std::vector<smime::ossl::Cert> chain;
  chain.push_back(smime::ossl::share(bob.certs[1].get()));
  Watcher watch(db_path());
  auto first = ks_->harvest(*bob.certs[0], chain, Capabilities{true});
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_TRUE(first->changed);
  const std::int64_t v1 = watch.data_version();
  for (const auto& caps : {Capabilities{true}, Capabilities{}}) {  // unknown: keep
    auto again = ks_->harvest(*bob.certs[0], chain, caps);
    ASSERT_TRUE(again.has_value()) << again.error().message();
    EXPECT_FALSE(again->changed);
    EXPECT_EQ(again->fingerprint, first->fingerprint);
    EXPECT_EQ(again->emails, first->emails);
    EXPECT_EQ(again->not_after, first->not_after);
    EXPECT_EQ(watch.data_version(), v1);  // nothing written
  }
  auto changed = ks_->harvest(*bob.certs[0], chain, Capabilities{false});
  ASSERT_TRUE(changed.has_value());
  EXPECT_FALSE(changed->changed);
  EXPECT_NE(watch.data_version(), v1);
  auto certs = ks_->encryption_certs("bob@example.gov");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 1U);
  EXPECT_EQ((*certs)[0].caps.aes_gcm, std::optional<bool>(false));

  // A held certificate whose anchor is gone is refused as before, not waved through.
  ASSERT_TRUE(ks_->remove_anchor(fingerprint_of(*load_cert("root.crt")), "test").has_value());
  auto orphan = ks_->harvest(*bob.certs[0], chain, Capabilities{false});
  ASSERT_FALSE(orphan.has_value());
  EXPECT_EQ(orphan.error().code(), Errc::kUntrustedChain) << orphan.error().message();
}

}  // namespace keystore::test
