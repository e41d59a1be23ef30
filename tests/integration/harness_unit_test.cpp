// The harness's pure parts, without Postfix: smtp-sink dump parsing and SMTP DATA
// encoding. Table-driven got/want cases.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/harness/sink_capture.h"
#include "tests/harness/smtp_client.h"

namespace integration {
namespace {

constexpr const char* kDump =
    "X-Client-Addr: 127.0.0.1\n"
    "X-Client-Proto: ESMTP\n"
    "X-Helo-Args: mx.pfx-test.test\n"
    "X-Mail-Args: <alice@example.org> SIZE=120 BODY=8BITMIME\n"
    "X-Rcpt-Args: <bob@example.net> ORCPT=rfc822;bob@example.net\n"
    "X-Rcpt-Args: <carol@example.com>\n"
    "Received: from mx.pfx-test.test ([127.0.0.1])\n"
    "\tby sink.test (smtp-sink) with ESMTP id 3e95750f;\n"
    "\tWed, 25 Nov 2026 00:01:41 +0000 (UTC)\n"
    "Received: from client.test (localhost [127.0.0.1])\n"
    "\tby mx.pfx-test.test (Postfix) with ESMTP id A6EECA722D1\n"
    "Subject: Halo\n"
    "X-Folded: one\n"
    " two\n"
    "subject: second\n"
    "\n"
    "Selamat pagi\n"
    "\n"
    "-- \n"
    "\n";

TEST(SinkDump, ParsesEnvelopeHeadersAndBody) {
  const auto m = harness::parse_sink_dump(kDump, "dump-file");
  EXPECT_EQ(m.file, "dump-file");
  EXPECT_EQ(m.client_addr, "127.0.0.1");
  EXPECT_EQ(m.helo, "mx.pfx-test.test");
  EXPECT_EQ(m.envelope_from(), "alice@example.org");
  EXPECT_EQ(m.envelope_to(), (std::vector<std::string>{"bob@example.net", "carol@example.com"}));
  EXPECT_EQ(m.rcpt_args[0], "<bob@example.net> ORCPT=rfc822;bob@example.net");
  // smtp-sink's own Received and its appended empty line are gone; Postfix's stays.
  EXPECT_EQ(m.headers("Received").size(), 1U);
  EXPECT_EQ(m.header("received"),
            "from client.test (localhost [127.0.0.1])\tby mx.pfx-test.test (Postfix) with ESMTP id "
            "A6EECA722D1");
  EXPECT_EQ(m.headers("SUBJECT"), (std::vector<std::string>{"Halo", "second"}));
  EXPECT_EQ(m.header("X-Folded"), "one two");
  EXPECT_EQ(m.header("Missing"), "");
  EXPECT_EQ(m.body(), "Selamat pagi\n\n-- \n");
}

TEST(SinkDump, MessageWithoutHeaderFields) {
  const std::string dump =
      "X-Client-Addr: 127.0.0.1\nX-Client-Proto: ESMTP\nX-Mail-Args: <>\n"
      "Received: from x ([127.0.0.1])\n\tby s (smtp-sink) with ESMTP id 1;\n\tdate\n"
      "\nbody only\n\n";
  const auto m = harness::parse_sink_dump(dump);
  EXPECT_EQ(m.envelope_from(), "");
  EXPECT_EQ(m.header_block(), "");
  EXPECT_EQ(m.body(), "body only\n");
}

TEST(SinkDump, RejectsTextThatIsNotADump) {
  for (const std::string bad :
       {"", "Subject: hi\n\nbody\n", "X-Client-Addr: 1\nX-Mail-Args: <a@b>\n",
        "X-Client-Addr: 1\nReceived: from x\n\tby s (smtp-sink)\n\nbody\n"}) {
    EXPECT_THROW(harness::parse_sink_dump(bad), std::runtime_error) << bad;
  }
}

TEST(SmtpData, CrlfLineEndsAndDotStuffing) {
  struct Case {
    std::string in, want;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"a", "a\r\n"},
      {"a\nb\n", "a\r\nb\r\n"},
      {"a\r\nb\r\n", "a\r\nb\r\n"},
      {".\n", "..\r\n"},
      {".hidden\n..two\nmid.dot\n", "..hidden\r\n...two\r\nmid.dot\r\n"},
      {"\n\n", "\r\n\r\n"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(harness::smtp_data_encode(c.in), c.want) << c.in;
  }
}

TEST(SmtpSubmit, ReportsAnUnreachableServer) {
  // Port 1 on loopback: nothing listens there in a test machine.
  const auto r =
      harness::smtp_submit(1, {.from = "a@example.org", .to = {"b@example.net"}, .data = "x\n"});
  EXPECT_NE(r.error.find("connect 127.0.0.1:1"), std::string::npos) << r.error;
  EXPECT_EQ(r.greeting.code, 0);
  EXPECT_FALSE(r.accepted());
}

}  // namespace
}  // namespace integration
