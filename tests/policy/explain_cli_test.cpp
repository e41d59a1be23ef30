// smimectl policy explain / check / reference, run as a process: explicit facts, facts
// from a real keystore built with smimectl from the openssl-CLI test PKI, JSON output,
// exit codes and config errors.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "policy/config_keys.h"
#include "tests/common/test_support.h"

namespace {

using testsupport::run;

constexpr const char* kConfig = R"(
[milter]
internal_hosts = ["10.0.0.0/8"]
[[rule]]
name = "classified"
encrypt = "required"
sign = "required"
[rule.match]
headers = [{ name = "X-Classification", value = "RAHASIA" }]
[[rule]]
name = "finance"
signer = ["role", "individual"]
[rule.match]
department = ["Keuangan"]
[default]
sign = "if-possible"
encrypt = "if-possible"
)";

class ExplainCli : public ::testing::Test {
 protected:
  void SetUp() override { testsupport::write_file(dir_ / "smime-milter.conf", kConfig); }
  std::vector<std::string> cmd(std::vector<std::string> args) const {
    std::vector<std::string> argv{SMIMECTL, "-c", (dir_ / "smime-milter.conf").string(), "--db",
                                  (dir_ / "none.db").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  testsupport::TempDir dir_;
};

TEST_F(ExplainCli, ExplicitFactsTextAndExitCodes) {
  struct Case {
    std::vector<std::string> args;
    int want_rc;
    std::string want_text;
  };
  const Case cases[] = {
      {{"--auth", "alice", "--sender-cert", "found", "--recipient-cert", "b@x.go.id=found"},
       cli::kExitOk,
       "-> accept"},
      {{"--auth", "alice", "--sender-cert", "found", "--recipient-cert", "b@x.go.id=none",
        "--header", "X-Classification: RAHASIA"},
       cli::kExitReject,
       "reject 550 5.7.1 encryption required but no certificate for b@x.go.id"},
      {{"--client-ip", "10.1.1.1", "--sender-cert", "revocation-unknown", "--recipient-cert",
        "b@x.go.id=found", "--header", "X-Classification: rahasia"},
       cli::kExitTempfail,
       "rule 'classified' matches"},
      {{"--client-ip", "192.0.2.1"}, cli::kExitOk, "inbound: verify on, decrypt on"},
      {{"--auth", "a", "--department", "keuangan", "--sender-cert", "none", "--recipient-cert",
        "b@x.go.id=found"},
       cli::kExitOk,
       "rule 'finance' matches"},
      {{"--auth", "a", "--sender-cert", "found", "--recipient-cert", "b@x.go.id=found"},
       cli::kExitOk,
       "rule 'finance' does not match: sender's department 'Umum' is not one of Keuangan"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"policy", "explain",   "--from",       "alice@example.gov",
                                  "--to",   "b@x.go.id", "--department", "Umum"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto r = run(cmd(args));
    EXPECT_EQ(r.exit_code, c.want_rc) << r.out;
    EXPECT_NE(r.out.find(c.want_text), std::string::npos) << r.out;
  }
}

TEST_F(ExplainCli, JsonOutput) {
  const auto r = run(cmd({"policy",
                          "explain",
                          "--json",
                          "--department",
                          "Umum",
                          "--from",
                          "alice@example.gov",
                          "--to",
                          "b@x.go.id",
                          "--to",
                          "c@y.go.id",
                          "--auth",
                          "alice",
                          "--sender-cert",
                          "found",
                          "--recipient-cert",
                          "b@x.go.id=found,modern",
                          "--recipient-cert",
                          "c@y.go.id=none",
                          "--subject",
                          "hello"}));
  ASSERT_EQ(r.exit_code, cli::kExitOk) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["direction"], "outbound");
  EXPECT_EQ(j["rule"], "default");
  EXPECT_EQ(j["sign"], true);
  EXPECT_EQ(j["encrypt"], false);
  EXPECT_EQ(j["recipients_without_cert"], nlohmann::json::array({"c@y.go.id"}));
  EXPECT_EQ(j["verdict"]["action"], "accept");
  EXPECT_EQ(j["algorithms"]["cipher"], "aes-256-cbc");
  EXPECT_GE(j["reasons"].size(), 4U);
}

TEST_F(ExplainCli, MissingKeystoreMeansUnavailable) {
  const auto r = run(cmd({"policy", "explain", "--from", "alice@example.gov", "--to", "b@x.go.id",
                          "--auth", "alice"}));
  EXPECT_EQ(r.exit_code, cli::kExitTempfail) << r.out;
  EXPECT_NE(r.out.find("note: keystore not used"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tempfail 451 4.3.0"), std::string::npos) << r.out;
}

TEST_F(ExplainCli, FactsFromKeystore) {
  const std::string db = (dir_ / "ks.db").string();
  const std::string secret = (dir_ / "secret").string();
  testsupport::write_file(dir_ / "pass", "test-pass\n");
  const std::string pass = (dir_ / "pass").string();
  const auto ks = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{SMIMECTL, "--db", db};
    argv.insert(argv.end(), args.begin(), args.end());
    // Keystore changes are recorded in an audit trail (they fail closed without one).
    argv.insert(argv.end(), {"--secret-file", secret, "--audit-db", (dir_ / "audit.db").string()});
    const auto r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.out;
  };
  ks({"init", "--create-secret"});
  ks({"trust", "add", testsupport::pki("root.crt").string()});
  ks({"import", testsupport::pki("alice.p12").string(), "--passphrase-file", pass, "--department",
      "Keuangan"});
  ks({"import", testsupport::pki("bob.crt").string()});
  ks({"import", testsupport::pki("revoked.crt").string()});
  ks({"revoke", "revoked@example.gov", "--reason", "keyCompromise"});
  const auto explain = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{SMIMECTL,  "-c",     (dir_ / "smime-milter.conf").string(),
                                  "--db",    db,       "policy",
                                  "explain", "--auth", "alice",
                                  "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv);
    return std::make_pair(r.exit_code, nlohmann::json::parse(r.out, nullptr, false));
  };
  // alice's department routes her to "finance"; bob has a certificate: sign + encrypt.
  auto [rc, j] = explain({"--from", "alice@example.gov", "--to", "bob@example.gov"});
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(rc, cli::kExitOk) << j.dump(2);
  EXPECT_EQ(j["rule"], "finance");
  EXPECT_EQ(j["sign"], true);
  EXPECT_EQ(j["encrypt"], true);
  // classified mail to a revoked recipient is refused, naming them.
  std::tie(rc, j) = explain({"--from", "alice@example.gov", "--to", "bob@example.gov", "--to",
                             "revoked@example.gov", "--header", "X-Classification: RAHASIA"});
  EXPECT_EQ(rc, cli::kExitReject) << j.dump(2);
  EXPECT_EQ(j["recipients_without_cert"], nlohmann::json::array({"revoked@example.gov"}));
  EXPECT_EQ(j["facts"]["recipients"][1]["certificate"], "certificate revoked");
  // bob holds no key here, so signing for him is impossible (if-possible: unsigned).
  std::tie(rc, j) = explain({"--from", "bob@example.gov", "--to", "alice@example.gov"});
  EXPECT_EQ(rc, cli::kExitOk) << j.dump(2);
  EXPECT_EQ(j["sign"], false);
  EXPECT_EQ(j["encrypt"], true);
}

TEST_F(ExplainCli, CheckAndReference) {
  const auto ok = run({SMIMECTL, "policy", "check",
                       std::string(SMIME_SOURCE_DIR) + "/packaging/smime-milter.conf"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("[[rule]]\nname = \"classified-to-government\""), std::string::npos);
  testsupport::write_file(dir_ / "bad.conf", "[daemon]\nsocket = \"inet:127.0.0.1:8891\"\n");
  const auto bad = run({SMIMECTL, "policy", "check", (dir_ / "bad.conf").string()});
  EXPECT_EQ(bad.exit_code, cli::kExitConfig);
  EXPECT_NE(bad.out.find("bad.conf:2:10: daemon.socket: socket 'inet:127.0.0.1:8891' uses "
                         "Postfix's inet:host:port spelling"),
            std::string::npos)
      << bad.out;
  const auto ref = run({SMIMECTL, "policy", "reference"});
  EXPECT_EQ(ref.exit_code, 0);
  EXPECT_EQ(ref.out, policy::configuration_reference());
  const auto usage =
      run(cmd({"policy", "explain", "--from", "a@b", "--to", "c@d", "--sender-cert", "maybe"}));
  EXPECT_EQ(usage.exit_code, cli::kExitUsage) << usage.out;
}

}  // namespace
