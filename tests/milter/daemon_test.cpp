// The real smime-milter binary: miltertest scripts (protocol-level cases), SIGHUP
// reload, --check-config and startup refusals.
#include <chrono>
#include <regex>
#include <signal.h>
#include <thread>

#include <gtest/gtest.h>

#include "audit/trail.h"
#include "keystore/keystore.h"
#include "smime/x509.h"
#include "tests/common/test_support.h"
#include "tests/harness/milter_tools.h"

namespace {

namespace fs = std::filesystem;

const char* kBinary = SMIME_MILTER_BINARY;

// A keystore (root anchor only) and its secret in `dir`, made through the keystore API.
void make_keystore(const fs::path& dir) {
  testsupport::write_file(dir / "secret", "daemon-test-secret\n", 0600);
  keystore::OpenOptions o;
  o.create = true;
  o.secret_file = (dir / "secret").string();
  auto ks = keystore::Keystore::open((dir / "keystore.db").string(), o);
  ASSERT_TRUE(ks.has_value()) << ks.error().message();
  auto root = smime::parse_cert(testsupport::read_file(testsupport::pki("root.crt")));
  ASSERT_TRUE(root.has_value());
  ASSERT_TRUE((*ks)->add_anchor(**root, "test").has_value());
}

std::string config_text(std::string_view authserv_id, const fs::path& dir) {
  return "[daemon]\nuser = \"root\"\ngroup = \"root\"\nlog_level = \"info\"\n"
         "[keystore]\npath = \"" +
         (dir / "keystore.db").string() + "\"\nsecret_file = \"" + (dir / "secret").string() +
         "\"\n"
         "[audit]\ndatabase = \"" +
         (dir / "audit.db").string() +
         "\"\n"
         "[milter]\nauthserv_id = \"" +
         std::string(authserv_id) +
         "\"\n"
         "[limits]\nmax_message_size = 100000\nspool_threshold = 4096\n";
}

bool wait_for(const std::function<bool()>& cond) {
  for (int i = 0; i < 200; ++i) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

class Daemon : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testsupport::TempDir();
    make_keystore(dir_->path());
    testsupport::write_file(*dir_ / "m.conf", config_text("mx.example.org", dir_->path()), 0644);
    fs::create_directory(*dir_ / "spool");
    milter_ = new harness::MilterProcess(kBinary, {"-f", "-c", (*dir_ / "m.conf").string(),
                                                   "--spool-dir", (*dir_ / "spool").string()});
  }
  static void TearDownTestSuite() {
    delete milter_;
    delete dir_;
  }
  static harness::MiltertestResult script(const std::string& name, std::string_view id) {
    const fs::path dir = SMIME_MILTERTEST_DIR;
    return harness::run_miltertest(testsupport::read_file(dir / name),
                                   {{"socket", milter_->libmilter_spec()},
                                    {"authserv_id", std::string(id)},
                                    {"script_dir", dir.string()}});
  }
  static testsupport::TempDir* dir_;
  static harness::MilterProcess* milter_;
};
testsupport::TempDir* Daemon::dir_ = nullptr;
harness::MilterProcess* Daemon::milter_ = nullptr;

class Script : public Daemon, public ::testing::WithParamInterface<const char*> {};

TEST_P(Script, RunsCleanAgainstTheDaemon) {
  const auto r = script(GetParam(), "mx.example.org");
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- milter log:\n" << milter_->output();
  EXPECT_TRUE(fs::is_empty(*dir_ / "spool")) << "spool files left behind";
}

INSTANTIATE_TEST_SUITE_P(Miltertest, Script,
                         ::testing::Values("odd_headers.lua", "many_chunks.lua", "abort.lua",
                                           "several_messages.lua", "forged_ar.lua",
                                           "oversize.lua"));

TEST_F(Daemon, LogsOneLinePerMessageStartingWithTheQueueId) {
  ASSERT_EQ(script("forged_ar.lua", "mx.example.org").exit_code, 0);
  const std::string log = milter_->output();
  EXPECT_NE(log.find("info FORGE1: verdict=continue from=<mallory@example.net> rcpts=1"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("info FORGE2: verdict=continue"), std::string::npos) << log;
  // ... with the end-of-message time the MTA waited for.
  EXPECT_TRUE(std::regex_search(
      log, std::regex("FORGE1: verdict=continue [^\n]* auth=- eom_ms=[0-9]+\\.[0-9]{2} ")))
      << log;
  // Each decision is in the configured audit trail, with its envelope.
  auto trail = audit::Trail::open_read_only((*dir_ / "audit.db").string());
  ASSERT_TRUE(trail.has_value()) << trail.error().message();
  audit::Filter f;
  f.sender = "mallory@example.net";
  auto rows = (*trail)->search(f);
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  bool forge1 = false;
  for (const auto& e : *rows) {
    forge1 =
        forge1 || (e.queue_id == "FORGE1" && e.verdict == "accept" && e.direction == "inbound");
  }
  EXPECT_TRUE(forge1) << rows->size() << " records from mallory";
}

TEST_F(Daemon, SighupReloadsConfigurationAndKeepsServing) {
  testsupport::write_file(*dir_ / "m.conf", config_text("reloaded.example.org", dir_->path()),
                          0644);
  for (int i = 0; i < 10; ++i) {  // libmilter treats HUP as stop: make sure we get it
    ASSERT_EQ(::kill(milter_->pid(), SIGHUP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(wait_for([] {
    return milter_->output().find("authserv-id reloaded.example.org") != std::string::npos;
  })) << milter_->output();
  const auto r = script("forged_ar.lua", "reloaded.example.org");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto old = script("several_messages.lua", "mx.example.org");
  EXPECT_NE(old.exit_code, 0) << "the old id is no longer ours after the reload";

  testsupport::write_file(*dir_ / "m.conf", "[milter\nbroken", 0644);
  ASSERT_EQ(::kill(milter_->pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_for([] {
    return milter_->output().find("reload failed, keeping the running configuration") !=
           std::string::npos;
  })) << milter_->output();
  EXPECT_EQ(script("forged_ar.lua", "reloaded.example.org").exit_code, 0);
  testsupport::write_file(*dir_ / "m.conf", config_text("mx.example.org", dir_->path()), 0644);
  ASSERT_EQ(::kill(milter_->pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_for([] {
    const auto out = milter_->output();
    return out.rfind("authserv-id mx.example.org") > out.rfind("reload failed");
  }));
}

// A reload request in the first milliseconds (while threads are still starting) and a
// storm of them without any pause: every thread but the main one blocks HUP, so none
// of them can end the process nor reach libmilter's signal thread (which stops on HUP).
TEST(DaemonStartup, HupStormFromTheFirstMomentNeverStopsTheDaemon) {
  testsupport::TempDir dir;
  make_keystore(dir.path());
  testsupport::write_file(dir / "m.conf", config_text("storm.example.org", dir.path()), 0644);
  harness::MilterProcess milter(kBinary, {"-f", "-c", (dir / "m.conf").string()});
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(::kill(milter.pid(), SIGHUP), 0) << "daemon gone after " << i << " HUPs:\n"
                                               << milter.output();
  }
  ASSERT_TRUE(wait_for([&] {
    return milter.output().find("configuration reloaded") != std::string::npos;
  })) << milter.output();
  const fs::path scripts = SMIME_MILTERTEST_DIR;
  const auto r = harness::run_miltertest(testsupport::read_file(scripts / "forged_ar.lua"),
                                         {{"socket", milter.libmilter_spec()},
                                          {"authserv_id", "storm.example.org"},
                                          {"script_dir", scripts.string()}});
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- milter log:\n" << milter.output();
  EXPECT_EQ(milter.output().find("stopping"), std::string::npos) << milter.output();
}

// Without -f the daemon forks into the background (syslog), writes its pid file, opens
// its SQLite handles in the child, serves, and on SIGTERM removes the pid file.
TEST(DaemonStartup, BackgroundModeWritesThePidFileServesAndStopsOnTerm) {
  testsupport::TempDir dir;
  make_keystore(dir.path());
  const fs::path pid_file = dir / "m.pid";
  const fs::path sock = dir / "m.sock";
  std::string conf = config_text("bg.example.org", dir.path());
  conf.insert(conf.find("[keystore]"), "pid_file = \"" + pid_file.string() + "\"\n");
  testsupport::write_file(dir / "m.conf", conf, 0644);
  const auto r =
      testsupport::run({kBinary, "-c", (dir / "m.conf").string(), "-p", "local:" + sock.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;  // the parent returns once the child runs
  ASSERT_TRUE(wait_for([&] { return fs::exists(pid_file) && fs::exists(sock); })) << r.out;
  const pid_t pid = static_cast<pid_t>(std::stol(testsupport::read_file(pid_file)));
  ASSERT_GT(pid, 1);
  const fs::path scripts = SMIME_MILTERTEST_DIR;
  const auto mt = harness::run_miltertest(testsupport::read_file(scripts / "forged_ar.lua"),
                                          {{"socket", "local:" + sock.string()},
                                           {"authserv_id", "bg.example.org"},
                                           {"script_dir", scripts.string()}});
  EXPECT_EQ(mt.exit_code, 0) << mt.output;
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_TRUE(wait_for([&] { return !fs::exists(pid_file) && ::kill(pid, 0) != 0; }))
      << "pid file left behind or daemon still running";
}

TEST(DaemonStartup, CheckConfigPrintsEffectiveConfigurationOrFails) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "ok.conf", config_text("mx.example.org", dir.path()), 0644);
  const auto ok = testsupport::run({kBinary, "--check-config", (dir / "ok.conf").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("authserv_id = \"mx.example.org\""), std::string::npos) << ok.out;
  testsupport::write_file(dir / "bad.conf", "[daemon]\nsocket = \"inet:127.0.0.1:8891\"\n", 0644);
  const auto bad = testsupport::run({kBinary, "--check-config", (dir / "bad.conf").string()});
  EXPECT_EQ(bad.exit_code, 78) << bad.out;
  EXPECT_NE(bad.out.find("inet:8891@127.0.0.1"), std::string::npos) << bad.out;
}

TEST(DaemonStartup, ThePackagedSampleConfigurationPassesCheckConfig) {
  const std::string sample = std::string(SMIME_SOURCE_DIR) + "/packaging/smime-milter.conf";
  const auto r = testsupport::run({kBinary, "--check-config", sample});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("[daemon]"), std::string::npos) << r.out;
}

TEST(DaemonStartup, RefusesToReplaceAFileThatIsNotASocket) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "m.conf", config_text("mx.example.org", dir.path()), 0644);
  testsupport::write_file(dir / "m.sock", "precious", 0644);
  const auto r = testsupport::run(
      {kBinary, "-f", "-c", (dir / "m.conf").string(), "-p", "local:" + (dir / "m.sock").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("is not a socket"), std::string::npos) << r.out;
  EXPECT_EQ(testsupport::read_file(dir / "m.sock"), "precious");
}

}  // namespace
