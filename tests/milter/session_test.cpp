#include "milter/session.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "milter/auth_results.h"
#include "tests/common/test_support.h"
#include "tests/milter/log_capture.h"

namespace milter {
namespace {

namespace fs = std::filesystem;

std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Records what the pipeline saw, including the spool state while the message lives.
class RecordingPipeline : public Pipeline {
 public:
  Outcome process(const Message& m, const Snapshot& snap) override {
    ++calls;
    headers = m.headers;
    envelope = m.envelope;
    authserv_id = snap.settings.authserv_id;
    auto body = m.body->contents();
    body_text = body ? *body : "<error>";
    spooled = m.body->spooled();
    spool_path = m.body->path();
    if (spooled) {
      struct stat st {};
      spool_exists = ::stat(spool_path.c_str(), &st) == 0;
      spool_mode = st.st_mode & 07777;
    }
    auto full = m.serialize();
    serialized = full ? *full : "<error>";
    return result;
  }
  Outcome result;
  int calls = 0;
  std::vector<Header> headers;
  Envelope envelope;
  std::string authserv_id, body_text, serialized;
  bool spooled = false, spool_exists = false;
  unsigned spool_mode = 0;
  fs::path spool_path;
};

class ThrowingPipeline : public Pipeline {
 public:
  explicit ThrowingPipeline(bool std_exception) : std_(std_exception) {}
  Outcome process(const Message&, const Snapshot&) override {
    if (std_) {
      throw std::runtime_error("keystore exploded");
    }
    throw 42;  // NOLINT: a non-std exception must be caught too
  }

 private:
  bool std_;
};

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings.authserv_id = "mx.example.org";
    settings.spool_dir = spool.path();
    settings.spool_threshold = 64;
    settings.max_message_bytes = 4096;
    use(pipeline);
  }
  void use(std::shared_ptr<Pipeline> p) {
    auto s = std::make_shared<Snapshot>();
    s->settings = settings;
    s->pipeline = std::move(p);
    current = s;
  }
  Session make() {
    return Session([this] { return current; });
  }
  // A complete message through the session; returns the EOM outcome.
  Outcome send(Session& s, std::string_view qid, const std::vector<std::string>& body_chunks) {
    EXPECT_EQ(s.on_mail_from("<alice@example.org>", {{"{auth_authen}", "alice"}}),
              Verdict::kContinue);
    EXPECT_EQ(s.on_rcpt("<bob@example.net>"), Verdict::kContinue);
    EXPECT_EQ(s.on_header("From", " alice@example.org"), Verdict::kContinue);
    EXPECT_EQ(s.on_eoh({{"i", std::string(qid)}}), Verdict::kContinue);
    for (const auto& c : body_chunks) {
      EXPECT_EQ(s.on_body(bytes(c)), Verdict::kContinue);
    }
    return s.on_eom({{"i", std::string(qid)}});
  }
  std::size_t spool_files() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(spool.path()), fs::directory_iterator()));
  }

  testsupport::TempDir spool;
  Settings settings;
  std::shared_ptr<RecordingPipeline> pipeline = std::make_shared<RecordingPipeline>();
  std::shared_ptr<const Snapshot> current;
};

TEST_F(SessionTest, CollectsEnvelopeMacrosAndHeadersInOrderWithDuplicates) {
  Session s = make();
  EXPECT_EQ(s.on_connect("client.example.net", "192.0.2.7", {{"{daemon_name}", "ORIGINATING"}}),
            Verdict::kContinue);
  EXPECT_EQ(s.on_mail_from("<alice@example.org>", {{"{auth_authen}", "alice"}, {"i", "Q1"}}),
            Verdict::kContinue);
  EXPECT_EQ(s.on_rcpt("<bob@example.net>"), Verdict::kContinue);
  EXPECT_EQ(s.on_rcpt(" carol@example.net "), Verdict::kContinue);
  const std::vector<Header> sent = {{"Subject", " first"},
                                    {"X-Dup", " one"},
                                    {"From", "  alice@example.org"},
                                    {"X-Dup", " two\n\tcontinued"},
                                    {"subject", " second"}};
  for (const auto& h : sent) {
    EXPECT_EQ(s.on_header(h.name, h.value), Verdict::kContinue);
  }
  EXPECT_EQ(s.on_body(bytes("line 1\r\nline 2\r\n")), Verdict::kContinue);
  const Outcome o = s.on_eom();
  EXPECT_EQ(o.verdict, Verdict::kContinue);
  ASSERT_EQ(pipeline->calls, 1);
  ASSERT_EQ(pipeline->headers.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(pipeline->headers[i].name, sent[i].name);
    EXPECT_EQ(pipeline->headers[i].value, sent[i].value);
  }
  const Envelope& e = pipeline->envelope;
  EXPECT_EQ(e.client_host, "client.example.net");
  EXPECT_EQ(e.client_addr, "192.0.2.7");
  EXPECT_EQ(e.daemon_name, "ORIGINATING");
  EXPECT_EQ(e.auth_authen, "alice");
  EXPECT_EQ(e.queue_id, "Q1");
  EXPECT_EQ(e.sender, "alice@example.org");
  EXPECT_EQ(e.recipients, (std::vector<std::string>{"bob@example.net", "carol@example.net"}));
  EXPECT_EQ(pipeline->serialized,
            "Subject: first\r\nX-Dup: one\r\nFrom:  alice@example.org\r\n"
            "X-Dup: two\r\n\tcontinued\r\nsubject: second\r\n\r\nline 1\r\nline 2\r\n");
}

TEST_F(SessionTest, SpoolsPastThresholdWithMode0600AndRemovesAfterEom) {
  Session s = make();
  std::vector<std::string> chunks;
  std::string whole;
  for (int i = 0; i < 40; ++i) {  // many small chunks: 40 * 10 bytes > 64-byte threshold
    chunks.push_back("chunk " + std::to_string(100 + i) + "\n");
    whole += chunks.back();
  }
  s.on_mail_from("<a@example.org>");
  s.on_header("Subject", " x");
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    ASSERT_EQ(s.on_body(bytes(chunks[i])), Verdict::kContinue);
    if (i == 0) {
      EXPECT_FALSE(s.body()->spooled()) << "below the threshold stays in memory";
    }
  }
  ASSERT_TRUE(s.body()->spooled());
  const fs::path path = s.body()->path();
  EXPECT_EQ(path.parent_path(), spool.path());
  s.on_eom();
  EXPECT_TRUE(pipeline->spooled);
  EXPECT_TRUE(pipeline->spool_exists);
  EXPECT_EQ(pipeline->spool_mode, 0600U);
  EXPECT_EQ(pipeline->body_text, whole);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(spool_files(), 0U);
}

TEST_F(SessionTest, SmallBodyStaysInMemory) {
  Session s = make();
  send(s, "Q2", {"short\r\n"});
  EXPECT_FALSE(pipeline->spooled);
  EXPECT_EQ(pipeline->body_text, "short\r\n");
  EXPECT_EQ(spool_files(), 0U);
}

TEST_F(SessionTest, AbortAndDestructionRemoveTheSpoolFile) {
  {
    Session s = make();
    s.on_mail_from("<a@example.org>");
    s.on_body(bytes(std::string(200, 'x')));
    ASSERT_TRUE(s.body()->spooled());
    const fs::path path = s.body()->path();
    s.on_abort();
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(s.in_message());
    s.on_mail_from("<b@example.org>");
    s.on_body(bytes(std::string(200, 'y')));
    ASSERT_EQ(spool_files(), 1U);
  }  // connection closed mid-message
  EXPECT_EQ(spool_files(), 0U);
}

TEST_F(SessionTest, AbortMidMessageThenNextMessageStartsClean) {
  Session s = make();
  s.on_mail_from("<a@example.org>", {{"i", "QA"}});
  s.on_rcpt("<x@example.net>");
  s.on_header("Subject", " aborted");
  s.on_body(bytes("half a body"));
  s.on_abort();
  EXPECT_EQ(pipeline->calls, 0);
  send(s, "QB", {"second\r\n"});
  ASSERT_EQ(pipeline->calls, 1);
  EXPECT_EQ(pipeline->envelope.queue_id, "QB");
  EXPECT_EQ(pipeline->envelope.recipients, std::vector<std::string>{"bob@example.net"});
  ASSERT_EQ(pipeline->headers.size(), 1U);
  EXPECT_EQ(pipeline->headers[0].name, "From");
  EXPECT_EQ(pipeline->body_text, "second\r\n");
}

TEST_F(SessionTest, SeveralMessagesOnOneConnection) {
  Session s = make();
  s.on_connect("h", "198.51.100.1");
  for (int i = 0; i < 5; ++i) {
    const std::string qid = "Q" + std::to_string(i);
    const std::string body = "body " + std::to_string(i) + "\r\n";
    EXPECT_EQ(send(s, qid, {body}).verdict, Verdict::kContinue);
    EXPECT_EQ(pipeline->envelope.queue_id, qid);
    EXPECT_EQ(pipeline->envelope.client_addr, "198.51.100.1");
    EXPECT_EQ(pipeline->envelope.recipients.size(), 1U);
    EXPECT_EQ(pipeline->headers.size(), 1U);
    EXPECT_EQ(pipeline->body_text, body);
  }
  EXPECT_EQ(pipeline->calls, 5);
}

struct LimitCase {
  const char* name;
  Verdict action;
  Verdict at_body;  // verdict returned by the step that crosses the limit
  Verdict at_eom;
};

TEST_F(SessionTest, OverSizeLimitAppliesTheConfiguredAction) {
  const std::vector<LimitCase> cases = {
      {"reject", Verdict::kReject, Verdict::kReject, Verdict::kReject},
      {"tempfail", Verdict::kTempfail, Verdict::kTempfail, Verdict::kTempfail},
      {"discard", Verdict::kDiscard, Verdict::kDiscard, Verdict::kDiscard},
      {"accept", Verdict::kAccept, Verdict::kContinue, Verdict::kAccept},
      {"quarantine", Verdict::kQuarantine, Verdict::kContinue, Verdict::kQuarantine},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    settings.on_oversize = c.action;
    settings.oversize_reply = {"552", "5.3.4", "too big: " + std::string(c.name)};
    auto p = std::make_shared<RecordingPipeline>();
    use(p);
    Session s = make();
    s.on_mail_from("<a@example.org>");
    s.on_header("Subject", " big");
    Verdict v = Verdict::kContinue;
    for (int i = 0; i < 10 && v == Verdict::kContinue; ++i) {
      v = s.on_body(bytes(std::string(1000, 'z')));  // 4096-byte limit crossed at i == 4
    }
    EXPECT_EQ(v, c.at_body);
    EXPECT_FALSE(s.body()->spooled()) << "spool dropped once over the limit";
    if (v != Verdict::kContinue) {
      EXPECT_EQ(s.reply().code, "552");
      EXPECT_EQ(s.reply().text, "too big: " + std::string(c.name));
    }
    const Outcome o = s.on_eom();
    EXPECT_EQ(o.verdict, c.at_eom);
    EXPECT_EQ(p->calls, 0) << "an oversized message never reaches the pipeline";
    if (c.action == Verdict::kQuarantine) {
      EXPECT_NE(o.quarantine_reason.find("message size"), std::string::npos);
    }
    EXPECT_EQ(spool_files(), 0U);
  }
}

TEST_F(SessionTest, HeaderCountAndSizeLimits) {
  settings.max_headers = 3;
  use(pipeline);
  Session s = make();
  s.on_mail_from("<a@example.org>");
  EXPECT_EQ(s.on_header("A", " 1"), Verdict::kContinue);
  EXPECT_EQ(s.on_header("B", " 2"), Verdict::kContinue);
  EXPECT_EQ(s.on_header("C", " 3"), Verdict::kContinue);
  EXPECT_EQ(s.on_header("D", " 4"), Verdict::kReject);
  EXPECT_EQ(s.reply().xcode, "5.3.4");
  s.on_abort();

  settings.max_headers = 1000;
  settings.max_header_bytes = 100;
  use(pipeline);
  Session t = make();
  t.on_mail_from("<a@example.org>");
  EXPECT_EQ(t.on_header("Subject", " " + std::string(50, 'a')), Verdict::kContinue);
  EXPECT_EQ(t.on_header("Subject", " " + std::string(50, 'b')), Verdict::kReject);
  EXPECT_EQ(pipeline->calls, 0);
}

using fixture::LogCapture;

TEST_F(SessionTest, ThrowingPipelineIsTempfailWithOneErrorLine) {
  for (const bool std_exception : {true, false}) {
    SCOPED_TRACE(std_exception ? "std::exception" : "int");
    use(std::make_shared<ThrowingPipeline>(std_exception));
    LogCapture log;
    Session s = make();
    const Outcome o = send(s, "QERR", {std::string(300, 'p')});
    EXPECT_EQ(o.verdict, Verdict::kTempfail);
    EXPECT_EQ(o.reply.code, "451");
    EXPECT_EQ(o.reply.xcode, "4.3.0");
    EXPECT_FALSE(o.new_body.has_value());
    EXPECT_TRUE(o.header_edits.empty());
    const auto errors = log.lines("error");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].rfind("error QERR: internal error", 0), 0U) << errors[0];
    if (std_exception) {
      EXPECT_NE(errors[0].find("keystore exploded"), std::string::npos);
    }
    const auto infos = log.lines("info");
    ASSERT_EQ(infos.size(), 1U) << "one summary line per message";
    EXPECT_EQ(infos[0].rfind("info QERR: verdict=tempfail", 0), 0U) << infos[0];
    EXPECT_EQ(spool_files(), 0U);
  }
}

TEST_F(SessionTest, RunningMessageKeepsItsSnapshotAcrossReload) {
  Session s = make();
  s.on_mail_from("<a@example.org>");
  s.on_header("Subject", " x");
  settings.authserv_id = "reloaded.example.org";
  use(pipeline);  // SIGHUP swapped the snapshot mid-message
  s.on_body(bytes("b\r\n"));
  s.on_eom();
  EXPECT_EQ(pipeline->authserv_id, "mx.example.org");
  send(s, "Q2", {"b\r\n"});
  EXPECT_EQ(pipeline->authserv_id, "reloaded.example.org");
}

TEST_F(SessionTest, NoSnapshotMeansTempfail) {
  Session s([] { return std::shared_ptr<const Snapshot>(); });
  EXPECT_EQ(s.on_mail_from("<a@example.org>"), Verdict::kTempfail);
  EXPECT_EQ(s.reply().code, "451");
  EXPECT_EQ(s.on_eom().verdict, Verdict::kTempfail);
}

TEST_F(SessionTest, BasicPipelineRemovesForgedAuthResultsOnly) {
  use(std::make_shared<BasicPipeline>());
  Session s = make();
  s.on_mail_from("<outside@example.net>");
  s.on_header("Authentication-Results", " other.example.net; dkim=pass");
  s.on_header("Authentication-Results", " mx.example.org; smime=pass");
  s.on_header("Subject", " hi");
  s.on_header("Authentication-Results", " (x) Mx.Example.Org; smime=pass");
  const Outcome o = s.on_eom();
  EXPECT_EQ(o.verdict, Verdict::kContinue);
  ASSERT_EQ(o.header_edits.size(), 2U);
  EXPECT_EQ(o.header_edits[0].kind, HeaderEdit::Kind::kDelete);
  EXPECT_EQ(o.header_edits[0].index, 3);
  EXPECT_EQ(o.header_edits[1].index, 2);
}

}  // namespace
}  // namespace milter
