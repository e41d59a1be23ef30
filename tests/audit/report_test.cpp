// The yearly report: numbers from a seeded trail, CSV/JSON/HTML in both languages.
#include "audit/report.h"

#include <nlohmann/json.hpp>

#include "tests/audit/report_seed.h"

namespace {

using audittest::at;

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = audittest::open_trail(dir_ / "audit.db");
    ASSERT_TRUE(t);
    audittest::seed_year(*t);
    auto r = audit::build_report(*t, 2025, at("2026-03-01"));
    ASSERT_TRUE(r) << r.error().message();
    report_ = *r;
  }
  testsupport::TempDir dir_;
  audit::YearReport report_;
};

TEST_F(Report, NumbersMatchTheSeededYear) {
  const auto j = nlohmann::json::parse(audit::render_json(report_));
  EXPECT_EQ(j["as_of"], "2026-01-01T00:00:00Z");
  ASSERT_EQ(j["departments"].size(), 2U);
  const auto& bk = j["departments"][0];
  const auto& dk = j["departments"][1];
  ASSERT_EQ(bk["department"], "Badan Keuangan");
  ASSERT_EQ(dk["department"], "Dinas Komunikasi");
  struct Want {
    const char* field;
    int bk, dk;
  };
  const std::vector<Want> wants = {
      {"staff", 2, 2},
      {"staff_with_valid_cert", 1, 2},
      {"staff_without_valid_cert", 1, 0},
      {"messages", 6, 6},
      {"signed", 0, 5},
      {"encrypted", 0, 2},
      {"verified", 4, 0},
      {"verify_failed", 2, 0},
      {"decrypted", 1, 0},
      {"refused", 0, 1},
      {"certs_imported", 1, 1},
      {"certs_renewed", 1, 1},
      {"certs_revoked", 1, 1},
      {"expiring_90d", 0, 1},
      {"incidents", 3, 1},
  };
  for (const auto& w : wants) {
    EXPECT_EQ(bk[w.field], w.bk) << "Badan Keuangan " << w.field;
    EXPECT_EQ(dk[w.field], w.dk) << "Dinas Komunikasi " << w.field;
    EXPECT_EQ(j["total"][w.field], w.bk + w.dk) << "total " << w.field;
  }
  EXPECT_EQ(bk["staff_missing"], nlohmann::json::array({"dan@example.gov"}));
  EXPECT_EQ(bk["revoked_by_reason"]["keyCompromise"], 1);
  EXPECT_EQ(dk["revoked_by_reason"]["superseded"], 1);
  ASSERT_EQ(j["incidents"].size(), 4U);
  EXPECT_EQ(j["incidents"][0]["kind"], "key-compromise");
  EXPECT_EQ(j["incidents"][0]["time"], "2025-05-01T00:00:00Z");
  EXPECT_EQ(j["incidents"][1]["kind"], "revoked-certificate-use");
  EXPECT_EQ(j["incidents"][2]["kind"], "bad-signature");
  EXPECT_EQ(j["incidents"][3]["kind"], "sender-mismatch");
  EXPECT_EQ(j["integrity"]["ok"], true);
  EXPECT_EQ(j["integrity"]["records"], 28);  // 14 admin + 14 decisions
}

TEST_F(Report, CsvInBothLanguages) {
  const auto id = audit::render_csv(report_, audit::Lang::kId);
  const auto en = audit::render_csv(report_, audit::Lang::kEn);
  EXPECT_EQ(
      id.substr(0, id.find("\r\n")),
      "Perangkat Daerah,Pegawai,Bersertifikat sah,Tanpa sertifikat "
      "sah,Pesan,Ditandatangani,Dienkripsi,"
      "Terverifikasi,Verifikasi gagal,Didekripsi,Ditolak/ditunda,Diimpor baru,Diperbarui,Dicabut,"
      "Kedaluwarsa dalam 90 hari,Insiden");
  EXPECT_EQ(en.substr(0, en.find(',')), "Department");
  for (const auto* csv : {&id, &en}) {
    EXPECT_NE(csv->find("\r\nBadan Keuangan,2,1,1,6,0,0,4,2,1,0,1,1,1,0,3\r\n"), std::string::npos)
        << *csv;
    EXPECT_NE(csv->find("\r\nDinas Komunikasi,2,2,0,6,5,2,0,0,0,1,1,1,1,1,1\r\n"),
              std::string::npos);
  }
  EXPECT_NE(id.find("\r\nJumlah,4,3,1,12,5,2,4,2,1,1,2,2,2,1,4\r\n"), std::string::npos);
  EXPECT_NE(en.find("\r\nTotal,4,3,1,12,5,2,4,2,1,1,2,2,2,1,4\r\n"), std::string::npos);
  EXPECT_NE(id.find("Kunci privat hilang"), std::string::npos);
  EXPECT_NE(en.find("Private key lost"), std::string::npos);
}

TEST_F(Report, HtmlIsSelfContainedAndLocalised) {
  const auto id = audit::render_html(report_, audit::Lang::kId);
  const auto en = audit::render_html(report_, audit::Lang::kEn);
  EXPECT_NE(id.find("<html lang=\"id\">"), std::string::npos);
  EXPECT_NE(id.find("Laporan Pengawasan dan Evaluasi"), std::string::npos);
  EXPECT_NE(id.find("Rantai hash utuh"), std::string::npos);
  EXPECT_NE(en.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(en.find("Supervision and Evaluation Report"), std::string::npos);
  for (const auto* h : {&id, &en}) {
    EXPECT_NE(h->find("<svg"), std::string::npos);
    EXPECT_NE(h->find("size: A4"), std::string::npos);
    EXPECT_EQ(h->find("<script"), std::string::npos);
    EXPECT_EQ(h->find("src="), std::string::npos);
    EXPECT_EQ(h->find("href="), std::string::npos);
    EXPECT_NE(h->find("dan@example.gov"), std::string::npos);
  }
}

TEST(ReportEscaping, HtmlEscapesTrailContent) {
  testsupport::TempDir dir;
  auto t = audittest::open_trail(dir / "audit.db");
  ASSERT_TRUE(t);
  audittest::message(*t, "2025-03-03", "<script>alert(1)</script>", "inbound", {"verify"}, "fail",
                     "bad-signature");
  auto r = audit::build_report(*t, 2025, at("2025-06-01"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->as_of, at("2025-06-01"));
  const auto html = audit::render_html(*r, audit::Lang::kEn);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
}

TEST(ReportEscaping, TamperedTrailIsFlaggedInTheReport) {
  testsupport::TempDir dir;
  {
    auto t = audittest::open_trail(dir / "audit.db");
    ASSERT_TRUE(t);
    audittest::fill(*t, 5);
  }
  audittest::sqlite_cli(dir / "audit.db", "UPDATE records SET verdict='reject' WHERE seq=2");
  auto t = audit::Trail::open_read_only((dir / "audit.db").string());
  ASSERT_TRUE(t);
  auto r = audit::build_report(**t, 2025, at("2025-06-01"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->integrity.ok());
  EXPECT_NE(audit::render_html(*r, audit::Lang::kId).find("RANTAI HASH RUSAK"), std::string::npos);
}

}  // namespace
