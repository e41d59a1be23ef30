// smimectl audit search|export|verify, report and incidents, run as the built binary.
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/audit/report_seed.h"

namespace {

using testsupport::run;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = audittest::open_trail(db_);
    ASSERT_TRUE(t);
    audittest::seed_year(*t);
    auto odd = audittest::decision(99, "inbound");
    odd.time = audittest::at("2025-12-01");
    odd.message_id = "=HYPERLINK(\"http://x\"),\"quoted\"\nnext";
    odd.sender = "Odd@Partner.Example";
    ASSERT_TRUE(t->append_decision(odd));
  }
  testsupport::CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), SMIMECTL);
    return run(args);
  }
  testsupport::TempDir dir_;
  std::filesystem::path db_ = dir_ / "audit.db";
};

std::vector<nlohmann::json> lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    v.push_back(nlohmann::json::parse(l));
  }
  return v;
}

TEST_F(Cli, VerifyPassesThenNamesTheTamperedRecord) {
  auto r = ctl({"audit", "verify", "--audit-db", db_.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("audit trail intact: 29 records"), std::string::npos) << r.out;
  audittest::sqlite_cli(db_, "UPDATE records SET reason='superseded' WHERE seq=7");
  r = ctl({"audit", "verify", "--audit-db", db_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("record 7 was changed"), std::string::npos) << r.out;
  r = ctl({"audit", "verify", "--audit-db", db_.string(), "--json"});
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["problem"], "changed");
  EXPECT_EQ(j["bad_seq"], 7);
}

TEST_F(Cli, VerifyChecksAHeadCopiedFromSyslog) {
  auto r = ctl({"audit", "verify", "--audit-db", db_.string(), "--json"});
  const auto head = nlohmann::json::parse(r.out);
  const std::string expect = "29:" + head["head_hash"].get<std::string>();
  r = ctl({"audit", "verify", "--audit-db", db_.string(), "--expect-head", expect});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  audittest::sqlite_cli(db_, "DELETE FROM records WHERE seq = 29");
  r = ctl({"audit", "verify", "--audit-db", db_.string(), "--expect-head", expect});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  r = ctl({"audit", "verify", "--audit-db", db_.string(), "--expect-head", "29:abc"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

TEST_F(Cli, SearchFiltersAndJson) {
  auto r = ctl({"audit", "search", "--audit-db", db_.string(), "--since", "2025-01-01", "--until",
                "2026-01-01", "--direction", "inbound", "--incidents-only", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto got = lines(r.out);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0]["incident"], "bad-signature");
  EXPECT_EQ(got[1]["incident"], "sender-mismatch");
  r = ctl({"audit", "search", "--audit-db", db_.string(), "--from", "odd@partner.example"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("inbound Q99 from=Odd@Partner.Example"), std::string::npos) << r.out;
  r = ctl({"audit", "search", "--audit-db", db_.string(), "--verdict", "tempfail"});
  EXPECT_NE(r.out.find("INCIDENT=revoked-certificate-use"), std::string::npos) << r.out;
  r = ctl({"audit", "search", "--audit-db", db_.string(), "--since", "yesterday"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = ctl({"audit", "search", "--audit-db", (dir_ / "missing.db").string()});
  EXPECT_EQ(r.exit_code, 7) << r.out;
  EXPECT_NE(r.out.find("no audit trail at"), std::string::npos) << r.out;
}

TEST_F(Cli, ExportCsvAndJsonlEscape) {
  const auto csv_path = dir_ / "out.csv";
  auto r = ctl(
      {"audit", "export", "--audit-db", db_.string(), "--format", "csv", "-o", csv_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(std::filesystem::status(csv_path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto csv = testsupport::read_file(csv_path);
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "seq,time,type,incident,queue_id,message_id,direction,sender,recipients,"
            "auth_user,client_addr,department,rule,actions,certificates,algorithms,"
            "verification,reason,verdict,os_user,action,subject,fingerprint,serial,"
            "not_before,not_after,detail,prev_hash,hash");
  // Formula guard, doubled quotes, quoted field keeping its newline.
  EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"http://x\"\"),\"\"quoted\"\"\nnext\","), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",\"[\"\"bob@example.gov\"\",\"\"erin@partner.example\"\"]\","),
            std::string::npos);
  // The export parses back as CSV with the sqlite3 CLI: 29 records.
  const auto count = run({"sqlite3", ":memory:", ".import --csv " + csv_path.string() + " t",
                          "SELECT count(*), max(CAST(seq AS INTEGER)) FROM t;"});
  EXPECT_EQ(count.out, "29|29\n") << count.out;

  r = ctl({"audit", "export", "--audit-db", db_.string(), "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0);
  const auto recs = lines(r.out);
  ASSERT_EQ(recs.size(), 29U);
  EXPECT_EQ(recs[28]["message_id"], "=HYPERLINK(\"http://x\"),\"quoted\"\nnext");
  EXPECT_EQ(recs[28]["recipients"][1], "erin@partner.example");
  EXPECT_EQ(recs[1]["prev_hash"], recs[0]["hash"]);
  r = ctl({"audit", "export", "--audit-db", db_.string(), "--format", "xml"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(Cli, ReportInEachFormat) {
  const auto html = dir_ / "report.html";
  auto r = ctl({"report", "--audit-db", db_.string(), "--year", "2025", "-o", html.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto page = testsupport::read_file(html);
  EXPECT_NE(page.find("<html lang=\"id\">"), std::string::npos);
  EXPECT_NE(page.find("Tahun 2025"), std::string::npos);
  r = ctl(
      {"report", "--audit-db", db_.string(), "--year", "2025", "--format", "csv", "--lang", "en"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The extra inbound record carries the fixture default department and a "sign" action.
  EXPECT_NE(r.out.find("\r\nDinas Komunikasi,2,2,0,7,6,2,0,0,0,1,1,1,1,1,1\r\n"), std::string::npos)
      << r.out;
  r = ctl({"report", "--audit-db", db_.string(), "--year", "2025", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total"]["messages"], 13);  // 12 seeded + the odd inbound one
  EXPECT_EQ(j["total"]["incidents"], 4);
  r = ctl({"report", "--audit-db", db_.string()});
  EXPECT_EQ(r.exit_code, 2) << "--year is required";
}

TEST_F(Cli, IncidentsSayWhatToReportAndToWhom) {
  auto r = ctl({"incidents", "--audit-db", db_.string(), "--lang", "en"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("key-compromise  carol@example.gov"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Head of BSrE"), std::string::npos);
  r = ctl({"incidents", "--audit-db", db_.string(), "--json", "--since", "2025-10-01"});
  const auto got = lines(r.out);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_NE(got[0]["report"].get<std::string>().find("Kepala BSrE"), std::string::npos);
}

}  // namespace

namespace {

TEST_F(Cli, HeadIsSignedAndThenChecked) {
  auto r = ctl({"audit", "head", "--audit-db", db_.string(), "--cert",
                testsupport::pki("sistem.crt").string(), "--key",
                testsupport::pki("sistem.key").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto h = nlohmann::json::parse(r.out);
  EXPECT_EQ(h["seq"], 29);
  EXPECT_EQ(h["signer"].get<std::string>().size(), 64U);
  r = ctl({"audit", "verify", "--audit-db", db_.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto v = nlohmann::json::parse(r.out);
  EXPECT_EQ(v["heads_signed"], 1);
  EXPECT_EQ(v["head_hash"], h["hash"]);
  // Truncating the trail is now visible without any outside copy.
  audittest::sqlite_cli(db_, "DELETE FROM records WHERE seq >= 28");
  r = ctl({"audit", "verify", "--audit-db", db_.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("records 28..29 were removed"), std::string::npos) << r.out;
  // A key that is not the certificate's is refused.
  r = ctl({"audit", "head", "--audit-db", db_.string(), "--cert",
           testsupport::pki("sistem.crt").string(), "--key",
           testsupport::pki("alice.key").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

// The acceptance case, through the CLI an auditor runs: a 10,000-record trail
// verifies; one field changed, one record deleted, two records swapped with the sqlite3
// CLI are each reported with the first bad record named.
TEST(CliTamper, TenThousandRecordsThenEachEditNamed) {
  testsupport::TempDir dir;
  const auto db = dir / "audit.db";
  {
    auto t = audittest::open_trail(db);
    ASSERT_TRUE(t);
    audittest::fill(*t, 10000);
  }
  const auto verify = [&db] {
    return run({SMIMECTL, "audit", "verify", "--audit-db", db.string(), "--json"});
  };
  auto r = verify();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["records"], 10000);
  const std::string pristine = testsupport::read_file(db);
  struct Case {
    std::string name, sql, problem;
    int bad_seq;
  };
  const std::vector<Case> cases = {
      {"one field changed", "UPDATE records SET recipients='[]' WHERE seq=4321", "changed", 4321},
      {"one record deleted", "DELETE FROM records WHERE seq=777", "missing", 777},
      {"two records swapped",
       "UPDATE records SET seq=-1 WHERE seq=9000; UPDATE records SET seq=9000 WHERE seq=9001;"
       "UPDATE records SET seq=9001 WHERE seq=-1",
       "reordered", 9000},
  };
  for (const auto& c : cases) {
    testsupport::write_file(db, pristine);
    audittest::sqlite_cli(db, c.sql);
    r = verify();
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.out;
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["problem"], c.problem) << c.name << ": " << r.out;
    EXPECT_EQ(j["bad_seq"], c.bad_seq) << c.name << ": " << r.out;
    EXPECT_NE(j["detail"].get<std::string>().find(std::to_string(c.bad_seq)), std::string::npos)
        << c.name << ": " << r.out;
  }
}

}  // namespace
