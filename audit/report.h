// The yearly supervision and evaluation report (Perwal Kota Bekasi 84/2017 Art. 24),
// computed only from what the audit trail holds: message decisions for usage, admin
// records for staff and the certificate lifecycle (see record.h for the vocabulary),
// incidents from the incident flag, and the trail's own integrity check.
// Rendered as JSON, CSV, or one self-contained printable HTML file (inline SVG charts),
// in Indonesian (default) or English. Pure functions apart from build_report's reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/trail.h"
#include "policy/result.h"

namespace audit {

struct DepartmentStats {
  std::string name;  // "" = records without a department
  // Staff (addresses from staff-add records) at the report date.
  std::int64_t staff = 0, staff_with_valid_cert = 0, staff_without_valid_cert = 0;
  std::vector<std::string> staff_missing;  // addresses without a valid certificate
  // Message decisions during the year.
  std::int64_t messages = 0, signed_ = 0, encrypted = 0, verified = 0, verify_failed = 0,
               decrypted = 0,
               refused = 0;  // refused = verdict reject or tempfail
  // Certificate lifecycle during the year.
  std::int64_t certs_imported = 0, certs_renewed = 0, certs_revoked = 0;
  std::map<std::string, std::int64_t> revoked_by_reason;
  std::int64_t expiring_90d = 0;  // valid at the report date, expiring within 90 days
  std::int64_t incidents = 0;
};

struct IncidentRow {
  std::uint64_t seq = 0;
  std::int64_t time = 0;
  IncidentKind kind = IncidentKind::kNone;
  std::string department, who, detail;
};

struct YearReport {
  int year = 0;
  std::int64_t period_start = 0, period_end = 0;  // [start, end)
  std::int64_t as_of = 0;                         // report date: min(period_end, generation time)
  std::int64_t generated_at = 0;
  std::vector<DepartmentStats> departments;  // sorted by name
  DepartmentStats total;
  std::vector<IncidentRow> incidents;
  std::map<std::string, std::int64_t> incidents_by_kind;
  VerifyReport integrity;
};

policy::Result<YearReport> build_report(Trail& trail, int year, std::int64_t now);

enum class Lang { kId, kEn };
std::string render_json(const YearReport& r);
std::string render_csv(const YearReport& r, Lang lang);
std::string render_html(const YearReport& r, Lang lang);

// What to report about an incident kind and to whom (Art. 25), in `lang`.
std::string incident_guidance(IncidentKind k, Lang lang);
// Human label of an incident kind in `lang`.
std::string incident_label(IncidentKind k, Lang lang);

}  // namespace audit
