// The milter tooling: miltertest drives the null milter at protocol level, and the same
// milter runs behind the private Postfix (header added, reject and tempfail replies
// reach the SMTP client, {auth_authen} arrives, a dead milter tempfails).
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "tests/harness/milter_tools.h"
#include "tests/harness/postfix_fixture.h"

namespace integration {
namespace {

using harness::NullMilter;
using harness::PostfixInstance;

// Globals: SOCKET, AUTH, EXPECT_REPLY ("accept" or "reject"), EXPECT_HEADER.
constexpr const char* kNullMilterScript = R"lua(
local conn = mt.connect(SOCKET, 50, 0.1)
if conn == nil then error("cannot connect to " .. SOCKET) end
if mt.conninfo(conn, "client.test", "127.0.0.1") ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect not continued") end
if mt.helo(conn, "client.test") ~= nil then error("helo failed") end
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", AUTH, "i", "4ABCDE12F")
if mt.mailfrom(conn, "<alice@example.org>") ~= nil then error("mailfrom failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mailfrom not continued") end
for _, r in ipairs({"<bob@example.net>", "<carol@example.com>"}) do
  if mt.rcptto(conn, r) ~= nil then error("rcptto failed") end
  if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcpt not continued") end
end
if mt.header(conn, "From", "alice@example.org") ~= nil then error("header failed") end
if mt.header(conn, "Subject", "halo") ~= nil then error("header failed") end
if mt.eoh(conn) ~= nil then error("eoh failed") end
if mt.bodystring(conn, "Selamat pagi\r\n") ~= nil then error("body failed") end
if mt.eom(conn) ~= nil then error("eom failed") end
local reply = mt.getreply(conn)
if EXPECT_REPLY == "accept" then
  if reply ~= SMFIR_ACCEPT then error("expected accept, got " .. tostring(reply)) end
  if not mt.eom_check(conn, MT_HDRADD, "X-Null-Milter", EXPECT_HEADER) then
    error("X-Null-Milter: " .. EXPECT_HEADER .. " was not added")
  end
  mt.echo("header ok")
else
  if reply ~= SMFIR_REPLYCODE then error("expected a reply code, got " .. tostring(reply)) end
  if mt.eom_check(conn, MT_HDRADD) then error("a rejecting milter added a header") end
  mt.echo("reject ok")
end
mt.disconnect(conn)
)lua";

TEST(Miltertest, DrivesTheNullMilterAtProtocolLevel) {
  const NullMilter nm;
  const auto r = harness::run_miltertest(
      kNullMilterScript,
      {{"SOCKET", nm.libmilter_spec()},
       {"AUTH", "alice"},
       {"EXPECT_REPLY", "accept"},
       {"EXPECT_HEADER", "queue-id=4ABCDE12F; auth=alice; rcpts=2; body-bytes=14"}});
  EXPECT_EQ(r.exit_code, 0) << r.output << nm.output();
  EXPECT_NE(r.output.find("header ok"), std::string::npos) << r.output;
}

TEST(Miltertest, ReportsAFailedExpectation) {
  // The runner must not hide failures: the same script with a wrong expectation fails.
  const NullMilter nm;
  const auto r = harness::run_miltertest(
      kNullMilterScript,
      {{"SOCKET", nm.libmilter_spec()},
       {"AUTH", "alice"},
       {"EXPECT_REPLY", "accept"},
       {"EXPECT_HEADER", "queue-id=4ABCDE12F; auth=mallory; rcpts=2; body-bytes=14"}});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("was not added"), std::string::npos) << r.output;
}

TEST(Miltertest, SeesTheRejectReply) {
  const NullMilter nm({"-a", "reject"});
  const auto r = harness::run_miltertest(kNullMilterScript, {{"SOCKET", nm.libmilter_spec()},
                                                             {"AUTH", ""},
                                                             {"EXPECT_REPLY", "reject"},
                                                             {"EXPECT_HEADER", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.output << nm.output();
  EXPECT_NE(r.output.find("reject ok"), std::string::npos) << r.output;
}

TEST(PostfixWithMilter, NullMilterHeaderArrivesWithQueueIdAndLogin) {
  const NullMilter nm;
  const PostfixInstance pf({.milters = {nm.postfix_spec()},
                            .sasl_users = {{"alice@example.org", "pw-alice"}, {"bob", "pw-bob"}}});
  const auto r = pf.submit({.from = "alice@example.org",
                            .to = {"bob@example.net"},
                            .data = "Subject: milter\n\nSelamat pagi\n",
                            .auth_user = "alice@example.org",
                            .auth_pass = "pw-alice"});
  ASSERT_TRUE(r.accepted()) << r.end.code << " " << r.end.text << r.error << pf.log();
  const auto got = pf.wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U) << pf.log();
  const std::string h = got[0].header("X-Null-Milter");
  EXPECT_EQ(h, "queue-id=" + r.queue_id() + "; auth=alice@example.org; rcpts=1; body-bytes=14");
  EXPECT_EQ(got[0].body(), "Selamat pagi\n");

  // A login without a domain reaches the milter qualified with the instance's realm.
  pf.clear_captured();
  const auto r2 = pf.submit({.from = "bob@example.net",
                             .to = {"carol@example.com"},
                             .data = "\nx\n",
                             .auth_user = "bob",
                             .auth_pass = "pw-bob"});
  ASSERT_TRUE(r2.accepted()) << r2.auth.text << r2.end.text;
  const auto got2 = pf.wait_for_messages(1);
  ASSERT_EQ(got2.size(), 1U);
  EXPECT_EQ(got2[0].header("X-Null-Milter"), "queue-id=" + r2.queue_id() + "; auth=bob@mx." +
                                                 pf.syslog_name() + ".test; rcpts=1; body-bytes=3");
}

TEST(PostfixWithMilter, UnauthenticatedMailCarriesNoLogin) {
  const NullMilter nm;
  const PostfixInstance pf({.milters = {nm.postfix_spec()}});
  const auto r = pf.submit(
      {.from = "a@example.org", .to = {"b@example.net", "c@example.net"}, .data = "\nx\n"});
  ASSERT_TRUE(r.accepted()) << r.end.text;
  const auto got = pf.wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].header("X-Null-Milter"),
            "queue-id=" + r.queue_id() + "; auth=none; rcpts=2; body-bytes=3");
}

TEST(PostfixWithMilter, SendmailSubmissionGoesThroughNonSmtpdMilters) {
  const NullMilter nm;
  const PostfixInstance pf({.milters = {nm.postfix_spec()}});
  const auto [code, out] =
      pf.sendmail("alice@example.org", {"bob@example.net"}, "Subject: local\n\nhalo\n");
  ASSERT_EQ(code, 0) << out;
  const auto got = pf.wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U) << pf.log();
  const std::string h = got[0].header("X-Null-Milter");
  EXPECT_NE(h.find("; auth=none; rcpts=1; body-bytes=6"), std::string::npos) << h;
  EXPECT_EQ(got[0].body(), "halo\n");
}

TEST(PostfixWithMilter, RejectAndTempfailReachTheClient) {
  const NullMilter rejecting({"-a", "reject"});
  const NullMilter tempfailing({"-a", "tempfail"});
  for (const auto* nm : {&rejecting, &tempfailing}) {
    const PostfixInstance pf({.milters = {nm->postfix_spec()}});
    const auto r =
        pf.submit({.from = "a@example.org", .to = {"b@example.net"}, .data = "Subject: no\n\nx\n"});
    EXPECT_EQ(r.data.code, 354);
    if (nm == &rejecting) {
      EXPECT_EQ(r.end.code, 550);
      EXPECT_EQ(r.end.text, "5.7.1 null-milter rejects this message");
    } else {
      EXPECT_EQ(r.end.code, 451);
      EXPECT_EQ(r.end.text, "4.7.1 null-milter tempfails this message");
    }
    EXPECT_TRUE(pf.wait_for_queue_empty());
    EXPECT_TRUE(pf.captured().empty());
  }
}

TEST(PostfixWithMilter, DeadMilterTempfailsByDefault) {
  const PostfixInstance pf({.milters = {"unix:/nonexistent/smime-harness.sock"}});
  const auto r =
      pf.submit({.from = "a@example.org", .to = {"b@example.net"}, .data = "Subject: no\n\nx\n"});
  EXPECT_FALSE(r.accepted());
  const bool tempfailed = (r.mail.code >= 400 && r.mail.code < 500) ||
                          (r.end.code >= 400 && r.end.code < 500) ||
                          (!r.rcpt.empty() && r.rcpt[0].code >= 400 && r.rcpt[0].code < 500);
  EXPECT_TRUE(tempfailed) << "mail " << r.mail.code << " end " << r.end.code << " " << r.end.text;
  EXPECT_TRUE(pf.captured().empty());
}

}  // namespace
}  // namespace integration
