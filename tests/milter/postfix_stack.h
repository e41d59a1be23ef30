// Shared set-up of the tests that run smime-milter behind a real Postfix
// (postfix_test, postfix_interop_test): a work directory smtpd can traverse, the
// milter configuration (authserv-id mx.example.gov, no internal hosts, sign required
// for *@example.gov, an audit trail), a keystore made with smimectl (a third party to
// the milter's own code: init, trust anchors, PKCS#12 imports, the test PKI's CRLs),
// and the processes' lifetimes. Derived fixtures start the milter and Postfix their way.
// Thread-safety: test-suite statics, one suite at a time (gtest runs suites in turn).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/common/test_support.h"
#include "tests/harness/milter_tools.h"
#include "tests/harness/postfix_fixture.h"

namespace milter::fixture {

class PostfixStack : public ::testing::Test {
 protected:
  // Writes m.conf and builds the keystore: `anchors` trusted, the test PKI's
  // <name>.p12 of each of `staff` imported with its key, root.crl and inter.crl.
  static void make_stack(const std::vector<std::filesystem::path>& anchors,
                         const std::vector<std::string>& staff);
  // Stops Postfix and the milter, removes the work directory.
  static void tear_down_stack();
  static std::filesystem::path config_path() { return *dir_ / "m.conf"; }
  // smimectl -c m.conf ARGS.
  static testsupport::CommandResult ctl(std::vector<std::string> args);
  static void ctl_ok(const std::vector<std::string>& args);

  static testsupport::TempDir* dir_;
  static harness::MilterProcess* milter_;
  static harness::PostfixInstance* postfix_;
};

}  // namespace milter::fixture
