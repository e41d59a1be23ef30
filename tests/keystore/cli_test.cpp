// smimectl end to end: init, trust, import (single, directory, CSV manifest), list,
// show, export, revoke, crl import, expiring; documented exit codes per error class.
#include <cstdlib>
#include <filesystem>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "smime/x509.h"
#include "tests/common/test_support.h"
#include "tests/keystore/ctl_fixture.h"

namespace {
using testsupport::pki;
using testsupport::run;
using Json = nlohmann::json;
namespace fs = std::filesystem;

class SmimectlTest : public keystore::test::CtlTest {
 protected:
  void SetUp() override {
    CtlTest::SetUp();
    setup_keystore();
  }
};

TEST_F(SmimectlTest, InitCreatesPrivateFiles) {
  struct stat st {};
  ASSERT_EQ(::stat(db().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0U);
  ASSERT_EQ(::stat(secret().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0U);
  // A second --create-secret must not overwrite the secret.
  auto again = ctl({"init", "--secret-file", secret(), "--create-secret"});
  EXPECT_EQ(again.exit_code, cli::kExitConflict) << again.out;
}

TEST_F(SmimectlTest, ImportListShowExportRevoke) {
  auto r = import(pki("alice.p12").string(),
                  {"--owner", "Alice Wibowo", "--department", "Dinas Kominfo"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("imported"), std::string::npos);
  r = import(pki("alice.p12").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("unchanged"), std::string::npos);

  r = ctl({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json list = Json::parse(r.out);
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0]["emails"][0], "alice@example.gov");
  EXPECT_EQ(list[0]["owner"], "Alice Wibowo");
  EXPECT_EQ(list[0]["department"], "Dinas Kominfo");
  EXPECT_EQ(list[0]["has_private_key"], true);
  const std::string fp = list[0]["fingerprint"];

  r = ctl({"show", "alice@example.gov"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(fp), std::string::npos);
  EXPECT_EQ(r.out.find("PRIVATE KEY"), std::string::npos);

  const std::string out = (dir_ / "alice.pem").string();
  r = ctl({"export", fp, "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto exported = smime::parse_cert(testsupport::read_file(out));
  ASSERT_TRUE(exported.has_value());
  EXPECT_EQ(smime::inspect(**exported).fingerprint_sha256, fp);
  EXPECT_EQ(testsupport::read_file(out).find("PRIVATE"), std::string::npos);

  r = ctl({"show", "nobody@example.gov"});
  EXPECT_EQ(r.exit_code, cli::kExitNotFound) << r.out;

  r = ctl({"revoke", "alice@example.gov", "--reason", "keyCompromise", "--by", "ra-officer"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = ctl({"show", fp, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json shown = Json::parse(r.out);
  EXPECT_EQ(shown[0]["revoked"], true);
  EXPECT_EQ(shown[0]["revocation_reason"], "keyCompromise");
  r = ctl({"revoke", "alice@example.gov", "--reason", "lost"});
  EXPECT_EQ(r.exit_code, cli::kExitUsage) << r.out;
}

TEST_F(SmimectlTest, ErrorsHaveTheirExitCodes) {
  auto r = import(pki("mallory.p12").string());
  EXPECT_EQ(r.exit_code, cli::kExitTrust) << r.out;
  EXPECT_NE(r.out.find("mallory.p12"), std::string::npos);  // names the file
  r = import(pki("expired.p12").string());
  EXPECT_EQ(r.exit_code, cli::kExitTrust) << r.out;
  EXPECT_NE(r.out.find("--allow-expired"), std::string::npos);
  r = import(pki("noemail.p12").string());
  EXPECT_EQ(r.exit_code, cli::kExitInput) << r.out;
  testsupport::write_file(dir_ / "wrong", "not-the-passphrase\n", 0600);
  r = ctl({"import", pki("alice.p12").string(), "--secret-file", secret(), "--passphrase-file",
           (dir_ / "wrong").string()});
  EXPECT_EQ(r.exit_code, cli::kExitPassphrase) << r.out;
  const std::string p12 = testsupport::read_file(pki("alice.p12"));
  testsupport::write_file(dir_ / "truncated.p12", p12.substr(0, p12.size() / 2));
  r = import((dir_ / "truncated.p12").string());
  EXPECT_EQ(r.exit_code, cli::kExitInput) << r.out;
  r = ctl({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Json::parse(r.out).empty());  // nothing half-written

  testsupport::write_file(dir_ / "junk.db", std::string(2048, 'j'));
  r = run({SMIMECTL_PATH, "--db", (dir_ / "junk.db").string(), "list"});
  EXPECT_EQ(r.exit_code, cli::kExitUnavailable) << r.out;
  ::chmod(db().c_str(), 0644);
  r = ctl({"list"});
  EXPECT_EQ(r.exit_code, cli::kExitPermission) << r.out;
  r = ctl({"list", "--allow-unsafe-permissions"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(SmimectlTest, CrlImportAndExpiring) {
  ASSERT_EQ(import(pki("bob.chain.pem").string(), {"--owner", "Bob", "--department", "Bappeda"})
                .exit_code,
            0);
  auto r = ctl({"crl", "import", pki("inter.crl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 revoked"), std::string::npos);
  r = ctl({"crl", "import", pki("inter-empty.crl").string()});
  EXPECT_EQ(r.exit_code, cli::kExitConflict) << r.out;
  std::string der = testsupport::read_file(pki("inter.crl.der"));
  der[der.size() - 5] = static_cast<char>(der[der.size() - 5] ^ 0x55);
  testsupport::write_file(dir_ / "forged.crl", der);
  r = ctl({"crl", "import", (dir_ / "forged.crl").string()});
  EXPECT_EQ(r.exit_code, cli::kExitTrust) << r.out;

  r = ctl({"expiring", "--days", "800", "--json"});  // leaves are issued for 730 days
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json soon = Json::parse(r.out);
  ASSERT_EQ(soon.size(), 1U);
  EXPECT_EQ(soon[0]["owner"], "Bob");
  EXPECT_EQ(soon[0]["department"], "Bappeda");
  EXPECT_EQ(soon[0]["emails"][0], "bob@example.gov");
  r = ctl({"expiring", "--days", "30", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Json::parse(r.out).empty());
}

TEST_F(SmimectlTest, BulkDirectoryAndManifest) {
  const fs::path batch = dir_ / "batch";
  fs::create_directories(batch);
  for (const char* n : {"alice.p12", "bob.p12", "mallory.p12"}) {
    fs::copy_file(pki(n), batch / n);
  }
  testsupport::write_file(batch / "broken.p12", "not a pkcs12");
  auto r = import(batch.string(), {"--json", "--department", "Dinas Kesehatan"});
  EXPECT_EQ(r.exit_code, cli::kExitFailure) << r.out;
  const Json sum = Json::parse(r.out);
  EXPECT_EQ(sum["imported"].size(), 2U);
  EXPECT_EQ(sum["failed"].size(), 2U);
  EXPECT_EQ(sum["unchanged"].size(), 0U);

  testsupport::write_file(dir_ / "kepala.pass", "test-pass\n", 0600);
  fs::copy_file(pki("kepala.p12"), dir_ / "kepala.p12");
  fs::copy_file(pki("alice.p12"), dir_ / "alice.p12");
  testsupport::write_file(dir_ / "staff.csv",
                          "file,owner,department,type,passphrase_file\n"
                          "kepala.p12,Kepala Dinas,Dinas Kesehatan,role,kepala.pass\n"
                          "alice.p12,Alice,Dinas Kesehatan,individual,kepala.pass\n"
                          "missing.p12,Nobody,,individual,kepala.pass\n");
  r = ctl({"import", (dir_ / "staff.csv").string(), "--secret-file", secret()});
  EXPECT_EQ(r.exit_code, cli::kExitFailure) << r.out;
  EXPECT_NE(r.out.find("summary: 1 imported, 1 unchanged, 1 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing.p12"), std::string::npos);
  r = ctl({"show", "kepala@example.gov", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Json::parse(r.out)[0]["type"], "role");
}

TEST(SmimectlConfig, KeystoreLocationFromTheConfiguration) {
  testsupport::TempDir dir;
  const std::string cfg = (dir / "smime-milter.conf").string();
  testsupport::write_file(cfg, "[keystore]\npath = \"" + (dir / "ks.db").string() +
                                   "\"\nsecret_file = \"" + (dir / "secret").string() +
                                   "\"\n[audit]\ndatabase = \"" + (dir / "audit.db").string() +
                                   "\"\n");
  auto r = run({SMIMECTL_PATH, "-c", cfg, "init", "--create-secret"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir / "secret"));
  r = run({SMIMECTL_PATH, "-c", cfg, "trust", "add", pki("root.crt").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ::setenv("KS_TEST_PASS", "test-pass", 1);
  r = run({SMIMECTL_PATH, "-c", cfg, "import", pki("bob.p12").string(), "--passphrase-env",
           "KS_TEST_PASS", "--json"});
  ::unsetenv("KS_TEST_PASS");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Json::parse(r.out)["imported"][0]["key_stored"], true);  // secret from the config
  r = run({SMIMECTL_PATH, "-c", (dir / "missing.conf").string(), "list"});
  EXPECT_EQ(r.exit_code, cli::kExitConfig) << r.out;
}

}  // namespace

// Run as root (as in CI), init hands the keystore, the secret and the audit trail to the
// daemon's account ([daemon] user/group) and keeps their 0600 mode; a daemon account of
// root, or not running as root, leaves them with the invoking user.
TEST(SmimectlInit, RootHandsTheFilesToTheDaemonAccount) {
  struct Case {
    std::string daemon_user;
    uid_t want_uid;
    gid_t want_gid;
  };
  const bool root = ::geteuid() == 0;
  const std::vector<Case> cases = {
      {"user = \"nobody\"\ngroup = \"nogroup\"", root ? ::getpwnam("nobody")->pw_uid : ::geteuid(),
       root ? ::getgrnam("nogroup")->gr_gid : ::getegid()},
      {"user = \"root\"\ngroup = \"root\"", ::geteuid(), ::getegid()}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.daemon_user);
    testsupport::TempDir dir;
    const std::string cfg = (dir / "smime-milter.conf").string();
    testsupport::write_file(cfg, "[daemon]\n" + c.daemon_user + "\n[audit]\ndatabase = \"" +
                                     (dir / "audit.db").string() + "\"\n");
    auto r = run({SMIMECTL_PATH, "-c", cfg, "--db", (dir / "ks.db").string(), "init",
                  "--secret-file", (dir / "secret").string(), "--create-secret", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const bool handed = root && c.daemon_user.find("nobody") != std::string::npos;
    EXPECT_EQ(Json::parse(r.out).contains("owner"), handed) << r.out;
    for (const char* f : {"ks.db", "secret", "audit.db"}) {
      struct stat st {};
      ASSERT_EQ(::stat((dir / f).c_str(), &st), 0) << f;
      EXPECT_EQ(st.st_uid, c.want_uid) << f;
      EXPECT_EQ(st.st_gid, c.want_gid) << f;
      EXPECT_EQ(st.st_mode & 0777, 0600U) << f;
    }
  }
}
