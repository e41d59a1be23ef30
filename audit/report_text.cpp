// Report vocabulary in Indonesian and English, incident guidance (Art. 25), and the
// JSON and CSV renderings of the yearly report.
#include "audit/report_text.h"

#include <array>

#include "audit/export.h"
#include "audit/report.h"

namespace audit {
namespace {

struct Term {
  std::string_view key, id, en;
};

constexpr std::array kTerms = {
    Term{"title", "Laporan Pengawasan dan Evaluasi Penggunaan Sertifikat Elektronik",
         "Supervision and Evaluation Report on the Use of Electronic Certificates"},
    Term{"year", "Tahun", "Year"},
    Term{"basis", "Disusun berdasarkan Peraturan Wali Kota Bekasi Nomor 84 Tahun 2017, Pasal 24.",
         "Prepared under Bekasi Mayor Regulation No. 84 of 2017, Article 24."},
    Term{"to",
         "Disampaikan kepada: Wali Kota, Gubernur, Kepala Lembaga Sandi Negara, dan Kepala BSrE.",
         "Addressed to: the Mayor, the Governor, the Head of the National Crypto Agency and the "
         "Head of BSrE."},
    Term{"period", "Periode", "Period"},
    Term{"as_of", "Keadaan per", "State as of"},
    Term{"generated", "Dibuat", "Generated"},
    Term{"summary", "Ringkasan", "Summary"},
    Term{"staff_section", "Pegawai dan sertifikat", "Staff and certificates"},
    Term{"usage_section", "Penggunaan surat elektronik", "E-mail usage"},
    Term{"lifecycle_section", "Siklus hidup sertifikat", "Certificate lifecycle"},
    Term{"incident_section", "Insiden keamanan informasi", "Information security incidents"},
    Term{"integrity_section", "Integritas jejak audit", "Audit trail integrity"},
    Term{"department", "Perangkat Daerah", "Department"},
    Term{"no_department", "(tanpa perangkat daerah)", "(no department)"},
    Term{"total", "Jumlah", "Total"},
    Term{"staff", "Pegawai", "Staff"},
    Term{"with_cert", "Bersertifikat sah", "With valid certificate"},
    Term{"without_cert", "Tanpa sertifikat sah", "Without valid certificate"},
    Term{"missing_list", "Pegawai tanpa sertifikat sah", "Staff without a valid certificate"},
    Term{"messages", "Pesan", "Messages"},
    Term{"signed", "Ditandatangani", "Signed"},
    Term{"encrypted", "Dienkripsi", "Encrypted"},
    Term{"verified", "Terverifikasi", "Verified"},
    Term{"verify_failed", "Verifikasi gagal", "Verification failed"},
    Term{"decrypted", "Didekripsi", "Decrypted"},
    Term{"refused", "Ditolak/ditunda", "Refused/deferred"},
    Term{"imported", "Diimpor baru", "Newly imported"},
    Term{"renewed", "Diperbarui", "Renewed"},
    Term{"revoked", "Dicabut", "Revoked"},
    Term{"reasons", "Alasan pencabutan", "Revocation reasons"},
    Term{"expiring", "Kedaluwarsa dalam 90 hari", "Expiring within 90 days"},
    Term{"incidents", "Insiden", "Incidents"},
    Term{"date", "Tanggal", "Date"},
    Term{"kind", "Jenis", "Kind"},
    Term{"party", "Pihak", "Party"},
    Term{"detail", "Keterangan", "Detail"},
    Term{"record", "Catatan", "Record"},
    Term{"no_incidents", "Tidak ada insiden yang tercatat.", "No incidents recorded."},
    Term{"chain_ok", "Rantai hash utuh", "Hash chain intact"},
    Term{"chain_bad", "RANTAI HASH RUSAK", "HASH CHAIN BROKEN"},
    Term{"records", "catatan", "records"},
    Term{"last_hash", "hash terakhir", "last hash"},
    Term{"heads", "kepala rantai tertandatangani diperiksa", "signed chain heads checked"},
};

constexpr std::array<std::array<std::string_view, 2>, 9> kIncidentLabels = {{
    {"-", "-"},
    {"Tanda tangan surat masuk gagal diverifikasi", "Inbound signature failed verification"},
    {"Penanda tangan tidak sesuai dengan pengirim", "Signer does not match the sender"},
    {"Upaya memakai sertifikat yang telah dicabut", "Attempt to use a revoked certificate"},
    {"Upaya memakai sertifikat kedaluwarsa", "Attempt to use an expired certificate"},
    {"Kunci privat hilang atau bocor (dicabut: keyCompromise)",
     "Private key lost or compromised (revoked: keyCompromise)"},
    {"Gangguan penyimpanan kunci", "Keystore failure"},
    {"Gangguan jejak audit", "Audit trail failure"},
    {"Lainnya", "Other"},
}};

constexpr std::array<std::array<std::string_view, 2>, 9> kIncidentWhat = {{
    {"-", "-"},
    {"Message-ID, pengirim, sidik jari sertifikat penanda tangan dan alasan kegagalan (kemungkinan "
     "pemalsuan).",
     "Message-ID, sender, signer certificate fingerprint and failure reason (possible forgery)."},
    {"Message-ID, alamat From, alamat pada sertifikat penanda tangan (kemungkinan penyamaran).",
     "Message-ID, From address, address in the signer certificate (possible impersonation)."},
    {"Pengirim, nomor seri sertifikat, waktu; periksa apakah kunci disalahgunakan.",
     "Sender, certificate serial, time; check whether the key is being misused."},
    {"Pengirim, nomor seri sertifikat, waktu; ajukan pembaruan sertifikat (Pasal 15).",
     "Sender, certificate serial, time; apply for renewal (Art. 15)."},
    {"Pemilik, nomor seri, waktu pencabutan; pastikan BSrE telah mencabut sertifikat (Pasal 16).",
     "Owner, serial, revocation time; make sure BSrE has revoked the certificate (Art. 16)."},
    {"Rentang waktu gangguan dan pesan yang terdampak.",
     "Time span of the failure and the messages affected."},
    {"Rentang waktu gangguan; jalankan smimectl audit verify.",
     "Time span of the failure; run smimectl audit verify."},
    {"Uraian kejadian.", "Description of the event."},
}};

}  // namespace

std::string_view term(std::string_view key, Lang lang) {
  for (const auto& t : kTerms) {
    if (t.key == key) {
      return lang == Lang::kEn ? t.en : t.id;
    }
  }
  return key;
}

std::string incident_label(IncidentKind k, Lang lang) {
  return std::string(kIncidentLabels.at(static_cast<size_t>(k)).at(lang == Lang::kEn ? 1 : 0));
}

std::string incident_guidance(IncidentKind k, Lang lang) {
  const std::string who =
      lang == Lang::kEn
          ? "Report at once (Art. 25) to the Mayor, the Governor, the Head of the National "
            "Crypto Agency (BSSN) and the Head of BSrE. Include: "
          : "Laporkan segera (Pasal 25) kepada Wali Kota, Gubernur, Kepala Lembaga Sandi "
            "Negara (BSSN) dan Kepala BSrE. Sertakan: ";
  return who + std::string(kIncidentWhat.at(static_cast<size_t>(k)).at(lang == Lang::kEn ? 1 : 0));
}

namespace {

nlohmann::json dept_json(const DepartmentStats& d) {
  return {{"department", d.name},
          {"staff", d.staff},
          {"staff_with_valid_cert", d.staff_with_valid_cert},
          {"staff_without_valid_cert", d.staff_without_valid_cert},
          {"staff_missing", d.staff_missing},
          {"messages", d.messages},
          {"signed", d.signed_},
          {"encrypted", d.encrypted},
          {"verified", d.verified},
          {"verify_failed", d.verify_failed},
          {"decrypted", d.decrypted},
          {"refused", d.refused},
          {"certs_imported", d.certs_imported},
          {"certs_renewed", d.certs_renewed},
          {"certs_revoked", d.certs_revoked},
          {"revoked_by_reason", d.revoked_by_reason},
          {"expiring_90d", d.expiring_90d},
          {"incidents", d.incidents}};
}

}  // namespace

std::string render_json(const YearReport& r) {
  nlohmann::json j;
  j["year"] = r.year;
  j["period_start"] = iso_time(r.period_start);
  j["period_end"] = iso_time(r.period_end);
  j["as_of"] = iso_time(r.as_of);
  j["generated_at"] = iso_time(r.generated_at);
  j["departments"] = nlohmann::json::array();
  for (const auto& d : r.departments) {
    j["departments"].push_back(dept_json(d));
  }
  j["total"] = dept_json(r.total);
  j["incidents"] = nlohmann::json::array();
  for (const auto& i : r.incidents) {
    j["incidents"].push_back({{"seq", i.seq},
                              {"time", iso_time(i.time)},
                              {"kind", incident_name(i.kind)},
                              {"department", i.department},
                              {"party", i.who},
                              {"detail", i.detail}});
  }
  j["incidents_by_kind"] = r.incidents_by_kind;
  j["integrity"] = {{"ok", r.integrity.ok()},
                    {"records", r.integrity.records},
                    {"last_seq", r.integrity.last_seq},
                    {"head_hash", r.integrity.head_hash},
                    {"heads_checked", r.integrity.heads_checked},
                    {"heads_signed", r.integrity.heads_signed},
                    {"problem", problem_name(r.integrity.problem)},
                    {"detail", r.integrity.detail}};
  return j.dump(2) + "\n";
}

std::string render_csv(const YearReport& r, Lang lang) {
  static constexpr std::array<std::string_view, 16> kCols = {
      "department", "staff",    "with_cert",     "without_cert", "messages", "signed",
      "encrypted",  "verified", "verify_failed", "decrypted",    "refused",  "imported",
      "renewed",    "revoked",  "expiring",      "incidents"};
  std::string out;
  for (size_t i = 0; i < kCols.size(); ++i) {
    out += (i != 0 ? "," : "") + csv_field(term(kCols[i], lang));
  }
  out += "\r\n";
  const auto row = [&out, lang](const DepartmentStats& d, std::string_view name) {
    const std::array<std::int64_t, 15> v = {d.staff,
                                            d.staff_with_valid_cert,
                                            d.staff_without_valid_cert,
                                            d.messages,
                                            d.signed_,
                                            d.encrypted,
                                            d.verified,
                                            d.verify_failed,
                                            d.decrypted,
                                            d.refused,
                                            d.certs_imported,
                                            d.certs_renewed,
                                            d.certs_revoked,
                                            d.expiring_90d,
                                            d.incidents};
    out += csv_field(name.empty() ? term("no_department", lang) : name);
    for (const auto n : v) {
      out += "," + std::to_string(n);
    }
    out += "\r\n";
  };
  for (const auto& d : r.departments) {
    row(d, d.name);
  }
  row(r.total, term("total", lang));
  out += "\r\n" + csv_field(term("date", lang)) + "," + csv_field(term("kind", lang)) + "," +
         csv_field(term("department", lang)) + "," + csv_field(term("party", lang)) + "," +
         csv_field(term("detail", lang)) + "\r\n";
  for (const auto& i : r.incidents) {
    out += iso_time(i.time) + "," + csv_field(incident_label(i.kind, lang)) + "," +
           csv_field(i.department) + "," + csv_field(i.who) + "," + csv_field(i.detail) + "\r\n";
  }
  return out;
}

}  // namespace audit
