// A seeded year (2025) of activity with known totals, for the report tests.
#pragma once

#include "audit/export.h"
#include "tests/audit/audit_fixture.h"

namespace audittest {

inline std::int64_t at(const char* iso_date) {
  return *audit::parse_time(iso_date);
}

inline void admin(audit::Trail& t, const char* date, std::string action, std::string subject,
                  std::string dept, std::string fp = {}, const char* nb = nullptr,
                  const char* na = nullptr, std::string reason = {}) {
  audit::AdminRecord a;
  a.time = at(date);
  a.action = std::move(action);
  a.os_user = "persandian";
  a.subject = std::move(subject);
  a.department = std::move(dept);
  a.fingerprint = std::move(fp);
  a.not_before = nb != nullptr ? at(nb) : 0;
  a.not_after = na != nullptr ? at(na) : 0;
  a.reason = std::move(reason);
  ASSERT_TRUE(t.append_admin(a));
}

inline void message(audit::Trail& t, const char* date, std::string dept, std::string direction,
                    std::vector<std::string> actions, std::string verification = {},
                    std::string reason = {}, std::string verdict = "accept") {
  auto d = decision(0, std::move(direction));
  d.time = at(date);
  d.department = std::move(dept);
  d.actions = std::move(actions);
  d.verification = std::move(verification);
  d.reason = std::move(reason);
  d.verdict = std::move(verdict);
  ASSERT_TRUE(t.append_decision(d));
}

inline constexpr const char* kDk = "Dinas Komunikasi";
inline constexpr const char* kBk = "Badan Keuangan";

// Expected 2025 report (as of 2026-01-01):
//   Badan Keuangan:   staff 2 (1 with, 1 without: dan), messages 6, verified 4, failed 2,
//                     decrypted 1, imported 1, renewed 1, revoked 1 (keyCompromise), incidents 3
//   Dinas Komunikasi: staff 2 (2 with), messages 6, signed 5, encrypted 2, refused 1,
//                     imported 1, renewed 1, revoked 1 (superseded), expiring 1, incidents 1
inline void seed_year(audit::Trail& t) {
  admin(t, "2024-01-10", "staff-add", "old@example.gov", kDk);
  admin(t, "2024-01-10", "staff-add", "alice@example.gov", kDk);
  admin(t, "2024-06-01", "cert-import", "alice@example.gov", kDk, "A1", "2024-06-01", "2026-06-01");
  message(t, "2024-12-31", kDk, "outbound", {"sign"});  // previous year
  admin(t, "2025-01-02", "staff-add", "bob@example.gov", kDk);
  admin(t, "2025-01-02", "staff-add", "carol@example.gov", kBk);
  admin(t, "2025-01-02", "staff-add", "dan@example.gov", kBk);
  admin(t, "2025-01-03", "staff-remove", "old@example.gov", kDk);
  admin(t, "2025-02-01", "cert-import", "bob@example.gov", kDk, "B1", "2025-02-01", "2026-02-15");
  admin(t, "2025-03-01", "cert-import", "carol@example.gov", kBk, "C1", "2025-03-01", "2027-03-01");
  admin(t, "2025-05-01", "revoke", "carol@example.gov", "", "C1", nullptr, nullptr,
        "keyCompromise");
  admin(t, "2025-05-02", "cert-import", "carol@example.gov", kBk, "C2", "2025-05-02", "2027-05-02");
  admin(t, "2025-07-01", "cert-import", "alice@example.gov", kDk, "A2", "2025-07-01", "2027-07-01");
  admin(t, "2025-08-01", "revoke", "alice@example.gov", "", "A1", nullptr, nullptr, "superseded");
  for (const char* d : {"2025-02-10", "2025-03-10", "2025-04-10"}) {
    message(t, d, kDk, "outbound", {"sign"});
  }
  message(t, "2025-05-10", kDk, "outbound", {"sign", "encrypt"});
  message(t, "2025-06-10", kDk, "outbound", {"sign", "encrypt"});
  message(t, "2025-09-09", kDk, "outbound", {}, "", "revoked", "tempfail");
  for (const char* d : {"2025-02-11", "2025-03-11", "2025-04-11"}) {
    message(t, d, kBk, "inbound", {"verify"}, "pass");
  }
  message(t, "2025-10-01", kBk, "inbound", {"decrypt", "verify"}, "pass");
  message(t, "2025-10-02", kBk, "inbound", {"verify"}, "fail", "bad-signature", "quarantine");
  message(t, "2025-11-02", kBk, "inbound", {"verify"}, "fail", "sender-mismatch");
  message(t, "2026-01-05", kDk, "outbound", {"sign"});  // next year
  admin(t, "2026-02-01", "cert-import", "dan@example.gov", kBk, "D1", "2026-02-01", "2028-02-01");
}

}  // namespace audittest
