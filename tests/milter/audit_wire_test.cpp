// The milter's audit wiring: SmimePipeline through Session with a real keystore (staff
// with departments) and a real audit::Trail file; a failing Recorder for fault
// injection (on_audit_failure); department rules; log_why lines.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/trail.h"
#include "keystore/keystore.h"
#include "milter/audit_hook.h"
#include "milter/smime_pipeline.h"
#include "tests/common/test_support.h"
#include "tests/milter/log_capture.h"
#include "tests/milter/smime_fixture.h"

namespace milter {
namespace {

using testsupport::pki;

std::string fingerprint(const char* crt) {
  return fixture::fingerprint(pki(crt));
}

// Counts the records it was asked for; refuses them all when `fail`.
class FakeRecorder final : public audit::Recorder {
 public:
  explicit FakeRecorder(bool fail) : fail_(fail) {}
  policy::Result<std::uint64_t> append_decision(const audit::DecisionRecord& r) override {
    last = r;
    ++calls;
    if (fail_) {
      return policy::unexpected(policy::Errc::kUnavailable, "disk full (injected)");
    }
    return calls;
  }
  policy::Result<std::uint64_t> append_admin(const audit::AdminRecord&) override { return 0U; }
  audit::DecisionRecord last;
  std::uint64_t calls = 0;

 private:
  bool fail_;
};

class AuditWireTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testsupport::TempDir();
    auto ks = fixture::make_keystore(
        dir_->path(), {{"alice", "Dinas Kominfo"}, {"bob", "Bappeda"}, {"revoked", "Bappeda"}});
    ASSERT_TRUE(ks);
    ks_ = new std::shared_ptr<keystore::Keystore>(std::move(ks));
  }
  static void TearDownTestSuite() {
    delete ks_;
    delete dir_;
  }

  Outcome run(const std::string& config_toml, const std::string& message,
              std::shared_ptr<audit::Recorder> recorder, const std::string& auth,
              const std::vector<std::string>& rcpts) {
    fixture::Submission sub;
    sub.sender = sender_;
    sub.rcpts = rcpts;
    sub.auth = auth;
    sub.queue_id = "QAUDIT1";
    return fixture::run_message(
               fixture::snapshot(config_toml, dir_->path(), std::make_shared<SmimePipeline>(*ks_),
                                 std::move(recorder)),
               sub, message)
        .outcome;
  }

  std::shared_ptr<audit::Trail> trail(const std::string& name) {
    auto t = audit::Trail::open((*dir_ / name).string());
    EXPECT_TRUE(t.has_value()) << t.error().message();
    return t ? std::shared_ptr<audit::Trail>(std::move(*t)) : nullptr;
  }

  std::string sender_ = "<alice@example.gov>";
  static testsupport::TempDir* dir_;
  static std::shared_ptr<keystore::Keystore>* ks_;
};
testsupport::TempDir* AuditWireTest::dir_ = nullptr;
std::shared_ptr<keystore::Keystore>* AuditWireTest::ks_ = nullptr;

const std::string kPlain =
    "From: Alice <alice@example.gov>\nTo: bob@example.gov\nSubject: official\n"
    "Message-ID: <m1@example.gov>\nMIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n\nHello Bob.\n";

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const audit::CertUse* cert_with_role(const audit::Entry& e, std::string_view role) {
  for (const auto& c : e.certificates) {
    if (c.role == role) {
      return &c;
    }
  }
  return nullptr;
}

TEST_F(AuditWireTest, SignedAndEncryptedMessageIsRecordedWithEveryField) {
  auto t = trail("outbound.db");
  ASSERT_TRUE(t);
  const Outcome o = run("", kPlain, t, "alice", {"bob@example.gov"});
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  ASSERT_TRUE(o.new_body.has_value());
  EXPECT_NE(o.summary.find("audit=1"), std::string::npos) << o.summary;
  auto rows = t->search({});
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  ASSERT_EQ(rows->size(), 1U);
  const audit::Entry& e = rows->front();
  EXPECT_EQ(e.type, audit::RecordType::kDecision);
  EXPECT_EQ(e.queue_id, "QAUDIT1");
  EXPECT_EQ(e.message_id, "<m1@example.gov>");
  EXPECT_EQ(e.direction, "outbound");
  EXPECT_EQ(e.sender, "alice@example.gov");
  EXPECT_EQ(e.recipients, std::vector<std::string>{"bob@example.gov"});
  EXPECT_EQ(e.auth_user, "alice");
  EXPECT_EQ(e.client_addr, "198.51.100.20");
  EXPECT_EQ(e.department, "Dinas Kominfo");
  EXPECT_EQ(e.rule, "default");
  EXPECT_TRUE(e.has_action("sign") && e.has_action("encrypt")) << e.actions.size();
  const audit::CertUse* signer = cert_with_role(e, "signer");
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->fingerprint, fingerprint("alice.crt"));
  EXPECT_FALSE(signer->serial_hex.empty());
  const audit::CertUse* rcpt = cert_with_role(e, "recipient");
  ASSERT_NE(rcpt, nullptr);
  EXPECT_EQ(rcpt->fingerprint, fingerprint("bob.crt"));
  EXPECT_TRUE(has(e.algorithms, "sha256")) << e.algorithms.size();
  EXPECT_TRUE(has(e.algorithms, "aes-256-cbc"));
  EXPECT_EQ(e.verdict, "accept");
  EXPECT_FALSE(e.is_incident());
  auto v = t->verify();
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->ok()) << v->detail;
}

TEST_F(AuditWireTest, UnwritableTrailTempfailsByDefaultAndDeliversNothing) {
  auto rec = std::make_shared<FakeRecorder>(true);
  const Outcome o = run("", kPlain, rec, "alice", {"bob@example.gov"});
  EXPECT_EQ(rec->calls, 1U);
  EXPECT_EQ(rec->last.verdict, "accept") << "the record asked for is the pipeline's decision";
  EXPECT_EQ(o.verdict, Verdict::kTempfail) << o.summary;
  EXPECT_EQ(o.reply.code, "451");
  EXPECT_FALSE(o.new_body.has_value());
  EXPECT_TRUE(o.header_edits.empty());
}

TEST_F(AuditWireTest, UnwritableTrailAppliesTheConfiguredAction) {
  auto rec = std::make_shared<FakeRecorder>(true);
  Outcome o =
      run("[audit]\non_audit_failure = \"accept\"\n", kPlain, rec, "alice", {"bob@example.gov"});
  EXPECT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_TRUE(o.new_body.has_value()) << "accepted as processed (signed and encrypted)";
  EXPECT_NE(o.summary.find("audit=failed"), std::string::npos) << o.summary;
  o = run("[audit]\non_audit_failure = \"reject\"\n", kPlain, rec, "alice", {"bob@example.gov"});
  EXPECT_EQ(o.verdict, Verdict::kReject) << o.summary;
  EXPECT_EQ(o.reply.code.substr(0, 1), "5");
}

TEST_F(AuditWireTest, RealTrailThatIsLockedTempfailsAndRecordsTheOutageLater) {
  const auto path = (*dir_ / "locked.db").string();
  audit::Options opts;
  opts.busy_timeout_ms = 50;
  auto opened = audit::Trail::open(path, opts);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  std::shared_ptr<audit::Trail> t(std::move(*opened));
  // Another process holds the write lock: our commit cannot go through.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  const std::unique_ptr<sqlite3, decltype(&sqlite3_close)> other(raw, &sqlite3_close);
  ASSERT_EQ(sqlite3_exec(other.get(), "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  Outcome o = run("", kPlain, t, "alice", {"bob@example.gov"});
  EXPECT_EQ(o.verdict, Verdict::kTempfail) << o.summary;
  EXPECT_FALSE(o.new_body.has_value());
  ASSERT_EQ(sqlite3_exec(other.get(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  o = run("", kPlain, t, "alice", {"bob@example.gov"});
  EXPECT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  auto rows = t->search({});
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2U) << "the outage, then the accepted message";
  EXPECT_EQ(rows->at(0).incident, audit::IncidentKind::kAuditFailure);
  EXPECT_EQ(rows->at(1).verdict, "accept");
  EXPECT_EQ(rows->at(1).queue_id, "QAUDIT1");
}

TEST_F(AuditWireTest, DepartmentFromTheKeystoreSelectsTheRule) {
  const std::string cfg =
      "[[rule]]\nname = \"kominfo\"\nencrypt = \"never\"\n"
      "[rule.match]\ndepartment = [\"Dinas Kominfo\"]\n";
  auto rec = std::make_shared<FakeRecorder>(false);
  Outcome o = run(cfg, kPlain, rec, "alice", {"bob@example.gov"});
  EXPECT_NE(o.summary.find("rule=kominfo"), std::string::npos) << o.summary;
  EXPECT_EQ(rec->last.department, "Dinas Kominfo");
  EXPECT_FALSE(has(rec->last.actions, "encrypt"));
  sender_ = "<bob@example.gov>";
  const std::string from_bob = "From: bob@example.gov\nTo: alice@example.gov\nSubject: s\n\nbody\n";
  o = run(cfg, from_bob, rec, "bob", {"alice@example.gov"});
  EXPECT_NE(o.summary.find("rule=default"), std::string::npos) << o.summary;
  EXPECT_EQ(rec->last.department, "Bappeda");
  EXPECT_TRUE(has(rec->last.actions, "encrypt"));
}

TEST_F(AuditWireTest, RevokedSignerIsAnIncident) {
  sender_ = "<revoked@example.gov>";
  auto t = trail("revoked.db");
  ASSERT_TRUE(t);
  const Outcome o = run("[default]\nsign = \"required\"\n",
                        "From: revoked@example.gov\nTo: x@elsewhere.example\nSubject: s\n\nb\n", t,
                        "revoked", {"x@elsewhere.example"});
  EXPECT_NE(o.verdict, Verdict::kContinue);
  audit::Filter f;
  f.incidents_only = true;
  auto rows = t->search(f);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ(rows->front().incident, audit::IncidentKind::kRevokedCertUse);
  EXPECT_EQ(rows->front().verdict, audit_verdict_name(o.verdict));
  EXPECT_EQ(rows->front().department, "Bappeda");
}

TEST_F(AuditWireTest, InboundTamperedSignatureIsRecordedAsIncident) {
  testsupport::TempDir d;
  std::string msg =
      fixture::openssl_signed(d.path(), "carol", "carol@example.gov", "Signed by Carol.");
  msg.replace(msg.find("Signed by Carol."), 6, "Forged");
  sender_ = "<carol@example.gov>";
  auto t = trail("inbound.db");
  ASSERT_TRUE(t);
  run("", msg, t, "", {"alice@example.gov"});
  auto rows = t->search({});
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1U);
  const audit::Entry& e = rows->front();
  EXPECT_EQ(e.direction, "inbound");
  EXPECT_EQ(e.department, "Dinas Kominfo") << "the recipient's department";
  EXPECT_TRUE(e.has_action("verify"));
  EXPECT_EQ(e.verification, "fail");
  EXPECT_FALSE(e.reason.empty());
  EXPECT_EQ(e.incident, audit::IncidentKind::kBadSignature);
  const audit::CertUse* peer = cert_with_role(e, "peer-signer");
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->fingerprint, fingerprint("carol.crt"));
}

TEST_F(AuditWireTest, LogWhyLogsEachStepWithTheQueueIdFirst) {
  std::string on;
  std::string off;
  {
    fixture::LogCapture cap;
    run("[daemon]\nlog_why = true\n", kPlain, nullptr, "alice", {"bob@example.gov"});
    on = cap.text();
  }
  {
    fixture::LogCapture cap;
    run("", kPlain, nullptr, "alice", {"bob@example.gov"});
    off = cap.text();
  }
  EXPECT_EQ(off.find("why["), std::string::npos) << off;
  std::istringstream lines(on);
  std::string line;
  int steps = 0;
  bool dept = false;
  bool verdict = false;
  while (std::getline(lines, line)) {
    if (line.find("why[") == std::string::npos) {
      continue;
    }
    ++steps;
    EXPECT_EQ(line.rfind("info QAUDIT1: why[" + std::to_string(steps) + "] ", 0), 0U) << line;
    dept = dept || line.find("department Dinas Kominfo") != std::string::npos;
    verdict = verdict || line.find("verdict accept") != std::string::npos;
  }
  EXPECT_GE(steps, 4) << on;
  EXPECT_TRUE(dept) << on;
  EXPECT_TRUE(verdict) << on;
}

}  // namespace
}  // namespace milter
