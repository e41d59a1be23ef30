// `smimectl process`: the daemon's Session offline, on a keystore built with smimectl.
#include <gtest/gtest.h>

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
  const auto dec = testsupport::run({"openssl", "cms", "-decrypt", "-recip", pki("bob.crt").string(),
                                     "-inkey", pki("bob.key").string(), "-in",
                                     (*dir_ / "out.eml").string()});
  ASSERT_EQ(dec.exit_code, 0) << dec.out << "\n---\n" << message.substr(0, 500);
  testsupport::write_file(*dir_ / "inner.eml", dec.out);
  const auto ver = testsupport::run({"openssl", "cms", "-verify", "-CAfile", pki("root.crt").string(),
                                     "-in", (*dir_ / "inner.eml").string()});
  EXPECT_EQ(ver.exit_code, 0) << ver.out;
  EXPECT_NE(ver.out.find("Hello Bob"), std::string::npos);
}

TEST_F(ProcessCli, ExitStatusTellsRejectAndJsonDescribesIt) {
  testsupport::write_file(*dir_ / "strict.conf",
                          testsupport::read_file(*dir_ / "c.conf") +
                              "[default]\nsign = \"required\"\n",
                          0644);
  const auto r = testsupport::run(
      {SMIME_SMIMECTL_BINARY, "-c", (*dir_ / "strict.conf").string(), "--json", "process",
       "--direction", "outbound", "--from", "alice@example.gov", "--to", "x@elsewhere.example",
       "--auth", "bob"},
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

}  // namespace
#endif
