#include "audit/report.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

namespace audit {
namespace {

constexpr std::int64_t kDay = 86400;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::int64_t year_start(int year) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mday = 1;
  return static_cast<std::int64_t>(::timegm(&tm));
}

struct CertState {
  std::string owner, department;
  std::int64_t not_before = 0, not_after = 0;
  bool revoked = false;
};

// Replays the trail up to the end of the period.
class Builder {
 public:
  Builder(YearReport& r) : r_(r) {}  // NOLINT(google-explicit-constructor)

  void add(const Entry& e) {
    if (e.type == RecordType::kAdmin) {
      admin(e);
    } else if (in_year(e.time)) {
      decision(e);
    }
    if (e.is_incident() && in_year(e.time)) {
      // A revocation record names only the certificate: its owner and department are
      // the certificate's (so the incident is counted where the revocation is).
      const auto cert = e.type == RecordType::kAdmin && !e.fingerprint.empty()
                            ? certs_.find(e.fingerprint)
                            : certs_.end();
      std::string who = e.type == RecordType::kAdmin ? e.subject : e.sender;
      std::string dept = e.department;
      if (cert != certs_.end()) {
        who = who.empty() ? cert->second.owner : who;
        dept = dept.empty() ? cert->second.department : dept;
      }
      dept = dept.empty() ? staff_dept(who) : dept;
      dept_stats(dept).incidents++;
      r_.incidents.push_back(
          {e.seq, e.time, e.incident, dept, who, e.detail.empty() ? e.reason : e.detail});
      r_.incidents_by_kind[std::string(incident_name(e.incident))]++;
    }
  }

  void finish() {
    for (const auto& [addr, dept] : staff_) {
      auto& d = dept_stats(dept);
      d.staff++;
      const bool valid = std::any_of(certs_.begin(), certs_.end(), [&](const auto& kv) {
        return kv.second.owner == addr && valid_at(kv.second);
      });
      if (valid) {
        d.staff_with_valid_cert++;
      } else {
        d.staff_without_valid_cert++;
        d.staff_missing.push_back(staff_names_[addr]);
      }
    }
    for (const auto& [fp, c] : certs_) {
      if (valid_at(c) && c.not_after < r_.as_of + 90 * kDay) {
        dept_stats(c.department.empty() ? staff_dept(c.owner) : c.department).expiring_90d++;
      }
    }
    for (auto& [name, d] : depts_) {
      d.name = name;
      add_into(r_.total, d);
      r_.departments.push_back(d);
    }
  }

 private:
  bool in_year(std::int64_t t) const { return t >= r_.period_start && t < r_.period_end; }
  bool valid_at(const CertState& c) const {
    return !c.revoked && c.not_before <= r_.as_of && r_.as_of < c.not_after;
  }
  DepartmentStats& dept_stats(const std::string& name) { return depts_[name]; }
  std::string staff_dept(const std::string& addr) const {
    const auto it = staff_.find(lower(addr));
    return it == staff_.end() ? std::string{} : it->second;
  }

  void decision(const Entry& e) {
    auto& d = dept_stats(e.department);
    d.messages++;
    d.signed_ += e.has_action("sign") ? 1 : 0;
    d.encrypted += e.has_action("encrypt") ? 1 : 0;
    d.decrypted += e.has_action("decrypt") ? 1 : 0;
    d.verified += e.verification == "pass" ? 1 : 0;
    d.verify_failed +=
        (e.verification == "fail" || e.verification == "permerror" || e.verification == "policy")
            ? 1
            : 0;
    d.refused += (e.verdict == "reject" || e.verdict == "tempfail") ? 1 : 0;
  }

  void admin(const Entry& e) {
    if (e.verdict != "ok" && !e.verdict.empty()) {
      return;  // failed admin actions changed nothing
    }
    const std::string owner = lower(e.subject);
    const bool before_as_of = e.time < r_.as_of;
    if ((e.action == "staff-add" || e.action == "staff-update") && before_as_of) {
      staff_[owner] = e.department;
      staff_names_[owner] = e.subject;  // as last written
    } else if (e.action == "staff-remove" && before_as_of) {
      staff_.erase(owner);
    } else if (e.action == "cert-import") {
      const std::string dept = e.department.empty() ? staff_dept(owner) : e.department;
      if (in_year(e.time)) {
        auto& d = dept_stats(dept);
        (had_cert_.count(owner) != 0 ? d.certs_renewed : d.certs_imported)++;
      }
      had_cert_.insert(owner);
      if (before_as_of) {
        certs_[e.fingerprint] = {owner, dept, e.not_before, e.not_after, false};
      }
    } else if (e.action == "revoke") {
      auto it = certs_.find(e.fingerprint);
      std::string dept = e.department;
      if (it != certs_.end()) {
        dept = dept.empty() ? it->second.department : dept;
        it->second.revoked = it->second.revoked || before_as_of;
      }
      if (in_year(e.time)) {
        auto& d = dept_stats(dept.empty() ? staff_dept(owner) : dept);
        d.certs_revoked++;
        d.revoked_by_reason[e.reason.empty() ? "unspecified" : e.reason]++;
      }
    }
  }

  static void add_into(DepartmentStats& t, const DepartmentStats& d) {
    t.staff += d.staff;
    t.staff_with_valid_cert += d.staff_with_valid_cert;
    t.staff_without_valid_cert += d.staff_without_valid_cert;
    t.messages += d.messages;
    t.signed_ += d.signed_;
    t.encrypted += d.encrypted;
    t.verified += d.verified;
    t.verify_failed += d.verify_failed;
    t.decrypted += d.decrypted;
    t.refused += d.refused;
    t.certs_imported += d.certs_imported;
    t.certs_renewed += d.certs_renewed;
    t.certs_revoked += d.certs_revoked;
    for (const auto& [k, v] : d.revoked_by_reason) {
      t.revoked_by_reason[k] += v;
    }
    t.expiring_90d += d.expiring_90d;
    t.incidents += d.incidents;
  }

  YearReport& r_;
  std::map<std::string, DepartmentStats> depts_;
  std::map<std::string, std::string> staff_;        // address -> department
  std::map<std::string, std::string> staff_names_;  // address -> spelling in the trail
  std::map<std::string, CertState> certs_;          // fingerprint -> state
  std::set<std::string> had_cert_;
};

}  // namespace

policy::Result<YearReport> build_report(Trail& trail, int year, std::int64_t now) {
  if (year < 1970 || year > 9999) {
    return policy::unexpected(policy::Errc::kInvalidArgument,
                              "year out of range: " + std::to_string(year));
  }
  YearReport r;
  r.year = year;
  r.period_start = year_start(year);
  r.period_end = year_start(year + 1);
  r.generated_at = now;
  r.as_of = std::min(r.period_end, now);
  auto integrity = trail.verify();
  if (!integrity) {
    return integrity.error();
  }
  r.integrity = *integrity;
  Builder b(r);
  Filter f;
  f.until = r.period_end;
  auto s = trail.scan(f, [&b](const Entry& e) {
    b.add(e);
    return true;
  });
  if (!s) {
    return s.error();
  }
  b.finish();
  return r;
}

}  // namespace audit
