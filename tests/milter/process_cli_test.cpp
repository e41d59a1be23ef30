// `smimectl process`: the daemon's Session offline, on a keystore built with smimectl.
#include <cctype>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "audit/record.h"
#include "milter/snapshot.h"
#include "policy/config.h"
#include "tests/common/test_support.h"

#ifdef SMIME_SMIMECTL_BINARY
namespace {

namespace fs = std::filesystem;
using testsupport::pki;

class ProcessCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testsupport::TempDir();
    testsupport::write_file(*dir_ / "c.conf",
                            "[keystore]\npath = \"" + (*dir_ / "k.db").string() +
                                "\"\nsecret_file = \"" + (*dir_ / "secret").string() +
                                "\"\n[audit]\ndatabase = \"" + (*dir_ / "audit.db").string() +
                                "\"\n",
                            0644);
    testsupport::write_file(*dir_ / "pass", "test-pass\n", 0600);
    ctl_ok({"init", "--create-secret"});
    ctl_ok({"trust", "add", pki("root.crt").string()});
    for (const char* n : {"alice", "bob"}) {
      ctl_ok({"import", pki(std::string(n) + ".p12").string(), "--passphrase-file",
              (*dir_ / "pass").string()});
    }
    for (const char* c : {"root.crl", "inter.crl"}) {
      ctl_ok({"crl", "import", pki(c).string()});
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static testsupport::CommandResult ctl(std::vector<std::string> args, std::string_view in = {}) {
    args.insert(args.begin(), {SMIME_SMIMECTL_BINARY, "-c", (*dir_ / "c.conf").string()});
    return testsupport::run(args, in);
  }
  static void ctl_ok(const std::vector<std::string>& args) {
    const auto r = ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static testsupport::TempDir* dir_;
};
testsupport::TempDir* ProcessCli::dir_ = nullptr;

const char* kMsg = "From: alice@example.gov\nTo: bob@example.gov\nSubject: hi\n\nHello Bob\n";

TEST_F(ProcessCli, OutboundSignsAndEncryptsForOpenssl) {
  const auto r = ctl({"process", "--direction", "outbound", "--from", "alice@example.gov", "--to",
                      "bob@example.gov", "--auth", "alice"},
                     kMsg);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("direction=outbound"), std::string::npos) << r.out;
  const auto start = r.out.find("From: alice@example.gov");
  ASSERT_NE(start, std::string::npos) << r.out;
  // run() merges stdout and stderr: the message is the part from its first header on,
  // minus the decision lines, which stderr printed before it.
  std::string message = r.out.substr(start);
  for (const char* tag : {"verdict: ", "decision: "}) {
    const auto p = message.find(tag);
    if (p != std::string::npos) {
      message.erase(p, message.find('\n', p) + 1 - p);
    }
  }
  testsupport::write_file(*dir_ / "out.eml", message);
  const auto dec =
      testsupport::run({"openssl", "cms", "-decrypt", "-recip", pki("bob.crt").string(), "-inkey",
                        pki("bob.key").string(), "-in", (*dir_ / "out.eml").string()});
  ASSERT_EQ(dec.exit_code, 0) << dec.out << "\n---\n" << message.substr(0, 500);
  testsupport::write_file(*dir_ / "inner.eml", dec.out);
  const auto ver =
      testsupport::run({"openssl", "cms", "-verify", "-CAfile", pki("root.crt").string(), "-in",
                        (*dir_ / "inner.eml").string()});
  EXPECT_EQ(ver.exit_code, 0) << ver.out;
  EXPECT_NE(ver.out.find("Hello Bob"), std::string::npos);
}

TEST_F(ProcessCli, ExitStatusTellsRejectAndJsonDescribesIt) {
  testsupport::write_file(
      *dir_ / "strict.conf",
      testsupport::read_file(*dir_ / "c.conf") + "[default]\nsign = \"required\"\n", 0644);
  const auto r =
      testsupport::run({SMIME_SMIMECTL_BINARY, "-c", (*dir_ / "strict.conf").string(), "--json",
                        "process", "--direction", "outbound", "--from", "alice@example.gov", "--to",
                        "x@elsewhere.example", "--auth", "bob"},
                       kMsg);
  EXPECT_EQ(r.exit_code, 20) << r.out;  // kExitReject
  EXPECT_NE(r.out.find("\"verdict\":\"reject\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Hello Bob"), std::string::npos) << "nothing delivered on reject";
}

TEST_F(ProcessCli, InboundWithoutSignaturePassesUnchanged) {
  const auto r = ctl({"process", "--direction", "inbound", "--from", "x@elsewhere.example", "--to",
                      "alice@example.gov"},
                     kMsg);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("direction=inbound"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Hello Bob"), std::string::npos) << r.out;
}

// Offline runs are recorded in the configured audit trail exactly like the daemon's.
TEST_F(ProcessCli, DecisionIsRecordedInTheAuditTrail) {
  const auto r = ctl({"process", "--direction", "outbound", "--from", "alice@example.gov", "--to",
                      "bob@example.gov", "--auth", "alice", "--queue-id", "PROCAUDIT1"},
                     kMsg);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto found = ctl({"audit", "search", "--audit-db", (*dir_ / "audit.db").string(), "--from",
                          "alice@example.gov", "--json"});
  ASSERT_EQ(found.exit_code, 0) << found.out;
  std::string line;
  for (std::size_t p = 0, e = 0; p < found.out.size(); p = e + 1) {
    e = found.out.find('\n', p);
    e = e == std::string::npos ? found.out.size() : e;
    if (found.out.find("\"queue_id\":\"PROCAUDIT1\"", p) < e) {
      line = found.out.substr(p, e - p);
    }
  }
  ASSERT_FALSE(line.empty()) << found.out;
  for (const char* want :
       {"\"type\":\"decision\"", "\"direction\":\"outbound\"", "\"verdict\":\"accept\"",
        "\"auth_user\":\"alice\"", "\"sign\"", "\"encrypt\"", "bob@example.gov"}) {
    EXPECT_NE(line.find(want), std::string::npos) << want << " in " << line;
  }
  const auto v = ctl({"audit", "verify", "--audit-db", (*dir_ / "audit.db").string()});
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

// A trail that cannot be opened makes on_audit_failure apply (default tempfail): the
// message is not delivered unrecorded.
TEST_F(ProcessCli, UnwritableTrailTempfailsAndDeliversNothing) {
  const std::string conf = testsupport::read_file(*dir_ / "c.conf");
  const std::string good = (*dir_ / "audit.db").string();
  std::string bad_conf = conf;
  bad_conf.replace(bad_conf.find(good), good.size(), (*dir_ / "no-such-dir" / "audit.db").string());
  testsupport::write_file(*dir_ / "bad-audit.conf", bad_conf, 0644);
  const auto r = testsupport::run(
      {SMIME_SMIMECTL_BINARY, "-c", (*dir_ / "bad-audit.conf").string(), "process", "--direction",
       "outbound", "--from", "alice@example.gov", "--to", "bob@example.gov", "--auth", "alice"},
      kMsg);
  EXPECT_EQ(r.exit_code, 21) << r.out;  // kExitTempfail
  EXPECT_NE(r.out.find("audit"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("From: alice@example.gov"), std::string::npos) << "nothing delivered";
}

// The daemon's trail (milter::open_audit_trail) publishes chain heads by itself, signed
// with the system certificate that [audit] head_signer names in the keystore.
TEST_F(ProcessCli, ConfiguredTrailPublishesHeadsSignedByTheSystemCertificate) {
  ctl_ok({"import", pki("sistem.p12").string(), "--type", "system", "--passphrase-file",
          (*dir_ / "pass").string()});
  const auto db = *dir_ / "heads-audit.db";
  const std::string conf = testsupport::read_file(*dir_ / "c.conf");
  const std::string good = (*dir_ / "audit.db").string();
  std::string heads_conf = conf;
  heads_conf.replace(heads_conf.find(good), good.size(), db.string());
  heads_conf += "head_interval = 1\nhead_signer = \"noreply@example.gov\"\n";
  testsupport::write_file(*dir_ / "heads.conf", heads_conf, 0644);
  auto cfg = policy::load_config((*dir_ / "heads.conf").string());
  ASSERT_TRUE(cfg) << cfg.error().message();
  EXPECT_EQ((*cfg)->audit.head_interval, 1U);
  std::string heads;
  {
    const auto recorder = milter::open_audit_trail(**cfg);
    audit::AdminRecord a;
    a.action = "policy-reload";
    a.result = "ok";
    ASSERT_TRUE(recorder->append_admin(a));
    // Idle after the record: the writer publishes the head within about a second.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (heads.empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      heads = testsupport::run({"sqlite3", db.string(),
                                "SELECT seq, length(signature) > 0, length(signer) FROM heads"})
                  .out;
    }
  }
  EXPECT_EQ(heads, "1|1|64\n");
  const auto v = ctl({"audit", "verify", "--audit-db", db.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("(1 signed)"), std::string::npos) << v.out;
}

// [audit] head_interval / head_signer: defaults, range and form are checked at load time.
TEST(AuditHeadKeys, DefaultsAndValidation) {
  auto def = policy::parse_config("", "empty.conf");
  ASSERT_TRUE(def) << def.error().message();
  EXPECT_EQ((*def)->audit.head_interval, 3600U);
  EXPECT_EQ((*def)->audit.head_signer, "");
  struct Case {
    std::string toml, want_error;
  };
  const std::vector<Case> cases = {
      {"[audit]\nhead_interval = 0\nhead_signer = \"noreply@example.gov\"\n", ""},
      {"[audit]\nhead_interval = -1\n", "head_interval"},
      {"[audit]\nhead_interval = 2678401\n", "head_interval"},
      {"[audit]\nhead_interval = \"hourly\"\n", "head_interval"},
      {"[audit]\nhead_signer = \"noreply\"\n", "not a mailbox address"},
      {"[audit]\nhead_singer = \"noreply@example.gov\"\n", "head_singer"},
  };
  for (const auto& c : cases) {
    auto got = policy::parse_config(c.toml, "t.conf");
    if (c.want_error.empty()) {
      ASSERT_TRUE(got) << c.toml << got.error().message();
      EXPECT_EQ((*got)->audit.head_interval, 0U);
      EXPECT_EQ((*got)->audit.head_signer, "noreply@example.gov");
    } else {
      ASSERT_FALSE(got) << c.toml;
      EXPECT_NE(got.error().message().find(c.want_error), std::string::npos)
          << c.toml << got.error().message();
    }
  }
}

// `smimectl audit head --sign` signs with the same keystore certificate as the milter.
TEST_F(ProcessCli, AuditHeadSignsWithTheKeystoreSystemCertificate) {
  ctl_ok({"import", pki("sistem.p12").string(), "--type", "system", "--passphrase-file",
          (*dir_ / "pass").string()});
  const std::string db = (*dir_ / "audit.db").string();
  // c.conf ends in its [audit] table.
  testsupport::write_file(
      *dir_ / "signer.conf",
      testsupport::read_file(*dir_ / "c.conf") + "head_signer = \"noreply@example.gov\"\n", 0644);
  const auto fp = testsupport::run(
      {"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pki("sistem.crt").string()});
  ASSERT_EQ(fp.exit_code, 0) << fp.out;
  std::string want;
  for (const char ch : fp.out.substr(fp.out.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(ch)) != 0) {
      want += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
  }
  ASSERT_EQ(want.size(), 64U) << fp.out;
  auto r = testsupport::run({SMIME_SMIMECTL_BINARY, "-c", (*dir_ / "signer.conf").string(), "audit",
                             "head", "--audit-db", db, "--sign", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"signer\":\"" + want + "\""), std::string::npos) << r.out;
  r = ctl({"audit", "verify", "--audit-db", db, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("\"heads_signed\":0"), std::string::npos) << r.out;
  // No head_signer configured, or a mailbox without a system certificate: refused.
  r = ctl({"audit", "head", "--audit-db", db, "--sign"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("head_signer"), std::string::npos) << r.out;
  r = ctl({"audit", "head", "--audit-db", db, "--signer", "alice@example.gov"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("no usable system certificate"), std::string::npos) << r.out;
}

}  // namespace
#endif
