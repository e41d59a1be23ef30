// The harness itself: instances clean up after failing tests (also when the test process
// is killed), two instances run at once without clashing, the queue can be inspected,
// and SMTP AUTH works against the instance's private sasldb.
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/common/test_support.h"
#include "tests/harness/postfix_fixture.h"

namespace integration {
namespace {

namespace fs = std::filesystem;
using harness::PostfixInstance;

struct ChildInstance {
  fs::path dir;
  std::uint16_t smtp = 0;
  std::uint16_t sink = 0;
};

ChildInstance run_failing_child(const std::string& test_name, int& exit_code, std::string& output) {
  const auto r = testsupport::run({SMIME_INTEGRATION_CHILD, "--gtest_filter=Child." + test_name});
  exit_code = r.exit_code;
  output = r.out;
  std::smatch m;
  static const std::regex kLine(R"(INSTANCE dir=(\S+) smtp=(\d+) sink=(\d+))");
  ChildInstance c;
  if (std::regex_search(r.out, m, kLine)) {
    c.dir = m[1].str();
    c.smtp = static_cast<std::uint16_t>(std::stoi(m[2].str()));
    c.sink = static_cast<std::uint16_t>(std::stoi(m[3].str()));
  }
  return c;
}

bool gone_within(const ChildInstance& c, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (harness::processes_of(c.dir).empty() && !fs::exists(c.dir)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class Cleanup : public ::testing::TestWithParam<const char*> {};

TEST_P(Cleanup, NothingOfTheInstanceIsLeftAfterAFailingTest) {
  int code = 0;
  std::string out;
  const ChildInstance c = run_failing_child(GetParam(), code, out);
  ASSERT_FALSE(c.dir.empty()) << "child did not start an instance:\n" << out;
  EXPECT_NE(code, 0) << "the child test was meant to fail:\n" << out;
  EXPECT_TRUE(gone_within(c, std::chrono::seconds(20)))
      << "left behind in " << c.dir << ": " << harness::processes_of(c.dir).size() << " processes";
  EXPECT_TRUE(harness::port_is_free(c.smtp)) << c.smtp;
  EXPECT_TRUE(harness::port_is_free(c.sink)) << c.sink;
}

INSTANTIATE_TEST_SUITE_P(Child, Cleanup,
                         ::testing::Values("FailsAnAssertion", "Throws", "IsKilled"));

TEST(Fixture, TwoInstancesAtOnceDoNotClash) {
  // Started concurrently to exercise the port lock.
  auto fa = std::async(std::launch::async, [] { return std::make_unique<PostfixInstance>(); });
  auto fb = std::async(std::launch::async, [] { return std::make_unique<PostfixInstance>(); });
  const auto a = fa.get();
  const auto b = fb.get();
  EXPECT_NE(a->dir(), b->dir());
  EXPECT_NE(a->syslog_name(), b->syslog_name());
  const std::set<std::uint16_t> ports{a->smtp_port(), a->sink_port(), b->smtp_port(),
                                      b->sink_port()};
  EXPECT_EQ(ports.size(), 4U);

  for (const auto* pf : {a.get(), b.get()}) {
    const auto r = pf->submit({.from = "alice@example.org",
                               .to = {"bob@example.net"},
                               .data = "Subject: for " + pf->syslog_name() + "\n\nhi\n"});
    ASSERT_TRUE(r.accepted()) << r.end.code << " " << r.end.text << r.error;
  }
  for (const auto* pf : {a.get(), b.get()}) {
    const auto got = pf->wait_for_messages(1);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].header("Subject"), "for " + pf->syslog_name());
    ASSERT_TRUE(pf->wait_for_log("status=sent"));
    EXPECT_NE(pf->log().find(" " + pf->syslog_name() + "/smtpd["), std::string::npos);
  }
  EXPECT_EQ(a->log().find(b->syslog_name() + "/"), std::string::npos);
  EXPECT_EQ(b->log().find(a->syslog_name() + "/"), std::string::npos);
  EXPECT_FALSE(a->pids().empty());

  const fs::path dir_a = a->dir();
  a->stop();
  EXPECT_TRUE(harness::processes_of(dir_a).empty());
  EXPECT_FALSE(fs::exists(dir_a));
  // b is untouched by a's stop.
  EXPECT_TRUE(
      b->submit({.from = "a@example.org", .to = {"c@example.net"}, .data = "\nx\n"}).accepted());
}

TEST(Fixture, AFailedStartNamesTheProblemAndLeavesNothing) {
  std::string what;
  try {
    const PostfixInstance pf({.main_cf = {"mail_owner = nosuchuser"}});
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("unknown user name value: nosuchuser"), std::string::npos) << what;
  static const std::regex kDir(R"((/[^ \n]*/pfx-[A-Za-z0-9]{6}))");
  std::set<std::string> dirs;
  for (std::sregex_iterator it(what.begin(), what.end(), kDir), end; it != end; ++it) {
    dirs.insert((*it)[1].str());
  }
  EXPECT_EQ(dirs.size(), 1U) << what;  // a configuration error is not retried
  for (const auto& d : dirs) {
    EXPECT_FALSE(fs::exists(d)) << d;
    EXPECT_TRUE(harness::processes_of(d).empty()) << d;
  }
}

TEST(Fixture, QueueHoldsMailWhileTheSinkTempfails) {
  // smtp-sink -r RCPT: every RCPT gets 450, so Postfix keeps the message deferred.
  const PostfixInstance pf({.sink_options = {"-r", "RCPT"}});
  const auto r = pf.submit(
      {.from = "alice@example.org", .to = {"bob@example.net"}, .data = "Subject: q\n\nq\n"});
  ASSERT_TRUE(r.accepted()) << r.end.text;
  ASSERT_TRUE(pf.wait_for_log("status=deferred")) << pf.log();
  EXPECT_FALSE(pf.wait_for_queue_empty(std::chrono::milliseconds(300)));
  auto ids = pf.queue_ids();
  if (ids.empty()) {
    ids = pf.queue_ids();  // it was moving between deferred and active
  }
  ASSERT_EQ(ids.size(), 1U);
  EXPECT_EQ(ids[0], r.queue_id());
  const std::string json = pf.postqueue_json();
  EXPECT_NE(json.find("\"queue_id\": \"" + r.queue_id() + "\""), std::string::npos) << json;
  EXPECT_TRUE(pf.captured().empty());
}

TEST(Fixture, SmtpAuthAgainstThePrivateSasldb) {
  const PostfixInstance pf({.sasl_users = {{"alice", "s3cret-pass"}}});
  const auto good = pf.submit({.from = "alice@example.org",
                               .to = {"bob@example.net"},
                               .data = "Subject: auth\n\nx\n",
                               .auth_user = "alice",
                               .auth_pass = "s3cret-pass"});
  EXPECT_EQ(good.auth.code, 235) << good.auth.text;
  EXPECT_TRUE(good.accepted());
  const auto bad = pf.submit({.from = "alice@example.org",
                              .to = {"bob@example.net"},
                              .data = "Subject: auth\n\nx\n",
                              .auth_user = "alice",
                              .auth_pass = "wrong"});
  EXPECT_EQ(bad.auth.code, 535) << bad.auth.text;
  EXPECT_EQ(bad.mail.code, 0);
  EXPECT_FALSE(bad.accepted());
  EXPECT_TRUE(pf.wait_for_log("sasl_username=alice")) << pf.log();
}

}  // namespace
}  // namespace integration
