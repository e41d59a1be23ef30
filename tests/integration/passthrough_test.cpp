// A message goes through a real private Postfix to smtp-sink and arrives unchanged:
// UTF-8 8bit text, a 990-octet line, dot lines, a folded header and a binary attachment.
// Also documents what Postfix does to a line longer than smtp_line_length_limit (998).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/harness/postfix_fixture.h"
#include "tests/integration/sample_mail.h"

namespace integration {
namespace {

using harness::CapturedMessage;
using harness::Message;
using harness::PostfixInstance;
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string header_of(const std::string& m) {
  return m.substr(0, m.find("\n\n") + 1);
}
std::string body_of(const std::string& m) {
  return m.substr(m.find("\n\n") + 2);
}

Fields without(const Fields& fields, const std::string& name) {
  Fields out;
  for (const auto& f : fields) {
    if (f.first != name) {
      out.push_back(f);
    }
  }
  return out;
}

class Passthrough : public ::testing::Test {
 protected:
  // One instance for the suite's tests in this process (ctest runs each test in its own
  // process, so each gets a fresh one; a plain gtest run shares it).
  static void SetUpTestSuite() { instance_ = std::make_unique<PostfixInstance>(); }
  static void TearDownTestSuite() { instance_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(instance_->wait_for_queue_empty());
    instance_->clear_captured();
  }

  static CapturedMessage send_one(const Message& m) {
    const auto r = instance_->submit(m);
    EXPECT_EQ(r.error, "");
    EXPECT_TRUE(r.accepted()) << r.end.code << " " << r.end.text;
    auto got = instance_->wait_for_messages(1);
    if (got.size() != 1) {
      ADD_FAILURE() << "captured " << got.size() << " messages; log:\n" << instance_->log();
      return {};
    }
    return got.front();
  }

  static std::unique_ptr<PostfixInstance> instance_;
};
std::unique_ptr<PostfixInstance> Passthrough::instance_;

TEST_F(Passthrough, Utf8LongLineAndBinaryAttachmentArriveUnchanged) {
  const std::string sent = sample_message("passthrough");
  const auto got = send_one({.from = "alice@example.org", .to = {"bob@example.net"}, .data = sent});

  EXPECT_EQ(got.envelope_from(), "alice@example.org");
  EXPECT_EQ(got.envelope_to(), std::vector<std::string>{"bob@example.net"});
  // The body, byte for byte (LF line ends on both sides: smtp-sink writes LF).
  EXPECT_EQ(got.body(), body_of(sent));
  EXPECT_NE(got.body().find(indonesian_text()), std::string::npos);
  EXPECT_NE(got.body().find("\n" + long_line(990) + "\n"), std::string::npos);
  // Every header field, in order and with its folding; Postfix only prepends Received.
  const Fields sent_fields = harness::split_header_fields(header_of(sent));
  const Fields got_fields = harness::split_header_fields(got.header_block());
  EXPECT_EQ(without(got_fields, "Received"), sent_fields);
  ASSERT_FALSE(got_fields.empty());
  EXPECT_EQ(got_fields.front().first, "Received");
  EXPECT_NE(got.header("Received").find("by mx." + instance_->syslog_name() + ".test (Postfix)"),
            std::string::npos);
  // The attachment decodes to the very bytes we sent.
  const std::string body = got.body();
  const auto start = body.find("\n\n", body.find("filename=\"laporan.bin\"")) + 2;
  const auto end = body.find("--=_harness_boundary_0001--");
  ASSERT_LT(start, end);
  EXPECT_EQ(base64_decode(body.substr(start, end - start)), sample_binary());
}

TEST_F(Passthrough, SeveralRecipientsAndTheNullSender) {
  const std::string sent = "Subject: bounce-like\n\nno sender\n";
  const auto got =
      send_one({.from = "", .to = {"bob@example.net", "carol@example.com"}, .data = sent});
  EXPECT_EQ(got.envelope_from(), "");
  auto rcpts = got.envelope_to();
  std::sort(rcpts.begin(), rcpts.end());  // Postfix does not keep the RCPT order
  EXPECT_EQ(rcpts, (std::vector<std::string>{"bob@example.net", "carol@example.com"}));
  EXPECT_EQ(got.body(), "no sender\n");
  EXPECT_EQ(got.header("Subject"), "bounce-like");
}

// smtp_line_length_limit = 998: the Postfix SMTP client breaks longer lines by inserting
// CRLF SPACE (postconf(5)), so a 1500-octet body line arrives as a 998-octet line and a
// continuation line starting with one space. "Same body" therefore holds only for lines of
// at most 998 octets; the product must never emit longer ones (RFC 5322 2.1.1).
TEST_F(Passthrough, LineLongerThan998OctetsIsBrokenWithCrlfSpace) {
  const std::string line = long_line(1500, 'y');
  const std::string sent = "Subject: long line\n\nbefore\n" + line + "\nafter\n";
  const auto got = send_one({.from = "alice@example.org", .to = {"bob@example.net"}, .data = sent});
  EXPECT_EQ(got.body(), "before\n" + line.substr(0, 998) + "\n " + line.substr(998) + "\nafter\n");
}

TEST_F(Passthrough, RejectAndDeferRepliesAreReportedPerStage) {
  // Postfix's own access checks stand in for a milter verdict: the client must report
  // each stage's reply code and text.
  PostfixInstance pf({.main_cf = {"smtpd_recipient_restrictions = check_recipient_access "
                                  "inline:{{no@example.net = REJECT no thanks}, "
                                  "{later@example.net = DEFER try later}}, permit"}});
  const auto r = pf.submit({.from = "alice@example.org",
                            .to = {"no@example.net", "later@example.net", "bob@example.net"},
                            .data = "Subject: mixed\n\nhi\n"});
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.greeting.code, 220);
  EXPECT_EQ(r.mail.code, 250);
  ASSERT_EQ(r.rcpt.size(), 3U);
  EXPECT_EQ(r.rcpt[0].code, 554);
  EXPECT_NE(r.rcpt[0].text.find("no thanks"), std::string::npos);
  EXPECT_EQ(r.rcpt[1].code, 450);
  EXPECT_NE(r.rcpt[1].text.find("try later"), std::string::npos);
  EXPECT_EQ(r.rcpt[2].code, 250);
  EXPECT_EQ(r.data.code, 354);
  EXPECT_TRUE(r.accepted());
  EXPECT_FALSE(r.queue_id().empty());
  const auto got = pf.wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].envelope_to(), std::vector<std::string>{"bob@example.net"});
}

TEST_F(Passthrough, SendmailSubmissionIsRelayedToo) {
  const auto [code, out] = instance_->sendmail("alice@example.org", {"bob@example.net"},
                                               "Subject: via sendmail\n\nhalo dunia\n");
  ASSERT_EQ(code, 0) << out;
  const auto got = instance_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U) << instance_->log();
  EXPECT_EQ(got[0].header("Subject"), "via sendmail");
  EXPECT_EQ(got[0].body(), "halo dunia\n");
  EXPECT_EQ(got[0].envelope_from(), "alice@example.org");
}

}  // namespace
}  // namespace integration
