// Trail: append, round trip, permissions, bad inputs, write failures, concurrency.
#include <cstdlib>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <sqlite3.h>

#include "audit/export.h"
#include "tests/audit/audit_fixture.h"

namespace {

using audittest::decision;
using audittest::open_trail;
using policy::Errc;

TEST(Trail, AppendsRoundTripAndVerifies) {
  testsupport::TempDir dir;
  auto t = open_trail(dir / "audit.db");
  ASSERT_TRUE(t);
  auto d = decision(1);
  d.certificates.push_back({"recipient", "cd34", "0a", "bob@example.gov"});
  d.detail = "line1\nline2";
  auto s1 = t->append_decision(d);
  ASSERT_TRUE(s1) << s1.error().message();
  EXPECT_EQ(*s1, 1U);
  audit::AdminRecord a;
  a.action = "cert-import";
  a.subject = "alice@example.gov";
  a.fingerprint = "ff00";
  a.not_after = 2000000000;
  auto s2 = t->append_admin(a);
  ASSERT_TRUE(s2);
  EXPECT_EQ(*s2, 2U);

  auto all = t->search({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  const auto& e = (*all)[0];
  EXPECT_EQ(e.queue_id, "Q1");
  EXPECT_EQ(e.recipients, d.recipients);
  ASSERT_EQ(e.certificates.size(), 2U);
  EXPECT_EQ(e.certificates[1].role, "recipient");
  EXPECT_EQ(e.algorithms, d.algorithms);
  EXPECT_EQ(e.detail, "line1\nline2");
  EXPECT_EQ(e.prev_hash, audit::kGenesisHash);
  EXPECT_EQ((*all)[1].prev_hash, e.hash);
  EXPECT_EQ((*all)[1].os_user, audit::current_os_user());
  EXPECT_FALSE((*all)[1].os_user.empty());
  EXPECT_EQ((*all)[1].not_after, 2000000000);

  auto v = t->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->records, 2U);
  EXPECT_EQ(v->head_hash, (*all)[1].hash);
}

TEST(Trail, HashCoversEveryField) {
  auto e = audit::to_entry(decision(1));
  e.prev_hash = std::string(audit::kGenesisHash);
  const auto base = audit::compute_hash(e);
  EXPECT_EQ(base.size(), 64U);
  auto values = audit::column_values(e);
  // Every hashed column (time .. detail) changes the hash when changed.
  for (size_t i = 1; i + 2 < values.size(); ++i) {
    auto changed = values;
    changed[i] = (i == 8 || i == 13 || i == 15) ? "[\"x\"]" : (i == 14 ? "[]" : "7");
    changed[i] = i == 2 ? "admin" : (i == 3 ? "other" : changed[i]);
    if (changed[i] == values[i]) {
      changed[i] = "8";
    }
    audit::Entry c;
    ASSERT_TRUE(audit::from_column_values(changed, c)) << audit::kColumns[i];
    EXPECT_NE(audit::compute_hash(c), base) << "column " << audit::kColumns[i];
  }
  // Length prefixes: moving a byte between adjacent fields changes the hash.
  auto a = e;
  a.queue_id = "Q1<";
  a.message_id = "m1@example.gov>";
  auto b = e;
  b.queue_id = "Q1";
  b.message_id = "<m1@example.gov>";
  EXPECT_NE(audit::compute_hash(a), audit::compute_hash(b));
}

TEST(Trail, DerivesIncidents) {
  auto d = decision(1, "inbound");
  d.verification = "fail";
  d.reason = "bad-signature";
  EXPECT_EQ(audit::to_entry(d).incident, audit::IncidentKind::kBadSignature);
  d.reason = "sender-mismatch";
  EXPECT_EQ(audit::to_entry(d).incident, audit::IncidentKind::kSenderMismatch);
  d.verification = "pass";
  d.reason = "";
  EXPECT_EQ(audit::to_entry(d).incident, audit::IncidentKind::kNone);
  auto out = decision(2);
  out.reason = "revoked";
  out.verdict = "tempfail";
  EXPECT_EQ(audit::to_entry(out).incident, audit::IncidentKind::kRevokedCertUse);
  audit::AdminRecord a;
  a.action = "revoke";
  a.reason = "keyCompromise";
  EXPECT_EQ(audit::to_entry(a).incident, audit::IncidentKind::kKeyCompromise);
  a.reason = "superseded";
  EXPECT_EQ(audit::to_entry(a).incident, audit::IncidentKind::kNone);
}

TEST(Trail, OsUserNamesTheSudoInvoker) {
  ::unsetenv("SUDO_USER");
  const std::string plain = audit::current_os_user();
  EXPECT_FALSE(plain.empty());
  ::setenv("SUDO_USER", "persandian1", 1);
  const std::string sudo = audit::current_os_user();
  ::unsetenv("SUDO_USER");
  if (::geteuid() == 0) {
    EXPECT_EQ(sudo, plain + " (sudo by persandian1)");
  } else {
    EXPECT_EQ(sudo, plain);
  }
}

TEST(Trail, CreatesPrivateFileAndRefusesReadableOne) {
  testsupport::TempDir dir;
  const auto p = dir / "audit.db";
  {
    auto t = open_trail(p);
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->append_decision(decision(1)));
  }
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ::chmod(p.c_str(), 0640);
  auto refused = audit::Trail::open(p.string(), audittest::quiet_options());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kPermission);
  EXPECT_NE(refused.error().detail().find("group or others"), std::string::npos);
  auto o = audittest::quiet_options();
  o.allow_unsafe_permissions = true;
  EXPECT_TRUE(audit::Trail::open(p.string(), o));
  o = audittest::quiet_options();
  o.read_only = true;  // an auditor reading a group-readable copy
  auto ro = audit::Trail::open(p.string(), o);
  ASSERT_TRUE(ro);
  auto w = (*ro)->append_decision(decision(2));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), Errc::kPermission);
}

TEST(Trail, RejectsBadInputs) {
  testsupport::TempDir dir;
  struct Case {
    std::string name;
    std::filesystem::path path;
    bool read_only;
    std::string want;
  };
  testsupport::write_file(dir / "garbage.db", std::string(4096, 'x'));
  testsupport::write_file(dir / "afile", "x");
  testsupport::write_file(dir / "foreign.db", "");
  audittest::sqlite_cli(dir / "foreign.db", "CREATE TABLE t(x);");
  {
    auto t = open_trail(dir / "newer.db");
    ASSERT_TRUE(t);
  }
  audittest::sqlite_cli(dir / "newer.db", "PRAGMA user_version = 2;");
  const std::vector<Case> cases = {
      {"not a database", dir / "garbage.db", false, "not a database"},
      {"not a database (read-only)", dir / "garbage.db", true, "not a database"},
      {"foreign tables", dir / "foreign.db", false, "not an smime-milter audit trail"},
      {"newer schema", dir / "newer.db", false, "newer than this program"},
      {"unwritable path", dir / "afile" / "audit.db", false, "cannot access"},
      {"missing, read-only", dir / "none.db", true, "no audit trail"},
      {"directory", dir.path(), false, "not a regular file"},
  };
  for (const auto& c : cases) {
    audit::Options o = audittest::quiet_options();
    o.read_only = c.read_only;
    auto t = audit::Trail::open(c.path.string(), o);
    ASSERT_FALSE(t) << c.name;
    EXPECT_EQ(t.error().code(), Errc::kUnavailable) << c.name;
    EXPECT_NE(t.error().detail().find(c.want), std::string::npos)
        << c.name << ": " << t.error().detail();
  }
}

// The trail cannot be written (another process holds the write lock): the append
// fails with kUnavailable, nothing is recorded, and the next append succeeds.
TEST(Trail, WriteFailureIsUnavailableAndLeavesChainIntact) {
  testsupport::TempDir dir;
  const auto p = dir / "audit.db";
  auto o = audittest::quiet_options();
  o.busy_timeout_ms = 50;
  auto t = open_trail(p, o);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->append_decision(decision(1)));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, audit::DbClose> other(raw);
  ASSERT_EQ(sqlite3_exec(other.get(), "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto failed = t->append_decision(decision(2));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::kUnavailable);
  EXPECT_NE(failed.error().detail().find("locked"), std::string::npos) << failed.error().detail();
  ASSERT_EQ(sqlite3_exec(other.get(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  auto ok = t->append_decision(decision(3));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, 3U);
  auto all = t->search({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3U);
  EXPECT_EQ((*all)[0].queue_id, "Q1");
  // The outage itself is recorded as an incident before the next record.
  EXPECT_EQ((*all)[1].incident, audit::IncidentKind::kAuditFailure);
  EXPECT_EQ((*all)[1].action, "audit-failure");
  EXPECT_NE((*all)[1].detail.find("1 record(s) refused"), std::string::npos) << (*all)[1].detail;
  EXPECT_EQ((*all)[2].queue_id, "Q3");
  auto v = t->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << v->detail;
}

TEST(Trail, ConcurrentWritersKeepOneChain) {
  testsupport::TempDir dir;
  const auto p = dir / "audit.db";
  auto t = open_trail(p);
  auto second = open_trail(p);  // another process (smimectl) on the same file
  ASSERT_TRUE(t && second);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint64_t>> seqs(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      audit::Trail& target = (i % 2 == 0) ? *t : *second;
      for (int j = 0; j < kPerThread; ++j) {
        auto r = target.append_decision(decision(i * 1000 + j));
        if (r) {
          seqs[static_cast<size_t>(i)].push_back(*r);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  std::set<std::uint64_t> all;
  for (const auto& s : seqs) {
    EXPECT_EQ(s.size(), static_cast<size_t>(kPerThread));
    all.insert(s.begin(), s.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  auto v = t->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << v->detail;
  EXPECT_EQ(v->records, static_cast<std::uint64_t>(kThreads * kPerThread));
}

TEST(Trail, SearchFilters) {
  testsupport::TempDir dir;
  auto t = open_trail(dir / "audit.db");
  ASSERT_TRUE(t);
  auto in = decision(10, "inbound");
  in.sender = "Dave@Partner.Example";
  in.recipients = {"carol@example.gov"};
  in.verification = "fail";
  in.reason = "bad-signature";
  in.verdict = "quarantine";
  ASSERT_TRUE(t->append_decision(decision(1)));
  ASSERT_TRUE(t->append_decision(in));
  ASSERT_TRUE(t->append_decision(decision(20)));
  audit::AdminRecord a;
  a.time = 1735689600 + 30;
  a.action = "revoke";
  a.reason = "keyCompromise";
  ASSERT_TRUE(t->append_admin(a));
  struct Case {
    std::string name;
    audit::Filter f;
    std::vector<std::uint64_t> want;
  };
  const auto f = [](auto mod) {
    audit::Filter x;
    mod(x);
    return x;
  };
  const std::vector<Case> cases = {
      {"all", {}, {1, 2, 3, 4}},
      {"sender, case-insensitive", f([](auto& x) { x.sender = "dave@partner.example"; }), {2}},
      {"recipient", f([](auto& x) { x.recipient = "ERIN@partner.example"; }), {1, 3}},
      {"recipient is exact", f([](auto& x) { x.recipient = "erin@partner"; }), {}},
      {"since", f([](auto& x) { x.since = 1735689600 + 10; }), {2, 3, 4}},
      {"until (exclusive)", f([](auto& x) { x.until = 1735689600 + 20; }), {1, 2}},
      {"direction", f([](auto& x) { x.direction = "inbound"; }), {2}},
      {"verdict", f([](auto& x) { x.verdict = "accept"; }), {1, 3}},
      {"incidents only", f([](auto& x) { x.incidents_only = true; }), {2, 4}},
      {"admin only", f([](auto& x) { x.type = audit::RecordType::kAdmin; }), {4}},
      {"limit", f([](auto& x) { x.limit = 2; }), {1, 2}},
  };
  for (const auto& c : cases) {
    auto got = t->search(c.f);
    ASSERT_TRUE(got) << c.name;
    std::vector<std::uint64_t> seqs;
    for (const auto& e : *got) {
      seqs.push_back(e.seq);
    }
    EXPECT_EQ(seqs, c.want) << c.name;
  }
}

}  // namespace

namespace {

TEST(Export, ParsesTimes) {
  struct Case {
    std::string in;
    std::optional<std::int64_t> want;
  };
  const std::vector<Case> cases = {
      {"2025-01-01", 1735689600},
      {"2025-01-01T00:00:10Z", 1735689610},
      {"1735689600", 1735689600},
      {"2025-13-01", std::nullopt},
      {"2025-01-01T25:00:00Z", std::nullopt},
      {"yesterday", std::nullopt},
      {"", std::nullopt},
      {"2025-01-01x", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(audit::parse_time(c.in), c.want) << c.in;
  }
  EXPECT_EQ(audit::iso_time(1735689610), "2025-01-01T00:00:10Z");
}

TEST(Export, CsvFieldQuotingAndFormulaGuard) {
  struct Case {
    std::string in, want;
    bool text;
  };
  const std::vector<Case> cases = {
      {"plain", "plain", true},
      {"a,b", "\"a,b\"", true},
      {"say \"hi\"", "\"say \"\"hi\"\"\"", true},
      {"l1\nl2", "\"l1\nl2\"", true},
      {"=1+1", "'=1+1", true},
      {"@SUM(A1)", "'@SUM(A1)", true},
      {"-5", "-5", false},
      {"+62 21", "'+62 21", true},
      {"", "", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(audit::csv_field(c.in, c.text), c.want) << c.in;
  }
}

}  // namespace
