#include "tests/milter/postfix_stack.h"

namespace milter::fixture {

namespace fs = std::filesystem;
using testsupport::pki;

testsupport::TempDir* PostfixStack::dir_ = nullptr;
harness::MilterProcess* PostfixStack::milter_ = nullptr;
harness::PostfixInstance* PostfixStack::postfix_ = nullptr;

void PostfixStack::make_stack(const std::vector<fs::path>& anchors,
                              const std::vector<std::string>& staff) {
  dir_ = new testsupport::TempDir();
  const fs::path d = dir_->path();
  // smtpd (user postfix) must traverse it to reach the socket; files stay 0600.
  fs::permissions(d, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  testsupport::write_file(
      d / "m.conf",
      "[daemon]\nuser = \"root\"\ngroup = \"postfix\"\n"  // smtpd connects as postfix
      "[milter]\nauthserv_id = \"mx.example.gov\"\ninternal_hosts = []\n"
      "[keystore]\npath = \"" +
          (d / "k.db").string() + "\"\nsecret_file = \"" + (d / "secret").string() +
          "\"\n[audit]\ndatabase = \"" + (d / "audit.db").string() +
          "\"\n"
          "[[rule]]\nname = \"official\"\nsign = \"required\"\n"
          "[rule.match]\nsender = [\"*@example.gov\"]\n",
      0644);
  testsupport::write_file(d / "pass", "test-pass\n", 0600);
  ctl_ok({"init", "--create-secret"});
  for (const fs::path& anchor : anchors) {
    ctl_ok({"trust", "add", anchor.string()});
  }
  for (const std::string& n : staff) {
    ctl_ok({"import", pki(n + ".p12").string(), "--passphrase-file", (d / "pass").string()});
  }
  for (const char* c : {"root.crl", "inter.crl"}) {
    ctl_ok({"crl", "import", pki(c).string()});
  }
}

void PostfixStack::tear_down_stack() {
  delete postfix_;
  postfix_ = nullptr;
  delete milter_;
  milter_ = nullptr;
  delete dir_;
  dir_ = nullptr;
}

testsupport::CommandResult PostfixStack::ctl(std::vector<std::string> args) {
#ifdef SMIME_SMIMECTL_BINARY
  args.insert(args.begin(), {SMIME_SMIMECTL_BINARY, "-c", config_path().string()});
  return testsupport::run(args);
#else
  ADD_FAILURE() << "smimectl was not built";
  return {};
#endif
}

void PostfixStack::ctl_ok(const std::vector<std::string>& args) {
  const auto r = ctl(args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace milter::fixture
