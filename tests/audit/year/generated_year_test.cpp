// A generated year of activity, end to end: a test PKI made by the openssl CLI, a
// keystore with staff in two departments built with smimectl, then a known workload
// (admin commands and messages through `smimectl process`) at dates spread over 2025,
// each run under libfaketime's `faketime` so the trail records those dates. The yearly
// report in JSON, CSV and HTML must show exactly the numbers the test tallied from what
// it did; the HTML report must render in headless Chromium without console messages.
// Nothing here reads our own numbers back as expectations: every expected count comes
// from the workload table and the observed verdict of each step.
#include <array>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/common/test_support.h"

#ifdef SMIMECTL
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testsupport::run;

constexpr int kYear = 2025;
const std::string kKominfo = "Dinas Komunikasi dan Informatika";
const std::string kDinkes = "Dinas Kesehatan";

// Expected per-department numbers, named like the JSON report's fields.
struct Counts {
  std::map<std::string, std::int64_t> n;
  std::map<std::string, std::int64_t> revoked_by_reason;
  void add(const std::string& k, std::int64_t v = 1) { n[k] += v; }
};

struct Staff {
  std::string name, address, department;
};

// The dates handed to faketime are UTC; the clock runs on from there.
testsupport::CommandResult at(const std::string& when, std::vector<std::string> argv,
                              std::string_view input = {}) {
  // Monotonic clocks stay real: condition-variable timeouts keep working. Under
  // AddressSanitizer, libfaketime is preloaded ahead of the ASan runtime: allow it.
  const char* asan = std::getenv("ASAN_OPTIONS");
  argv.insert(argv.begin(),
              {"env", "FAKETIME_DONT_FAKE_MONOTONIC=1", "TZ=UTC",
               "ASAN_OPTIONS=verify_asan_link_order=0" +
                   (asan != nullptr && *asan != '\0' ? ":" + std::string(asan) : std::string()),
               "faketime", when + " UTC"});
  return run(argv, input);
}

class Year : public ::testing::Test {
 public:  // the workload's tallies are read by the helpers below the fixture
  static void SetUpTestSuite() {
    dir_ = new testsupport::TempDir();
    build_year();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static fs::path p(std::string_view name) { return *dir_ / name; }
  static fs::path pki(std::string_view name) { return *dir_ / "pki" / name; }
  static std::string conf() { return p("smime-milter.conf").string(); }
  static std::string trail() { return p("audit.db").string(); }

  static testsupport::CommandResult ctl(const std::string& when, std::vector<std::string> args,
                                        std::string_view input = {}) {
    args.insert(args.begin(), {SMIMECTL, "-c", conf()});
    return at(when, std::move(args), input);
  }
  static void ok(const std::string& when, const std::vector<std::string>& args) {
    const auto r = ctl(when, args);
    ASSERT_EQ(r.exit_code, 0) << when << " smimectl " << args[0] << ": " << r.out;
  }
  // `openssl ...` run in the PKI directory (its CA databases use relative paths there).
  static void openssl(const std::string& when, std::vector<std::string> args,
                      const std::string& out_file = {}) {
    args.insert(args.begin(), "openssl");
    std::string cmd;
    for (const auto& a : args) {
      cmd += "'" + a + "' ";
    }
    if (!out_file.empty()) {
      cmd += "> '" + out_file + "'";
    }
    const auto r = at(when, {"bash", "-c", "cd '" + (*dir_ / "pki").string() + "' && " + cmd});
    ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.out;
  }

  // Fresh CRLs from both CAs, imported (an admin action; the milter needs current ones).
  static void import_crls(const std::string& when) {
    for (const std::string ca : {"root", "inter"}) {
      const std::string crl = p(ca + "-" + when.substr(0, 10) + ".crl").string();
      openssl(when, {"ca", "-config", ca + ".cnf", "-gencrl", "-crldays", "100", "-out", crl});
      ok(when, {"crl", "import", crl});
    }
  }

  // A leaf from the issuing CA, like make_pki.sh's, valid `days` from `when`.
  static void issue(const std::string& when, const std::string& name, const std::string& email,
                    int days) {
    const std::string key = pki(name + ".key").string();
    openssl(when,
            {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key});
    openssl(when, {"req", "-new", "-key", key, "-out", pki(name + ".csr").string(), "-subj",
                   "/C=ID/O=Pemerintah Kota Contoh/CN=" + name + "/emailAddress=" + email});
    testsupport::write_file(pki(name + ".ext"),
                            "basicConstraints=critical,CA:FALSE\n"
                            "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment\n"
                            "extendedKeyUsage=emailProtection,clientAuth\n"
                            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                            "subjectAltName=email:" +
                                email + "\n");
    openssl(when, {"ca", "-batch", "-config", "inter.cnf", "-in", pki(name + ".csr").string(),
                   "-out", pki(name + ".crt").string(), "-days", std::to_string(days), "-extfile",
                   pki(name + ".ext").string(), "-notext"});
    openssl(when, {"pkcs12", "-export", "-inkey", key, "-in", pki(name + ".crt").string(),
                   "-certfile", pki("inter.crt").string(), "-name", name, "-out",
                   pki(name + ".p12").string(), "-passout", "pass:test-pass"});
  }

  static void staff_add(const std::string& when, const Staff& s) {
    ok(when, {"staff", "add", s.name, "--department", s.department, "--address", s.address});
  }
  // Imports `p12` for staff member `s`: a renewal when they held a certificate before.
  static void import_cert(const std::string& when, const Staff& s, const std::string& p12,
                          bool renewal) {
    ok(when,
       {"import", pki(p12).string(), "--owner", s.name, "--passphrase-file", p("pass").string()});
    if (when.starts_with(std::to_string(kYear))) {
      want_[s.department].add(renewal ? "certs_renewed" : "certs_imported");
    }
  }
  static void revoked(const std::string& when, const std::string& dept, const std::string& reason) {
    if (when.starts_with(std::to_string(kYear))) {
      want_[dept].add("certs_revoked");
      want_[dept].revoked_by_reason[reason]++;
      if (reason == "keyCompromise") {
        incident(when, dept, "key-compromise");
      }
    }
  }
  static void incident(const std::string& when, const std::string& dept, const std::string& kind) {
    if (when.starts_with(std::to_string(kYear))) {
      want_[dept].add("incidents");
      want_incidents_.push_back({when.substr(0, 10), kind, dept});
    }
  }

  struct Msg {
    std::string when, direction, from, to, auth, file;
    std::string dept;  // the department the milter should attribute it to
    bool sign = false, encrypt = false, decrypt = false;
    std::string verification;  // "pass", "fail" or "" (nothing to verify)
    std::string incident;      // expected incident kind, "" = none
    int exit_code = 0;         // 0 delivered, 20 reject, 21 tempfail
  };
  static void process(const Msg& m) {
    std::vector<std::string> args{
        "--json", "process", "--direction", m.direction,  "--from",
        m.from,   "--to",    m.to,          "--queue-id", "Q" + std::to_string(++queue_)};
    if (!m.auth.empty()) {
      args.insert(args.end(), {"--auth", m.auth});
    }
    const auto r = ctl(m.when, args, testsupport::read_file(p(m.file)));
    ASSERT_EQ(r.exit_code, m.exit_code) << m.when << " " << m.file << ": " << r.out.substr(0, 2000);
    if (!m.when.starts_with(std::to_string(kYear))) {
      return;
    }
    Counts& c = want_[m.dept];
    c.add("messages");
    c.add("signed", m.sign ? 1 : 0);
    c.add("encrypted", m.encrypt ? 1 : 0);
    c.add("decrypted", m.decrypt ? 1 : 0);
    c.add("verified", m.verification == "pass" ? 1 : 0);
    c.add("verify_failed", m.verification == "fail" ? 1 : 0);
    c.add("refused", m.exit_code == 20 || m.exit_code == 21 ? 1 : 0);
    if (!m.incident.empty()) {
      incident(m.when, m.dept, m.incident);
    }
  }

  // An inbound message signed (and optionally encrypted to `encrypt_to`) with openssl.
  static void signed_mail(const std::string& when, const std::string& file,
                          const std::string& signer, const std::string& from, const std::string& to,
                          const std::string& text, const std::string& encrypt_to = {}) {
    testsupport::write_file(p(file + ".txt"), text);
    std::vector<std::string> sign{"cms",
                                  "-sign",
                                  "-in",
                                  p(file + ".txt").string(),
                                  "-text",
                                  "-signer",
                                  pki(signer + ".crt").string(),
                                  "-inkey",
                                  pki(signer + ".key").string(),
                                  "-certfile",
                                  pki("inter.crt").string()};
    if (encrypt_to.empty()) {
      sign.insert(sign.end(), {"-from", from, "-to", to, "-subject", "Laporan " + file});
      openssl(when, sign, p(file).string());
      return;
    }
    openssl(when, sign, p(file + ".signed").string());
    openssl(when,
            {"cms", "-encrypt", "-in", p(file + ".signed").string(), "-aes256", "-from", from,
             "-to", to, "-subject", "Laporan " + file, pki(encrypt_to + ".crt").string()},
            p(file).string());
  }

  static void plain_mail(const std::string& file, const std::string& from, const std::string& to) {
    testsupport::write_file(p(file), "From: " + from + "\nTo: " + to + "\nSubject: Surat " + file +
                                         "\nMessage-ID: <" + file +
                                         "@example.gov>\n\n"
                                         "Yth. Bapak/Ibu,\nterlampir surat dinas.\n");
  }

  static void build_year();
  static void check_JsonNumbersMatchTheWorkload();
  static void check_CsvHasTheSameNumbers();
  static void check_HtmlHasTheSameNumbers();
  static void check_HtmlRendersInHeadlessChromium();

  static testsupport::TempDir* dir_;
  static std::map<std::string, Counts> want_;
  struct WantIncident {
    std::string date, kind, dept;
  };
  static std::vector<WantIncident> want_incidents_;
  static std::vector<Staff> staff_;
  static int queue_;
};
testsupport::TempDir* Year::dir_ = nullptr;
std::map<std::string, Counts> Year::want_;
std::vector<Year::WantIncident> Year::want_incidents_;
std::vector<Staff> Year::staff_;
int Year::queue_ = 0;

void Year::build_year() {
  const Staff alice{"Alice Wijaya", "alice@example.gov", kKominfo};
  const Staff bob{"Bob Santoso", "bob@example.gov", kKominfo};
  const Staff carol{"Carol Lestari", "carol@example.gov", kDinkes};
  const Staff frank{"Frank Hidayat", "frank@example.gov", kDinkes};
  const Staff gita{"Gita Pratiwi", "gita@example.gov", kDinkes};  // never gets a certificate
  staff_ = {alice, bob, carol, frank, gita};

  // The PKI of the year: every leaf valid 2024-12-01 .. 2026-12-01.
  const auto mk = at("2024-12-01 08:00:00",
                     {"bash", (fs::path(SMIME_SOURCE_DIR) / "tests/common/make_pki.sh").string(),
                      (*dir_ / "pki").string()});
  ASSERT_EQ(mk.exit_code, 0) << mk.out;
  testsupport::write_file(p("pass"), "test-pass\n", 0600);
  // Signing is required: an outbound message without a usable signing certificate is
  // refused (and recorded), encryption whenever every recipient has a certificate.
  testsupport::write_file(p("smime-milter.conf"),
                          "[keystore]\npath = \"" + p("keystore.db").string() +
                              "\"\nsecret_file = \"" + p("secret").string() +
                              "\"\n[audit]\ndatabase = \"" + trail() +
                              "\"\nhead_interval = 0\n[default]\nsign = \"required\"\n",
                          0644);

  // Before the year: the keystore, Alice and her certificate (counted as staff with a
  // certificate, not as imported in 2025).
  const std::string dec = "2024-12-10 09:00:00";
  ok(dec, {"init", "--create-secret"});
  ok(dec, {"trust", "add", pki("root.crt").string()});
  staff_add(dec, alice);
  import_cert(dec, alice, "alice.p12", false);  // brings the issuing CA's certificate
  import_crls(dec);

  // January: two more departments' staff and their certificates.
  const std::string jan = "2025-01-06 09:00:00";
  for (const auto& s : {bob, carol, gita}) {
    staff_add(jan, s);
  }
  import_cert(jan, bob, "bob.p12", false);
  import_cert(jan, carol, "carol.p12", false);

  plain_mail("m1.eml", alice.address, bob.address);
  process({"2025-02-03 10:00:00", "outbound", alice.address, bob.address, "alice", "m1.eml",
           kKominfo, true, true, false, "", "", 0});
  import_crls("2025-03-01 07:00:00");
  plain_mail("m2.eml", alice.address, "kontak@mitra.example");
  process({"2025-03-10 11:00:00", "outbound", alice.address, "kontak@mitra.example", "alice",
           "m2.eml", kKominfo, true, false, false, "", "", 0});
  plain_mail("m3.eml", carol.address, alice.address);
  process({"2025-04-15 13:30:00", "outbound", carol.address, alice.address, "carol", "m3.eml",
           kDinkes, true, true, false, "", "", 0});

  // May: Bob loses his key; his mail is refused until he has a new certificate.
  ok("2025-05-12 08:00:00", {"revoke", bob.address, "--reason", "keyCompromise"});
  revoked("2025-05-12 08:00:00", kKominfo, "keyCompromise");
  plain_mail("m4.eml", bob.address, alice.address);
  process({"2025-05-13 09:00:00", "outbound", bob.address, alice.address, "bob", "m4.eml", kKominfo,
           false, false, false, "", "revoked-certificate-use", 20});
  issue("2025-05-20 08:00:00", "bob2", bob.address, 730);
  import_cert("2025-05-20 09:00:00", bob, "bob2.p12", true);

  // Inbound from partners: signed, signed and encrypted, tampered, signer not the sender.
  import_crls("2025-06-01 07:00:00");
  signed_mail("2025-06-02 10:00:00", "m5.eml", "erin", "erin@partner.example", alice.address,
              "Laporan kerja sama bulan Mei.\n");
  process({"2025-06-02 10:05:00", "inbound", "erin@partner.example", alice.address, "", "m5.eml",
           kKominfo, false, false, false, "pass", "", 0});
  signed_mail("2025-06-20 10:00:00", "m6.eml", "erin", "erin@partner.example", alice.address,
              "Rahasia: rencana kerja sama.\n", "alice");
  process({"2025-06-20 10:05:00", "inbound", "erin@partner.example", alice.address, "", "m6.eml",
           kKominfo, false, false, true, "pass", "", 0});
  signed_mail("2025-07-07 10:00:00", "m7.eml", "erin", "erin@partner.example", carol.address,
              "Jadwal vaksinasi bulan Juli.\n");
  {
    std::string t = testsupport::read_file(p("m7.eml"));
    const auto at_word = t.find("Juli");
    ASSERT_NE(at_word, std::string::npos);
    t.replace(at_word, 4, "Juni");  // altered on the way: the signature no longer holds
    testsupport::write_file(p("m7.eml"), t);
  }
  process({"2025-07-07 10:05:00", "inbound", "erin@partner.example", carol.address, "", "m7.eml",
           kDinkes, false, false, false, "fail", "bad-signature", 0});
  signed_mail("2025-08-11 10:00:00", "m8.eml", "dave", "erin@partner.example", alice.address,
              "Mohon transfer dana.\n");
  process({"2025-08-11 10:05:00", "inbound", "erin@partner.example", alice.address, "", "m8.eml",
           kKominfo, false, false, false, "fail", "sender-mismatch", 0});

  // September: the CA revokes Carol's certificate (superseded); the CRL import records it.
  openssl("2025-09-01 06:00:00", {"ca", "-config", "inter.cnf", "-revoke",
                                  pki("carol.crt").string(), "-crl_reason", "superseded"});
  import_crls("2025-09-01 07:00:00");
  revoked("2025-09-01 07:00:00", kDinkes, "superseded");
  plain_mail("m9.eml", bob.address, "kontak@mitra.example");
  process({"2025-10-01 09:00:00", "outbound", bob.address, "kontak@mitra.example", "bob", "m9.eml",
           kKominfo, true, false, false, "", "", 0});

  // November: Frank joins with a short certificate (expires within 90 days of the
  // report date, 2026-01-01).
  staff_add("2025-11-20 09:00:00", frank);
  issue("2025-11-20 09:30:00", "frank", frank.address, 80);
  import_cert("2025-11-20 10:00:00", frank, "frank.p12", false);
  want_[kDinkes].add("expiring_90d");
  import_crls("2025-11-25 07:00:00");
  plain_mail("m10.eml", frank.address, gita.address);  // Gita has no certificate: sign only
  process({"2025-12-01 09:00:00", "outbound", frank.address, gita.address, "frank", "m10.eml",
           kDinkes, true, false, false, "", "", 0});

  // Year end: the operator publishes a signed chain head (the report checks it).
  ok("2025-12-31 23:00:00", {"audit", "head", "--audit-db", trail(), "--cert",
                             pki("sistem.crt").string(), "--key", pki("sistem.key").string()});

  // After the year: counted in the 2026 report, not in this one.
  plain_mail("m11.eml", alice.address, bob.address);
  process({"2026-01-15 09:00:00", "outbound", alice.address, bob.address, "alice", "m11.eml",
           kKominfo, true, true, false, "", "", 0});
  ok("2026-01-20 09:00:00",
     {"staff", "add", "Hadi Nugroho", "--department", kDinkes, "--address", "hadi@example.gov"});

  // Staff and certificates at the report date: who holds a valid one.
  for (const auto& [dept, with, without] :
       {std::tuple{kKominfo, 2, 0},    // Alice, Bob (renewed)
        std::tuple{kDinkes, 1, 2}}) {  // Frank; Carol (revoked), Gita (none)
    want_[dept].add("staff", with + without);
    want_[dept].add("staff_with_valid_cert", with);
    want_[dept].add("staff_without_valid_cert", without);
  }
}

const std::array<std::string, 15> kFields = {"staff",
                                             "staff_with_valid_cert",
                                             "staff_without_valid_cert",
                                             "messages",
                                             "signed",
                                             "encrypted",
                                             "verified",
                                             "verify_failed",
                                             "decrypted",
                                             "refused",
                                             "certs_imported",
                                             "certs_renewed",
                                             "certs_revoked",
                                             "expiring_90d",
                                             "incidents"};

Counts total() {
  Counts t;
  for (const auto& [dept, c] : Year::want_) {
    (void)dept;
    for (const auto& [k, v] : c.n) {
      t.add(k, v);
    }
    for (const auto& [k, v] : c.revoked_by_reason) {
      t.revoked_by_reason[k] += v;
    }
  }
  return t;
}

std::int64_t get(const Counts& c, const std::string& k) {
  const auto it = c.n.find(k);
  return it == c.n.end() ? 0 : it->second;
}

void Year::check_JsonNumbersMatchTheWorkload() {
  const auto r = ctl("2026-02-01 09:00:00", {"report", "--audit-db", trail(), "--year",
                                             std::to_string(kYear), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j["as_of"], "2026-01-01T00:00:00Z");
  EXPECT_TRUE(j["integrity"]["ok"]) << j["integrity"];
  EXPECT_EQ(j["integrity"]["heads_signed"], 1) << j["integrity"];
  ASSERT_EQ(j["departments"].size(), want_.size()) << j["departments"];
  for (const auto& d : j["departments"]) {
    const std::string name = d["department"];
    ASSERT_EQ(want_.count(name), 1U) << name;
    for (const auto& f : kFields) {
      EXPECT_EQ(d[f].get<std::int64_t>(), get(want_[name], f)) << name << " " << f;
    }
    EXPECT_EQ((d["revoked_by_reason"].get<std::map<std::string, std::int64_t>>()),
              want_[name].revoked_by_reason)
        << name;
  }
  const Counts t = total();
  for (const auto& f : kFields) {
    EXPECT_EQ(j["total"][f].get<std::int64_t>(), get(t, f)) << "total " << f;
  }
  EXPECT_EQ((j["total"]["revoked_by_reason"].get<std::map<std::string, std::int64_t>>()),
            t.revoked_by_reason);
  // Staff without a valid certificate are named.
  for (const auto& d : j["departments"]) {
    if (d["department"] == kDinkes) {
      EXPECT_EQ(d["staff_missing"], Json::parse(R"(["Carol Lestari","Gita Pratiwi"])"));
    }
  }
  // The incidents, in order, with their dates and departments.
  ASSERT_EQ(j["incidents"].size(), want_incidents_.size()) << j["incidents"].dump(1);
  for (std::size_t i = 0; i < want_incidents_.size(); ++i) {
    const auto& got = j["incidents"][i];
    EXPECT_EQ(got["time"].get<std::string>().substr(0, 10), want_incidents_[i].date) << got;
    EXPECT_EQ(got["kind"], want_incidents_[i].kind) << got;
    EXPECT_EQ(got["department"], want_incidents_[i].dept) << got;
  }
}

// CSV rows: department, then the 15 numbers in the report's column order.
void Year::check_CsvHasTheSameNumbers() {
  const auto r =
      ctl("2026-02-01 09:00:00", {"report", "--audit-db", trail(), "--year", std::to_string(kYear),
                                  "--format", "csv", "--lang", "en"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto& cols = kFields;  // the CSV's column order
  std::map<std::string, Counts> want = want_;
  want["Total"] = total();
  std::size_t rows = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) {
      f.push_back(cell);
    }
    if (f.size() != 16 || want.count(f[0]) == 0) {
      continue;
    }
    ++rows;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      EXPECT_EQ(f[i + 1], std::to_string(get(want[f[0]], cols[i]))) << f[0] << " " << cols[i];
    }
  }
  EXPECT_EQ(rows, want.size()) << r.out;
}

// The three tables of the HTML report (staff, usage, lifecycle), read back by header.
void Year::check_HtmlHasTheSameNumbers() {
  const auto html = p("report-en.html");
  const auto r =
      ctl("2026-02-01 09:00:00", {"report", "--audit-db", trail(), "--year", std::to_string(kYear),
                                  "--lang", "en", "-o", html.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string page = testsupport::read_file(html);
  const std::map<std::string, std::string> header_to_field = {
      {"Staff", "staff"},
      {"With valid certificate", "staff_with_valid_cert"},
      {"Without valid certificate", "staff_without_valid_cert"},
      {"Expiring within 90 days", "expiring_90d"},
      {"Messages", "messages"},
      {"Signed", "signed"},
      {"Encrypted", "encrypted"},
      {"Verified", "verified"},
      {"Verification failed", "verify_failed"},
      {"Decrypted", "decrypted"},
      {"Refused/deferred", "refused"},
      {"Newly imported", "certs_imported"},
      {"Renewed", "certs_renewed"},
      {"Revoked", "certs_revoked"}};
  std::map<std::string, Counts> want = want_;
  want["Total"] = total();
  const std::regex table_re("<table>(.*?)</table>");
  const std::regex th_re("<th>([^<]*)</th>");
  const std::regex tr_re("<tr(?: class=\"total\")?><td>([^<]*)</td>((?:<td>[0-9]+</td>)+)</tr>");
  const std::regex td_re("<td>([0-9]+)</td>");
  std::size_t checked = 0;
  std::set<std::string> fields_seen;
  for (auto t = std::sregex_iterator(page.begin(), page.end(), table_re);
       t != std::sregex_iterator(); ++t) {
    const std::string body = (*t)[1];
    std::vector<std::string> headers;
    for (auto h = std::sregex_iterator(body.begin(), body.end(), th_re);
         h != std::sregex_iterator(); ++h) {
      headers.push_back((*h)[1]);
    }
    if (headers.empty() || headers[0] != "Department") {
      continue;  // the incident list
    }
    std::size_t rows = 0;
    for (auto row = std::sregex_iterator(body.begin(), body.end(), tr_re);
         row != std::sregex_iterator(); ++row) {
      const std::string dept = (*row)[1];
      const std::string cells = (*row)[2];
      ASSERT_EQ(want.count(dept), 1U) << dept;
      std::size_t col = 1;
      for (auto c = std::sregex_iterator(cells.begin(), cells.end(), td_re);
           c != std::sregex_iterator(); ++c, ++col) {
        ASSERT_LT(col, headers.size());
        const std::string& field = header_to_field.at(headers[col]);
        fields_seen.insert(field);
        EXPECT_EQ((*c)[1], std::to_string(get(want[dept], field))) << dept << " " << field;
        ++checked;
      }
      ++rows;
    }
    EXPECT_EQ(rows, want.size()) << body;
  }
  EXPECT_EQ(fields_seen.size(), header_to_field.size());
  EXPECT_GE(checked, 3 * header_to_field.size());
  // One row per incident in the incident list.
  for (const auto& i : want_incidents_) {
    EXPECT_NE(page.find("<tr><td>" + i.date + "</td>"), std::string::npos) << i.date;
  }
  // Revocation reasons with their counts.
  for (const auto& [reason, n] : total().revoked_by_reason) {
    EXPECT_NE(page.find(reason + " " + std::to_string(n)), std::string::npos) << reason;
  }
}

// The Indonesian (default) HTML report renders in headless Chromium without console
// messages; the A4 screenshot is left in the build tree (tests/audit/report-sample.png).
void Year::check_HtmlRendersInHeadlessChromium() {
  const auto html = p("laporan-2025.html");
  const auto r = ctl("2026-02-01 09:00:00", {"report", "--audit-db", trail(), "--year",
                                             std::to_string(kYear), "-o", html.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(testsupport::read_file(html).find("<html lang=\"id\">"), std::string::npos);
  const fs::path png = fs::path(SMIME_BINARY_DIR) / "tests/audit/report-sample.png";
  fs::create_directories(png.parent_path());
  const auto shot =
      run({"bash", (fs::path(SMIME_SOURCE_DIR) / "tests/audit/render_report.sh").string(),
           html.string(), png.string()});
  ASSERT_EQ(shot.exit_code, 0) << shot.out;
  const std::string img = testsupport::read_file(png);
  ASSERT_GT(img.size(), 20U * 1024U) << "screenshot too small to hold the report";
  EXPECT_EQ(img.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR: width and height (big-endian) at bytes 16..23: the A4 window.
  const auto be32 = [&img](std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(img[at])) << 24U) |
           (static_cast<unsigned>(static_cast<unsigned char>(img[at + 1])) << 16U) |
           (static_cast<unsigned>(static_cast<unsigned char>(img[at + 2])) << 8U) |
           static_cast<unsigned>(static_cast<unsigned char>(img[at + 3]));
  };
  EXPECT_EQ(be32(16), 1240U);
  EXPECT_EQ(be32(20), 1754U);
}

// One workload (about 40 s of smimectl and openssl runs under faketime), four views of
// it: ctest would otherwise rebuild the year for each.
TEST_F(Year, ReportMatchesTheGeneratedYear) {
  {
    SCOPED_TRACE("json");
    check_JsonNumbersMatchTheWorkload();
  }
  {
    SCOPED_TRACE("csv");
    check_CsvHasTheSameNumbers();
  }
  {
    SCOPED_TRACE("html");
    check_HtmlHasTheSameNumbers();
  }
  {
    SCOPED_TRACE("chromium");
    check_HtmlRendersInHeadlessChromium();
  }
}

}  // namespace
#endif
