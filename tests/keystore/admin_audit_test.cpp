// smimectl admin actions land in the audit trail (run as the built binary, trail read
// back with audit::Trail); admin commands refuse to run without a trail unless
// --no-audit; smimectl staff and history.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/trail.h"
#include "cli/exit_codes.h"
#include "tests/common/test_support.h"
#include "tests/keystore/ctl_fixture.h"

namespace {
using testsupport::pki;
using testsupport::run;
using Json = nlohmann::json;
namespace fs = std::filesystem;

class AdminAuditTest : public keystore::test::CtlTest {
 protected:
  // Imports the test PKI's `name`; must succeed.
  void import_ok(const std::string& name, std::vector<std::string> extra = {}) {
    const auto r = import(pki(name).string(), std::move(extra));
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.out;
  }
  std::vector<audit::Entry> admin_records() {
    auto t = audit::Trail::open_read_only(trail());
    EXPECT_TRUE(t.has_value()) << t.error().message();
    if (!t) {
      return {};
    }
    auto v = (*t)->verify();
    EXPECT_TRUE(v.has_value() && v->ok());
    audit::Filter f;
    f.type = audit::RecordType::kAdmin;
    auto s = (*t)->search(f);
    EXPECT_TRUE(s.has_value());
    return s ? *s : std::vector<audit::Entry>{};
  }
  static std::vector<audit::Entry> with_action(const std::vector<audit::Entry>& all,
                                               const std::string& action) {
    std::vector<audit::Entry> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                 [&](const audit::Entry& e) { return e.action == action; });
    return out;
  }
};

TEST_F(AdminAuditTest, EveryAdminActionIsRecorded) {
  setup_keystore();
  import_ok("alice.p12", {"--owner", "Alice Wibowo", "--department", "Dinas Kominfo"});
  import_ok("alice.p12");  // unchanged: no second record
  import_ok("revoked.chain.pem");
  ok({"revoke", "alice@example.gov", "--reason", "keyCompromise", "--by", "operator7"});
  ok({"crl", "import", pki("inter.crl").string()});
  ok({"staff", "add", "Budi Santoso", "--employee-no", "1985", "--department", "Dinas Kesehatan",
      "--address", "budi@example.gov"});
  ok({"staff", "update", "Budi Santoso", "--status", "inactive"});
  ok({"staff", "remove", "Budi Santoso"});
  auto r = ctl({"trust", "list", "--json"});
  const std::string root_fp = Json::parse(r.out)[0]["fingerprint"];
  ok({"trust", "remove", root_fp});

  const auto all = admin_records();
  EXPECT_EQ(with_action(all, "init").size(), 1U);
  const auto trust_add = with_action(all, "trust-add");
  ASSERT_EQ(trust_add.size(), 1U);
  EXPECT_EQ(trust_add[0].fingerprint, root_fp);
  ASSERT_EQ(with_action(all, "trust-remove").size(), 1U);

  const auto imports = with_action(all, "cert-import");
  ASSERT_EQ(imports.size(), 2U);
  EXPECT_EQ(imports[0].subject, "Alice Wibowo");
  EXPECT_EQ(imports[0].department, "Dinas Kominfo");
  EXPECT_EQ(imports[0].fingerprint.size(), 64U);
  EXPECT_FALSE(imports[0].serial_hex.empty());
  EXPECT_LT(imports[0].not_before, imports[0].not_after);
  ASSERT_EQ(with_action(all, "key-import").size(), 1U);  // alice.p12 only (the PEM has no key)
  const auto revokes = with_action(all, "revoke");
  ASSERT_EQ(revokes.size(), 2U);  // manual revoke + the held cert the CRL newly revoked
  EXPECT_EQ(revokes[0].fingerprint, imports[0].fingerprint);
  EXPECT_EQ(revokes[0].reason, "keyCompromise");
  EXPECT_EQ(revokes[0].incident, audit::IncidentKind::kKeyCompromise);
  EXPECT_NE(revokes[0].detail.find("by=operator7"), std::string::npos);
  EXPECT_EQ(revokes[1].fingerprint, imports[1].fingerprint);
  EXPECT_EQ(revokes[1].serial_hex, imports[1].serial_hex);
  EXPECT_EQ(with_action(all, "crl-import").size(), 1U);
  const auto staff_add = with_action(all, "staff-add");
  ASSERT_EQ(staff_add.size(), 1U);
  EXPECT_EQ(staff_add[0].subject, "Budi Santoso");
  EXPECT_EQ(staff_add[0].department, "Dinas Kesehatan");
  ASSERT_EQ(with_action(all, "staff-update").size(), 1U);
  EXPECT_NE(with_action(all, "staff-update")[0].detail.find("status=inactive"), std::string::npos);
  EXPECT_EQ(with_action(all, "staff-remove").size(), 1U);
}

TEST_F(AdminAuditTest, RefusedWithoutATrailUnlessNoAudit) {
  // No configuration and no --audit-db: refused before the keystore is touched.
  auto r = run({SMIMECTL_PATH, "-c", (dir_ / "missing.conf").string(), "--db", db(), "init"});
  EXPECT_EQ(r.exit_code, cli::kExitConfig) << r.out;
  EXPECT_NE(r.out.find("--no-audit"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(db()));
  // A trail that cannot be created (its directory is missing): unavailable, no change.
  r = ctl({"init", "--audit-db", (dir_ / "nodir" / "audit.db").string()});
  EXPECT_EQ(r.exit_code, cli::kExitUnavailable) << r.out;
  EXPECT_FALSE(fs::exists(db()));
  // Explicit --no-audit: allowed, nothing recorded.
  r = run(
      {SMIMECTL_PATH, "-c", (dir_ / "missing.conf").string(), "--db", db(), "init", "--no-audit"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::exists(trail()));
  r = run({SMIMECTL_PATH, "-c", (dir_ / "missing.conf").string(), "--db", db(), "trust", "add",
           pki("root.crt").string()});
  EXPECT_EQ(r.exit_code, cli::kExitConfig);
  r = ctl({"trust", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Json::parse(r.out).empty());
  // --audit-db overrides the configuration.
  const std::string other = (dir_ / "other-audit.db").string();
  r = ctl({"trust", "add", pki("root.crt").string(), "--audit-db", other});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(other));
  EXPECT_FALSE(fs::exists(trail()));
}

TEST_F(AdminAuditTest, StaffCommandsAndHistory) {
  setup_keystore();
  ok({"staff", "add", "Budi Santoso", "--employee-no", "1985", "--department", "Dinas Kesehatan",
      "--address", "Budi@Example.gov"});
  auto r = ctl({"staff", "add", "Budi Santoso"});
  EXPECT_EQ(r.exit_code, cli::kExitConflict) << r.out;
  r = ctl({"staff", "add", "X", "--address", "not-an-address"});
  EXPECT_EQ(r.exit_code, cli::kExitUsage) << r.out;
  ok({"staff", "update", "Budi Santoso", "--department", "Dinas Kominfo", "--add-address",
      "budi.s@example.gov", "--remove-address", "budi@example.gov"});
  r = ctl({"staff", "show", "Budi Santoso", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json budi = Json::parse(r.out);
  EXPECT_EQ(budi["employee_no"], "1985");
  EXPECT_EQ(budi["department"], "Dinas Kominfo");
  EXPECT_EQ(budi["addresses"], Json::array({"budi.s@example.gov"}));
  r = ctl({"staff", "update", "Nobody", "--status", "inactive"});
  EXPECT_EQ(r.exit_code, cli::kExitNotFound) << r.out;
  r = ctl({"staff", "update", "Budi Santoso", "--status", "retired"});
  EXPECT_EQ(r.exit_code, cli::kExitUsage) << r.out;

  import_ok("alice.p12", {"--owner", "Alice Wibowo", "--department", "Dinas Kominfo"});
  r = ctl({"staff", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json list = Json::parse(r.out);
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0]["name"], "Alice Wibowo");
  EXPECT_EQ(list[0]["certificates"].size(), 1U);
  // Alice owns a certificate: removing her is refused; Budi can go.
  r = ctl({"staff", "remove", "Alice Wibowo"});
  EXPECT_EQ(r.exit_code, cli::kExitConflict) << r.out;
  ok({"staff", "remove", "Budi Santoso"});
  r = ctl({"staff", "show", "Budi Santoso"});
  EXPECT_EQ(r.exit_code, cli::kExitNotFound);

  ok({"revoke", "alice@example.gov", "--reason", "affiliationChanged"});
  r = ctl({"history", "--address", "alice@example.gov", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> events;
  for (const auto& h : Json::parse(r.out)) {
    events.push_back(h["event"]);
  }
  EXPECT_NE(std::find(events.begin(), events.end(), "imported"), events.end()) << r.out;
  EXPECT_NE(std::find(events.begin(), events.end(), "revoked"), events.end()) << r.out;
  r = ctl({"history", "--staff", "Budi Santoso", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Json budi_hist = Json::parse(r.out);
  ASSERT_EQ(budi_hist.size(), 3U);
  EXPECT_EQ(budi_hist[0]["event"], "staff-added");
  EXPECT_EQ(budi_hist[2]["event"], "staff-removed");
  r = ctl({"history", "--address", "nobody@example.gov"});
  EXPECT_EQ(r.exit_code, cli::kExitNotFound);
}

}  // namespace
