// Harvesting (trust.harvest_certificates) through Session and the real SmimePipeline,
// on the handles the daemon opens (open_keystore read-only for lookups,
// open_harvest_keystore writable, make_snapshot): a verified inbound signer's
// certificate is learnt, and the next outbound message to them is encrypted to it
// (opened with `openssl cms` and the correspondent's key); nothing is learnt when
// harvesting is off or the signature did not pass; a harvest that fails never
// changes the message's verdict. Each test has its own keystore.
#include <gtest/gtest.h>

#include "keystore/keystore.h"
#include "milter/snapshot.h"
#include "tests/common/test_support.h"
#include "tests/milter/log_capture.h"
#include "tests/milter/smime_fixture.h"

namespace milter {
namespace {

namespace fs = std::filesystem;
using testsupport::pki;

const fs::path kTbDir = "thunderbird-comm-central";

class PipelineHarvestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = fixture::make_keystore(dir_.path(), {{"alice", "Dinas Kominfo"}});
    ASSERT_TRUE(admin_);
    fixture::add_anchor(*admin_, testsupport::corpus_dir() / kTbDir / "smime/TestCA.pem");
  }

  // The snapshot the daemon would run with for `extra_toml`; `writable` false gives the
  // pipeline a read-only handle to harvest through (every harvest then fails).
  std::shared_ptr<const Snapshot> daemon_snapshot(const std::string& extra_toml,
                                                  bool writable = true) {
    const std::string toml = "[keystore]\npath = \"" + (dir_ / "keystore.db").string() +
                             "\"\nsecret_file = \"" + (dir_ / "secret").string() + "\"\n" +
                             extra_toml;
    auto cfg = policy::parse_config(toml, "harvest.conf");
    EXPECT_TRUE(cfg.has_value()) << cfg.error().message();
    auto lookups = open_keystore(**cfg);
    EXPECT_TRUE(lookups.has_value()) << lookups.error().message();
    auto harvester = writable ? open_harvest_keystore(**cfg) : open_keystore(**cfg);
    EXPECT_TRUE(harvester.has_value()) << harvester.error().message();
    return make_snapshot(*cfg, SnapshotOverrides{dir_.path().string(), "mx.example.gov"}, *lookups,
                         nullptr, *harvester);
  }

  static fixture::Delivery inbound(const std::shared_ptr<const Snapshot>& snap,
                                   const std::string& message, const std::string& sender) {
    fixture::Submission sub;
    sub.sender = "<" + sender + ">";
    sub.rcpts = {"alice@example.gov"};
    sub.client_ip = "203.0.113.5";
    return fixture::run_message(snap, sub, message);
  }

  static fixture::Delivery reply_to(const std::shared_ptr<const Snapshot>& snap,
                                    const std::string& rcpt) {
    fixture::Submission sub;
    sub.rcpts = {rcpt};
    sub.auth = "alice";
    return fixture::run_message(
        snap, sub, "From: alice@example.gov\nTo: " + rcpt + "\nSubject: reply\n\nThe reply.\n");
  }

  static bool encrypted(const fixture::Delivery& d) {
    return d.delivered.find("application/pkcs7-mime") != std::string::npos &&
           d.delivered.find("The reply.") == std::string::npos;
  }

  // openssl cms -decrypt with the correspondent's certificate and key.
  testsupport::CommandResult decrypt(const std::string& msg, const fs::path& crt,
                                     const fs::path& key) {
    testsupport::write_file(dir_ / "enc.eml", msg);
    return testsupport::run({"openssl", "cms", "-decrypt", "-recip", crt.string(), "-inkey",
                             key.string(), "-in", (dir_ / "enc.eml").string()});
  }

  std::vector<keystore::CertRecord> held(const std::string& address) {
    auto r = admin_->find_certs(address);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r ? std::move(*r) : std::vector<keystore::CertRecord>{};
  }

  testsupport::TempDir dir_;
  std::shared_ptr<keystore::Keystore> admin_;  // stays open, as smimectl's might
};

TEST_F(PipelineHarvestTest, VerifiedSignerIsHarvestedAndTheReplyIsEncryptedToIt) {
  const auto snap = daemon_snapshot("");
  const auto before = reply_to(snap, "carol@example.gov");
  ASSERT_EQ(before.outcome.verdict, Verdict::kContinue) << before.outcome.summary;
  EXPECT_FALSE(encrypted(before)) << "no certificate of carol yet";

  const std::string signed_msg =
      fixture::openssl_signed(dir_.path(), "carol", "carol@example.gov", "Hello Alice.");
  const auto in = inbound(snap, signed_msg, "carol@example.gov");
  ASSERT_EQ(in.outcome.verdict, Verdict::kContinue) << in.outcome.summary;
  EXPECT_EQ(fixture::added_auth_results(in.outcome).rfind("mx.example.gov; smime=pass", 0), 0U);
  const std::string fp = fixture::fingerprint(pki("carol.crt"));
  EXPECT_NE(in.outcome.summary.find("harvested=" + fp.substr(0, 16)), std::string::npos)
      << in.outcome.summary;
  const auto recs = held("carol@example.gov");
  ASSERT_EQ(recs.size(), 1U);
  EXPECT_EQ(recs[0].fingerprint, fp);
  EXPECT_EQ(recs[0].origin, "harvested");
  EXPECT_FALSE(recs[0].has_key);
  // openssl cms -sign announces SMIMECapabilities without any AES-GCM.
  auto rc = admin_->encryption_certs("carol@example.gov");
  ASSERT_TRUE(rc.has_value() && rc->size() == 1U);
  EXPECT_EQ(rc->front().caps.aes_gcm, std::optional<bool>(false));

  const auto after = reply_to(snap, "carol@example.gov");
  ASSERT_EQ(after.outcome.verdict, Verdict::kContinue) << after.outcome.summary;
  ASSERT_TRUE(encrypted(after)) << after.delivered.substr(0, 400);
  const auto dec = decrypt(after.delivered, pki("carol.crt"), pki("carol.key"));
  ASSERT_EQ(dec.exit_code, 0) << dec.out;
  testsupport::write_file(dir_ / "signed.eml", dec.out);
  const auto ver =
      testsupport::run({"openssl", "cms", "-verify", "-CAfile", pki("root.crt").string(), "-in",
                        (dir_ / "signed.eml").string()});
  EXPECT_EQ(ver.exit_code, 0) << ver.out;
  EXPECT_NE(ver.out.find("The reply."), std::string::npos) << ver.out;

  // Seen again: nothing new is stored.
  const auto again = inbound(snap, signed_msg, "carol@example.gov");
  EXPECT_EQ(again.outcome.summary.find("harvested="), std::string::npos) << again.outcome.summary;
  EXPECT_EQ(held("carol@example.gov").size(), 1U);
}

TEST_F(PipelineHarvestTest, NothingIsLearntWhenHarvestingIsOff) {
  const auto snap = daemon_snapshot("[trust]\nharvest_certificates = false\n");
  const auto in = inbound(
      snap, fixture::openssl_signed(dir_.path(), "carol", "carol@example.gov", "Hello Alice."),
      "carol@example.gov");
  ASSERT_EQ(in.outcome.verdict, Verdict::kContinue) << in.outcome.summary;
  EXPECT_EQ(fixture::added_auth_results(in.outcome).rfind("mx.example.gov; smime=pass", 0), 0U);
  EXPECT_EQ(in.outcome.summary.find("harvest"), std::string::npos) << in.outcome.summary;
  EXPECT_TRUE(held("carol@example.gov").empty());
  EXPECT_FALSE(encrypted(reply_to(snap, "carol@example.gov")));
}

TEST_F(PipelineHarvestTest, SignaturesThatDoNotPassTeachNothing) {
  const auto snap = daemon_snapshot("");
  std::string tampered =
      fixture::openssl_signed(dir_.path(), "carol", "carol@example.gov", "Hello Alice.");
  tampered.replace(tampered.find("Hello"), 5, "Jello");
  struct Case {
    std::string message, sender, want;
  };
  const std::vector<Case> cases = {
      {tampered, "carol@example.gov", "mx.example.gov; smime=fail"},
      // carol's valid signature on mail claiming to be from dave: sender-mismatch
      {fixture::openssl_signed(dir_.path(), "carol", "dave@partner.example", "Hi."),
       "dave@partner.example", "mx.example.gov; smime=policy (sender-mismatch)"},
      // mallory's chain leads to a root we do not trust
      {fixture::openssl_signed(dir_.path(), "mallory", "mallory@example.gov", "Hi."),
       "mallory@example.gov", "mx.example.gov; smime=fail"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    const auto in = inbound(snap, c.message, c.sender);
    EXPECT_EQ(fixture::added_auth_results(in.outcome).rfind(c.want, 0), 0U)
        << fixture::added_auth_results(in.outcome);
    EXPECT_EQ(in.outcome.summary.find("harvest"), std::string::npos) << in.outcome.summary;
  }
  for (const char* who : {"carol@example.gov", "dave@partner.example", "mallory@example.gov"}) {
    EXPECT_TRUE(held(who).empty()) << who;
  }
}

TEST_F(PipelineHarvestTest, HarvestFailureIsLoggedAndNeverChangesTheVerdict) {
  const auto snap = daemon_snapshot("", /*writable=*/false);
  fixture::LogCapture log;
  const auto in = inbound(
      snap, fixture::openssl_signed(dir_.path(), "carol", "carol@example.gov", "Hello Alice."),
      "carol@example.gov");
  EXPECT_EQ(in.outcome.verdict, Verdict::kContinue) << in.outcome.summary;
  EXPECT_EQ(fixture::added_auth_results(in.outcome).rfind("mx.example.gov; smime=pass", 0), 0U);
  EXPECT_NE(in.outcome.summary.find("harvest-failed="), std::string::npos) << in.outcome.summary;
  const auto warnings = log.lines("warning");
  ASSERT_EQ(warnings.size(), 1U) << log.text();
  EXPECT_EQ(warnings[0].rfind("warning QTEST: certificate ", 0), 0U) << warnings[0];
  EXPECT_TRUE(held("carol@example.gov").empty());
}

// The Thunderbird corpus: Alice's chain leads to the corpus CA we anchor, but no CRL of
// it is held, so she passes (and is harvested) only when check_revocation = false.
TEST_F(PipelineHarvestTest, ThunderbirdSignerIsHarvestedOnlyWhenRevocationIsNotChecked) {
  const std::string tb = testsupport::read_file(testsupport::corpus_dir() / kTbDir /
                                                "smime/alice.dsig.SHA256.multipart.eml");
  const auto strict = inbound(daemon_snapshot(""), tb, "Alice@example.com");
  EXPECT_EQ(fixture::added_auth_results(strict.outcome)
                .rfind("mx.example.gov; smime=temperror (revocation-unknown)", 0),
            0U)
      << strict.outcome.summary;
  EXPECT_TRUE(held("alice@example.com").empty());

  const auto snap = daemon_snapshot("[trust]\ncheck_revocation = false\n");
  const auto lenient = inbound(snap, tb, "Alice@example.com");
  EXPECT_EQ(fixture::added_auth_results(lenient.outcome).rfind("mx.example.gov; smime=pass", 0), 0U)
      << lenient.outcome.summary;
  EXPECT_NE(lenient.outcome.summary.find("harvested="), std::string::npos)
      << lenient.outcome.summary;
  ASSERT_EQ(held("alice@example.com").size(), 1U);

  const auto reply = reply_to(snap, "Alice@example.com");
  ASSERT_EQ(reply.outcome.verdict, Verdict::kContinue) << reply.outcome.summary;
  ASSERT_TRUE(encrypted(reply)) << reply.delivered.substr(0, 400);
  const fs::path pem = testsupport::corpus_dir() / kTbDir / "derived-pem";
  const auto dec = decrypt(reply.delivered, pem / "Alice.crt", pem / "Alice.key");
  ASSERT_EQ(dec.exit_code, 0) << dec.out;
  EXPECT_NE(dec.out.find("The reply."), std::string::npos) << dec.out.substr(0, 600);
}

}  // namespace
}  // namespace milter
