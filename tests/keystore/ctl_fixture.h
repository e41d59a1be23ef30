// Shared fixture for the tests that run the built smimectl (cli_test.cpp,
// admin_audit_test.cpp): a temp dir with a PKCS#12 passphrase file and a configuration
// naming an audit trail (admin commands refuse to run without one). Test-only code.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace keystore::test {

class CtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testsupport::write_file(dir_ / "pass", "test-pass\n", 0600);
    testsupport::write_file(conf(), "[audit]\ndatabase = \"" + trail() + "\"\n", 0600);
  }
  std::string db() const { return (dir_ / "ks.db").string(); }
  std::string secret() const { return (dir_ / "secret").string(); }
  std::string conf() const { return (dir_ / "smime-milter.conf").string(); }
  std::string trail() const { return (dir_ / "audit.db").string(); }
  testsupport::CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {SMIMECTL_PATH, "-c", conf(), "--db", db()});
    return testsupport::run(args);
  }
  void ok(const std::vector<std::string>& args) {
    const auto r = ctl(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.out;
  }
  // init with a new secret, and the test PKI's root as trust anchor.
  void setup_keystore() {
    ok({"init", "--secret-file", secret(), "--create-secret"});
    ok({"trust", "add", testsupport::pki("root.crt").string()});
  }
  // smimectl import FILE with the secret and the passphrase file.
  testsupport::CommandResult import(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "import", file, "--secret-file", secret(), "--passphrase-file", (dir_ / "pass").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return ctl(args);
  }

  testsupport::TempDir dir_;
};

}  // namespace keystore::test
