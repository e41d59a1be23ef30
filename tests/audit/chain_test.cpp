// Tamper evidence: each kind of edit made with the sqlite3 CLI is found and the first
// bad record named; signed chain heads catch truncation and rewritten chains.
#include <chrono>
#include <mutex>
#include <thread>

#include "smime/x509.h"
#include "tests/audit/audit_fixture.h"

namespace {

using audit::Problem;
using audittest::open_trail;
using audittest::sqlite_cli;

audit::VerifyReport verify(const std::filesystem::path& p, const audit::VerifyOptions& vo = {}) {
  audit::Options o = audittest::quiet_options();
  o.read_only = true;
  auto t = open_trail(p, o);
  if (!t) {
    return {};
  }
  auto r = t->verify(vo);
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : audit::VerifyReport{};
}

smime::Credential system_credential() {
  smime::Credential c;
  auto cert = smime::parse_cert(testsupport::read_file(testsupport::pki("sistem.crt")));
  auto key = smime::parse_private_key(testsupport::read_file(testsupport::pki("sistem.key")));
  EXPECT_TRUE(cert && key);
  c.cert = std::move(*cert);
  c.key = std::move(*key);
  return c;
}

class Tamper : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = open_trail(path_);
    ASSERT_TRUE(t);
    audittest::fill(*t, 100);
  }
  testsupport::TempDir dir_;
  std::filesystem::path path_ = dir_ / "audit.db";
};

TEST_F(Tamper, UntouchedTrailPasses) {
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok()) << v.detail;
  EXPECT_EQ(v.records, 100U);
  EXPECT_EQ(v.last_seq, 100U);
}

TEST_F(Tamper, DetectsEachKindOfEdit) {
  struct Case {
    std::string name, sql;
    Problem want;
    std::uint64_t bad_seq;
    std::string want_text;
  };
  const std::vector<Case> cases = {
      {"changed sender", "UPDATE records SET sender='mallory@example.gov' WHERE seq=57",
       Problem::kChanged, 57, "record 57 was changed"},
      {"changed verdict", "UPDATE records SET verdict='reject' WHERE seq=3", Problem::kChanged, 3,
       "record 3 was changed"},
      {"changed time", "UPDATE records SET time=time+1 WHERE seq=99", Problem::kChanged, 99,
       "record 99"},
      {"changed recipients", "UPDATE records SET recipients='[\"x@example.gov\"]' WHERE seq=10",
       Problem::kChanged, 10, "record 10"},
      {"deleted record", "DELETE FROM records WHERE seq=42", Problem::kMissing, 42,
       "record(s) 42 were removed"},
      {"deleted first record", "DELETE FROM records WHERE seq=1", Problem::kMissing, 1,
       "record(s) 1 were removed"},
      {"deleted range", "DELETE FROM records WHERE seq BETWEEN 20 AND 25", Problem::kMissing, 20,
       "20..25"},
      {"swapped records",
       "UPDATE records SET seq=-1 WHERE seq=30; UPDATE records SET seq=30 WHERE seq=40;"
       "UPDATE records SET seq=40 WHERE seq=-1",
       Problem::kReordered, 30, "record 30 is out of order"},
      {"deleted and renumbered",
       "DELETE FROM records WHERE seq=50; UPDATE records SET seq=seq-1 WHERE seq>50",
       Problem::kReordered, 50, "out of order"},
  };
  const std::string pristine = testsupport::read_file(path_);
  for (const auto& c : cases) {
    testsupport::write_file(path_, pristine);
    sqlite_cli(path_, c.sql);
    const auto v = verify(path_);
    EXPECT_EQ(v.problem, c.want) << c.name << ": " << v.detail;
    EXPECT_EQ(v.bad_seq, c.bad_seq) << c.name << ": " << v.detail;
    EXPECT_NE(v.detail.find(c.want_text), std::string::npos) << c.name << ": " << v.detail;
  }
}

// Removing the newest records leaves a valid shorter chain: only a published head
// (stored, or copied from syslog) shows the truncation.
TEST_F(Tamper, TruncationIsFoundThroughPublishedHeads) {
  std::vector<std::string> syslog;
  {
    auto o = audittest::quiet_options();
    o.head_sink = [&syslog](std::string_view line) { syslog.emplace_back(line); };
    auto t = open_trail(path_, o);
    ASSERT_TRUE(t);
    auto h = t->publish_head(nullptr);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->seq, 100U);
    audittest::fill(*t, 5, 200);
  }
  ASSERT_EQ(syslog.size(), 1U);
  EXPECT_NE(syslog[0].find("seq=100 hash="), std::string::npos) << syslog[0];
  EXPECT_NE(syslog[0].find("unsigned"), std::string::npos);
  sqlite_cli(path_, "DELETE FROM records WHERE seq > 90");
  auto v = verify(path_);
  EXPECT_EQ(v.problem, Problem::kTruncated) << v.detail;
  EXPECT_EQ(v.bad_seq, 91U);
  EXPECT_NE(v.detail.find("records 91..100 were removed"), std::string::npos) << v.detail;
  // The attacker also deletes the stored heads: the syslog copy still shows it.
  sqlite_cli(path_, "DELETE FROM heads");
  v = verify(path_);
  EXPECT_TRUE(v.ok()) << "without any head a truncated tail is undetectable";
  audit::VerifyOptions vo;
  vo.expect_head = audit::Head{100, "0000", 0, {}, {}};
  v = verify(path_, vo);
  EXPECT_EQ(v.problem, Problem::kTruncated);
}

TEST_F(Tamper, SignedHeadsVerifyAndCatchRewrittenChains) {
  const auto cred = system_credential();
  {
    auto t = open_trail(path_);
    ASSERT_TRUE(t);
    auto h = t->publish_head(&cred);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_FALSE(h->signature_der.empty());
    EXPECT_EQ(h->signer_fingerprint, smime::inspect(*cred.cert).fingerprint_sha256);
  }
  auto v = verify(path_);
  EXPECT_TRUE(v.ok()) << v.detail;
  EXPECT_EQ(v.heads_signed, 1U);
  // The head statement is a detached CMS signature the openssl CLI can check.
  const std::string pristine = testsupport::read_file(path_);

  // Rewrite the chain from record 60 on so every hash is self-consistent again.
  {
    audit::Options o = audittest::quiet_options();
    o.read_only = true;
    auto t = open_trail(path_, o);
    auto all = t->search({});
    ASSERT_TRUE(all);
    std::string sql;
    std::string prev = (*all)[58].hash;
    for (size_t i = 59; i < all->size(); ++i) {
      auto e = (*all)[i];
      if (i == 59) {
        e.verdict = "reject";
      }
      e.prev_hash = prev;
      e.hash = audit::compute_hash(e);
      prev = e.hash;
      sql += "UPDATE records SET verdict='" + e.verdict + "', prev_hash='" + e.prev_hash +
             "', hash='" + e.hash + "' WHERE seq=" + std::to_string(e.seq) + ";";
    }
    t.reset();
    sqlite_cli(path_, sql);
  }
  v = verify(path_);
  EXPECT_EQ(v.problem, Problem::kHeadMismatch) << v.detail;
  EXPECT_EQ(v.bad_seq, 100U);
  EXPECT_NE(v.detail.find("rewritten"), std::string::npos);

  // A forged head (hash edited in the heads table) fails its signature.
  testsupport::write_file(path_, pristine);
  sqlite_cli(path_, "UPDATE heads SET time=time+1");
  v = verify(path_);
  EXPECT_EQ(v.problem, Problem::kBadHeadSignature) << v.detail;
}

TEST(Heads, PublishedPeriodicallyAfterCommits) {
  testsupport::TempDir dir;
  std::int64_t now = 1000;
  std::vector<std::string> lines;
  audit::Options o;
  o.clock = [&now] { return now; };
  o.head_interval = 60;
  o.head_signer = std::make_shared<const smime::Credential>(system_credential());
  o.head_sink = [&lines](std::string_view l) { lines.emplace_back(l); };
  auto t = open_trail(dir / "audit.db", o);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->append_decision(audittest::decision(1)));
  EXPECT_TRUE(lines.empty());
  now += 61;
  ASSERT_TRUE(t->append_decision(audittest::decision(2)));
  ASSERT_TRUE(t->append_decision(audittest::decision(3)));  // same interval: no second head
  auto heads = t->heads();
  ASSERT_TRUE(heads);
  ASSERT_EQ(heads->size(), 1U);
  EXPECT_EQ((*heads)[0].seq, 2U);
  EXPECT_EQ((*heads)[0].time, 1061);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_NE(lines[0].find("signer="), std::string::npos);
}

// The writer thread publishes heads by itself (real clock, head_interval = 1 s): the
// head covering the last records is signed, verifies with the openssl CLI, and a later
// truncation of the trail is found by `smimectl audit verify` through that head.
TEST(Heads, IntervalTimerPublishesSignedHeadThatOpensslVerifies) {
  testsupport::TempDir dir;
  const auto db = dir / "audit.db";
  std::mutex mu;
  std::vector<std::string> lines;
  audit::Options o;
  o.head_interval = 1;
  // Like a keystore credential: the issuing CA travels in the signature.
  smime::Credential signer = system_credential();
  auto inter = smime::parse_cert(testsupport::read_file(testsupport::pki("inter.crt")));
  ASSERT_TRUE(inter);
  signer.chain.push_back(std::move(*inter));
  o.head_signer = std::make_shared<const smime::Credential>(std::move(signer));
  o.head_sink = [&mu, &lines](std::string_view l) {
    const std::lock_guard lk(mu);
    lines.emplace_back(l);
  };
  std::vector<audit::Head> heads;
  {
    auto t = open_trail(db, o);
    ASSERT_TRUE(t);
    audittest::fill(*t, 3);
    // No further records: the idle writer publishes the head within about a second.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (heads.empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto h = t->heads();
      ASSERT_TRUE(h);
      heads = *h;
    }
  }
  ASSERT_EQ(heads.size(), 1U) << "no head published by the interval timer";
  const audit::Head& h = heads[0];
  EXPECT_EQ(h.seq, 3U);
  ASSERT_FALSE(h.signature_der.empty());
  {
    const std::lock_guard lk(mu);
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_NE(lines[0].find(h.statement()), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("signer=" + h.signer_fingerprint), std::string::npos) << lines[0];
  }
  // A third party checks the signature over the logged statement.
  testsupport::write_file(dir / "head.txt", h.statement());
  testsupport::write_file(dir / "head.p7s", h.signature_der);
  const auto ossl = testsupport::run(
      {"openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", (dir / "head.p7s").string(),
       "-content", (dir / "head.txt").string(), "-CAfile", testsupport::pki("root.crt").string(),
       "-purpose", "any", "-out", (dir / "verified.txt").string()});
  EXPECT_EQ(ossl.exit_code, 0) << ossl.out;
  EXPECT_EQ(testsupport::read_file(dir / "verified.txt"), h.statement());
  // The intact trail verifies against its head; a truncated one does not.
  auto r = testsupport::run({SMIMECTL, "audit", "verify", "--audit-db", db.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 published heads checked (1 signed)"), std::string::npos) << r.out;
  sqlite_cli(db, "DELETE FROM records WHERE seq = 3");
  r = testsupport::run({SMIMECTL, "audit", "verify", "--audit-db", db.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("TAMPERED (truncated)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("records 3..3 were removed"), std::string::npos) << r.out;
}

// With no interval there is no timer and no head until one is asked for.
TEST(Heads, NoIntervalNoHead) {
  testsupport::TempDir dir;
  std::vector<audit::Head> heads;
  {
    auto t = open_trail(dir / "audit.db");
    ASSERT_TRUE(t);
    audittest::fill(*t, 3);
    auto h = t->heads();
    ASSERT_TRUE(h);
    heads = *h;
  }
  EXPECT_TRUE(heads.empty());
}

// Acceptance: 10,000 records written through the batching writer verify clean.
TEST(Chain, TenThousandRecordsVerify) {
  testsupport::TempDir dir;
  auto t = open_trail(dir / "audit.db");
  ASSERT_TRUE(t);
  audittest::fill(*t, 10000);
  auto v = t->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->records, 10000U);
}

}  // namespace
