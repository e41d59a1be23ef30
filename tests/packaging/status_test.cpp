// smimectl status against real files: a configuration, a keystore made with smimectl,
// a listening unix socket standing in for the milter, an audit trail made with the
// audit library. Each check must turn from ok to warn/fail when its subject breaks,
// and the exit code must follow (0 only when everything is ok).
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/trail.h"
#include "tests/common/test_support.h"

namespace {
using testsupport::pki;
using testsupport::run;
using Json = nlohmann::json;
namespace fs = std::filesystem;

class Listener {
 public:
  explicit Listener(const fs::path& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          ::listen(fd_, 4) == 0;
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_config(dir_ / "milter.sock");
    testsupport::write_file(dir_ / "pass", "test-pass\n", 0600);
    auto r = ctl({"init", "--create-secret"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = ctl({"trust", "add", pki("root.crt").string()});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    {
      auto t = audit::Trail::open((dir_ / "audit.db").string());
      ASSERT_TRUE(t) << t.error().message();
      audit::AdminRecord rec;
      rec.action = "test";
      rec.detail = "status test";
      ASSERT_TRUE((*t)->append_admin(rec));
      ASSERT_TRUE((*t)->append_admin(rec));
    }
  }
  void write_config(const fs::path& sock) {
    testsupport::write_file(
        dir_ / "smime-milter.conf",
        "[daemon]\nsocket = \"local:" + sock.string() + "\"\n[keystore]\npath = \"" +
            (dir_ / "ks.db").string() + "\"\nsecret_file = \"" + (dir_ / "secret").string() +
            "\"\n[audit]\ndatabase = \"" + (dir_ / "audit.db").string() + "\"\n",
        0600);
  }
  testsupport::CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {SMIMECTL, "-c", (dir_ / "smime-milter.conf").string()});
    return run(args);
  }
  void import(const std::string& name, const std::string& owner, bool allow_expired = false) {
    std::vector<std::string> a{"import", pki(name + ".p12").string(), "--owner",
                               owner,    "--passphrase-file",         (dir_ / "pass").string()};
    if (allow_expired) {
      a.emplace_back("--allow-expired");
    }
    auto r = ctl(a);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  // Runs `status --json`; returns name -> check and stores the exit code.
  std::map<std::string, Json> status(int& rc, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"status", "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = ctl(a);
    rc = r.exit_code;
    std::map<std::string, Json> out;
    const auto j = Json::parse(r.out.substr(r.out.find('{')), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    if (j.is_discarded()) {
      return out;
    }
    EXPECT_EQ(j["healthy"].get<bool>(), rc == 0) << r.out;
    for (const auto& c : j["checks"]) {
      out[c["name"].get<std::string>()] = c;
    }
    return out;
  }
  testsupport::TempDir dir_;
};

TEST_F(StatusTest, HealthyWhenEverythingIsInPlace) {
  Listener l(dir_ / "milter.sock");
  ASSERT_TRUE(l.ok());
  import("alice", "Alice Anggraini");
  auto r = ctl({"crl", "import", pki("inter.crl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  int rc = -1;
  auto c = status(rc);
  EXPECT_EQ(rc, 0);
  for (const char* name : {"config", "socket", "keystore", "crl", "expiring", "staff", "audit"}) {
    ASSERT_TRUE(c.count(name)) << name;
    EXPECT_EQ(c[name]["status"], "ok") << name << ": " << c[name].dump();
  }
  EXPECT_NE(c["crl"]["items"][0].get<std::string>().find("fresh until"), std::string::npos);
  EXPECT_NE(c["audit"]["detail"].get<std::string>().find(" records, chain intact"),
            std::string::npos);
  // The text form says the same.
  auto t = ctl({"status"});
  EXPECT_EQ(t.exit_code, 0) << t.out;
  EXPECT_NE(t.out.find("healthy"), std::string::npos) << t.out;
}

TEST_F(StatusTest, DeadSocketFails) {
  int rc = -1;
  auto c = status(rc);  // nothing listens on milter.sock
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(c["socket"]["status"], "fail");
  EXPECT_EQ(c["config"]["status"], "ok");
  EXPECT_EQ(c["keystore"]["status"], "ok");
}

TEST_F(StatusTest, MissingCrlExpiringAndStaffWithoutCertificateWarn) {
  Listener l(dir_ / "milter.sock");
  ASSERT_TRUE(l.ok());
  import("alice", "Alice Anggraini");
  import("expired", "Eko Expired", true);
  int rc = -1;
  auto c = status(rc, {"--days", "36500"});  // every held certificate "expires soon"
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(c["crl"]["status"], "warn");
  EXPECT_NE(c["crl"]["items"][0].get<std::string>().find("missing: "), std::string::npos);
  EXPECT_EQ(c["expiring"]["status"], "warn");
  EXPECT_NE(c["expiring"]["items"].dump().find("alice@example.gov"), std::string::npos);
  EXPECT_EQ(c["staff"]["status"], "warn");
  EXPECT_EQ(c["staff"]["items"], Json::array({"Eko Expired"})) << c["staff"].dump();
  EXPECT_EQ(c["socket"]["status"], "ok");
  // A revoked certificate is no valid certificate either.
  auto r = ctl({"revoke", "alice@example.gov", "--reason", "keyCompromise"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  c = status(rc);
  EXPECT_EQ(c["staff"]["items"], Json::array({"Alice Anggraini", "Eko Expired"}))
      << c["staff"].dump();
}

TEST_F(StatusTest, TamperedAuditTrailFails) {
  Listener l(dir_ / "milter.sock");
  ASSERT_TRUE(l.ok());
  auto r = run({"sqlite3", (dir_ / "audit.db").string(),
                "UPDATE records SET detail = 'forged' WHERE seq = 1"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  int rc = -1;
  auto c = status(rc);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(c["audit"]["status"], "fail");
  EXPECT_NE(c["audit"]["detail"].get<std::string>().find("changed"), std::string::npos)
      << c["audit"].dump();
}

// The crl and staff checks read the keystore with their own queries; a database error
// in either is a failure naming what could not be read, without items, and the other
// checks still run (text and JSON forms).
TEST_F(StatusTest, UnreadableCrlAndStaffTablesFail) {
  Listener l(dir_ / "milter.sock");
  ASSERT_TRUE(l.ok());
  import("alice", "Alice Anggraini");
  import("expired", "Eko Expired", true);
  const std::string db = (dir_ / "ks.db").string();
  auto r = run({"sqlite3", db, "ALTER TABLE crls RENAME TO crls_gone"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  int rc = -1;
  auto c = status(rc);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(c["crl"]["status"], "fail");
  EXPECT_EQ(c["crl"]["detail"], "cannot read CRLs: cannot prepare query: no such table: crls")
      << c["crl"].dump();
  EXPECT_EQ(c["crl"]["items"], Json::array());
  EXPECT_EQ(c["staff"]["status"], "warn");
  EXPECT_EQ(c["staff"]["items"], Json::array({"Eko Expired"})) << c["staff"].dump();
  EXPECT_EQ(c["audit"]["status"], "ok");
  auto t = ctl({"status"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.out.find("\nfail  crl       cannot read CRLs: cannot prepare query: no such table: "
                       "crls\nok    expiring  "),
            std::string::npos)
      << t.out;

  r = run({"sqlite3", db,
           "ALTER TABLE crls_gone RENAME TO crls; ALTER TABLE revocations RENAME TO r_gone"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  c = status(rc);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(c["crl"]["status"], "warn") << c["crl"].dump();
  EXPECT_EQ(c["staff"]["status"], "fail");
  EXPECT_EQ(c["staff"]["detail"],
            "cannot read staff: cannot prepare query: no such table: revocations")
      << c["staff"].dump();
  EXPECT_EQ(c["staff"]["items"], Json::array());
  t = ctl({"status"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.out.find("\nfail  staff     cannot read staff: cannot prepare query: no such "
                       "table: revocations\nok    audit     "),
            std::string::npos)
      << t.out;
}

TEST_F(StatusTest, BrokenConfigurationAndMissingKeystoreFail) {
  testsupport::write_file(dir_ / "smime-milter.conf", "[daemon]\nsockt = 1\n", 0600);
  int rc = -1;
  auto r = run({SMIMECTL, "-c", (dir_ / "smime-milter.conf").string(), "--db",
                (dir_ / "nothing.db").string(), "status", "--json", "--audit-db",
                (dir_ / "audit.db").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto j = Json::parse(r.out.substr(r.out.find('{')));
  EXPECT_FALSE(j["healthy"].get<bool>());
  EXPECT_EQ(j["checks"][0]["name"], "config");
  EXPECT_EQ(j["checks"][0]["status"], "fail");
  EXPECT_NE(j["checks"][0]["detail"].get<std::string>().find("sockt"), std::string::npos);
  bool keystore_failed = false;
  for (const auto& c : j["checks"]) {
    keystore_failed = keystore_failed || (c["name"] == "keystore" && c["status"] == "fail");
  }
  EXPECT_TRUE(keystore_failed) << r.out;
  (void)rc;
}

}  // namespace
