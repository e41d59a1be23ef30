// Keystore API: staff directory, lifecycle history, harvesting correspondents'
// certificates (writer handle vs read-only daemon handle), CRL imports naming the held
// certificates they newly revoke.
#include <gtest/gtest.h>

#include "keystore/keystore.h"
#include "smime/x509.h"
#include "tests/common/test_support.h"
#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {
using policy::Errc;
using testsupport::pki;
using testsupport::read_file;

class StaffHarvestTest : public KeystoreTest {};

TEST_F(StaffHarvestTest, StaffLifecycle) {
  StaffRecord s;
  s.name = "Budi Santoso";
  s.employee_no = "1985";
  s.department = "Dinas Kesehatan";
  s.emails = {"BUDI@example.gov"};
  auto added = ks_->add_staff(s, "test");
  ASSERT_TRUE(added.has_value()) << added.error().message();
  EXPECT_EQ(added->emails, std::vector<std::string>{"budi@example.gov"});
  EXPECT_EQ(added->status, "active");
  EXPECT_EQ(ks_->add_staff(s, "test").error().code(), Errc::kConflict);
  StaffRecord bad;
  EXPECT_EQ(ks_->add_staff(bad, "test").error().code(), Errc::kInvalidArgument);
  bad.name = "X";
  bad.emails = {"no-at-sign"};
  EXPECT_EQ(ks_->add_staff(bad, "test").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(ks_->find_staff("X").error().code(), Errc::kNotFound);  // rolled back

  StaffChange c;
  c.status = "inactive";
  c.employee_no = "";  // cleared
  auto up = ks_->update_staff("Budi Santoso", c, "test");
  ASSERT_TRUE(up.has_value()) << up.error().message();
  EXPECT_EQ(up->status, "inactive");
  EXPECT_EQ(up->employee_no, "");
  EXPECT_EQ(up->department, "Dinas Kesehatan");  // untouched
  EXPECT_EQ(ks_->update_staff("Nobody", c, "test").error().code(), Errc::kNotFound);

  auto req = p12_request("alice");
  req.owner = "Alice Wibowo";
  import_ok(req);
  EXPECT_EQ(ks_->remove_staff("Alice Wibowo", "test").error().code(), Errc::kConflict);
  ASSERT_TRUE(ks_->remove_staff("Budi Santoso", "test").has_value());
  auto list = ks_->list_staff();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0].fingerprints.size(), 1U);

  auto h = ks_->history("Budi Santoso");
  ASSERT_TRUE(h.has_value());
  ASSERT_EQ(h->size(), 3U);
  EXPECT_EQ((*h)[0].event, "staff-added");
  EXPECT_EQ((*h)[1].event, "staff-updated");
  EXPECT_EQ((*h)[2].event, "staff-removed");
  EXPECT_EQ((*h)[2].subject, "staff:Budi Santoso");
  auto alice = ks_->history("alice@example.gov");
  ASSERT_TRUE(alice.has_value());
  ASSERT_FALSE(alice->empty());
  EXPECT_EQ(alice->front().event, "imported");
}

TEST_F(StaffHarvestTest, HarvestNeedsAChainToAnAnchorAndAWriterHandle) {
  auto bob = cert_request("bob");
  ASSERT_EQ(bob.certs.size(), 2U);
  std::vector<smime::ossl::Cert> chain;
  chain.push_back(smime::ossl::share(bob.certs[1].get()));

  // The daemon's read-only handle cannot store anything.
  OpenOptions ro;
  ro.read_only = true;
  auto reader = Keystore::open(db_path(), ro);
  ASSERT_TRUE(reader.has_value()) << reader.error().message();
  auto refused = (*reader)->harvest(*bob.certs[0], chain, Capabilities{true});
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().code(), Errc::kOk);
  auto none = ks_->encryption_certs("bob@example.gov");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());

  // A writer handle opened on demand stores it, origin harvested, capabilities kept.
  auto writer = open_store();
  ASSERT_TRUE(writer);
  auto r = writer->harvest(*bob.certs[0], chain, Capabilities{true});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->changed);
  auto again = writer->harvest(*bob.certs[0], chain, Capabilities{false});
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->changed);
  auto certs = (*reader)->encryption_certs("bob@example.gov");  // seen by the daemon
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 1U);
  EXPECT_EQ((*certs)[0].caps.aes_gcm, std::optional<bool>(false));  // latest announcement
  auto rec = ks_->find_certs(r->fingerprint);
  ASSERT_TRUE(rec.has_value());
  ASSERT_EQ(rec->size(), 1U);
  EXPECT_EQ((*rec)[0].origin, "harvested");
  EXPECT_FALSE((*rec)[0].has_key);

  // Untrusted (mallory's root is no anchor) and expired certificates are refused.
  auto mallory = load_cert("mallory.crt");
  auto bad = writer->harvest(*mallory, {}, Capabilities{});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::kUntrustedChain) << bad.error().message();
  auto expired = cert_request("expired");
  std::vector<smime::ossl::Cert> echain;
  echain.push_back(smime::ossl::share(expired.certs.back().get()));
  auto old = writer->harvest(*expired.certs[0], echain, Capabilities{});
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().code(), Errc::kExpired) << old.error().message();
}

TEST_F(StaffHarvestTest, CrlImportNamesTheHeldCertificatesItNewlyRevokes) {
  import_ok(cert_request("revoked"));
  import_ok(p12_request("alice"));
  auto crl = smime::parse_crl(read_file(pki("inter.crl")));
  ASSERT_TRUE(crl.has_value());
  auto r = ks_->import_crl(**crl, "test");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->newly_revoked.size(), 1U);
  const auto info = smime::inspect(*load_cert("revoked.crt"));
  EXPECT_EQ(r->newly_revoked[0].fingerprint, info.fingerprint_sha256);
  EXPECT_EQ(r->newly_revoked[0].reason, "keyCompromise");
  auto h = ks_->history(info.fingerprint_sha256);
  ASSERT_TRUE(h.has_value());
  ASSERT_EQ(h->size(), 2U);
  EXPECT_EQ((*h)[1].event, "revoked");
}

}  // namespace
}  // namespace keystore::test
