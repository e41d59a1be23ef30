// Staff members (name, employee number, department, addresses, status) and the
// lifecycle history of certificates and staff. Staff events are recorded in the history
// under the subject "staff:NAME".
#include <utility>

#include "keystore/keystore.h"
#include "keystore/util.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;

namespace {

std::string staff_subject(std::string_view name) {
  return "staff:" + std::string(name);
}

policy::Status check_email(const std::string& e) {
  const auto at = e.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == e.size() ||
      e.find_first_of(" \t\r\n,;<>") != std::string::npos) {
    return unexpected(Errc::kInvalidArgument, "'" + e + "' is not an e-mail address");
  }
  return {};
}

policy::Status check_status(const std::string& s) {
  if (s != "active" && s != "inactive") {
    return unexpected(Errc::kInvalidArgument,
                      "status '" + s + "' is neither 'active' nor 'inactive'");
  }
  return {};
}

std::string first_column(const Stmt& st) {
  return st.col_text(0);
}

std::string describe(const StaffRecord& s) {
  std::string d = "employee_no=" + s.employee_no + " department=" + s.department +
                  " status=" + s.status + " addresses=";
  for (std::size_t i = 0; i < s.emails.size(); ++i) {
    d += (i == 0 ? "" : ",") + s.emails[i];
  }
  return d;
}

}  // namespace

policy::Result<std::int64_t> Keystore::set_staff_fields_locked(std::string_view name,
                                                               const StaffChange& change) {
  auto up = db_.prepare(
      "UPDATE staff SET employee_no=CASE WHEN ?2 THEN NULLIF(?3,'') ELSE employee_no END, "
      "department=CASE WHEN ?4 THEN NULLIF(?5,'') ELSE department END, "
      "status=COALESCE(?6, status) WHERE name=?1 RETURNING id");
  if (!up) {
    return std::move(up).error();
  }
  up->bind(1, name).bind(2, change.employee_no ? 1 : 0).bind(3, change.employee_no.value_or(""));
  up->bind(4, change.department ? 1 : 0).bind(5, change.department.value_or(""));
  if (change.status) {
    up->bind(6, *change.status);
  } else {
    up->bind_null(6);
  }
  auto row = up->step();
  if (!row || !*row) {
    return row ? unexpected(Errc::kNotFound, "no staff member named '" + std::string(name) + "'")
               : std::move(row).error();
  }
  const std::int64_t id = up->col_int(0);
  if (auto done = up->step(); !done) {  // runs the statement to completion
    return std::move(done).error();
  }
  return id;
}

policy::Result<StaffRecord> Keystore::staff_locked(std::string_view name) {
  auto row = db_.first_row(
      "SELECT id, name, COALESCE(employee_no,''), COALESCE(department,''), status FROM staff "
      "WHERE name=?1",
      name);
  if (!row) {
    return std::move(row).error();
  }
  if (!*row) {
    return unexpected(Errc::kNotFound, "no staff member named '" + std::string(name) + "'");
  }
  const Stmt& st = **row;
  const std::int64_t id = st.col_int(0);
  StaffRecord out{st.col_text(1), st.col_text(2), st.col_text(3), st.col_text(4), {}, {}};
  const std::pair<const char*, std::vector<std::string>*> lists[] = {
      {"SELECT email FROM staff_emails WHERE staff_id=?1 ORDER BY email", &out.emails},
      {"SELECT fingerprint FROM certs WHERE owner_id=?1 ORDER BY not_after", &out.fingerprints}};
  for (const auto& [sql, dst] : lists) {
    auto values = db_.rows<std::string>(sql, first_column, id);
    if (!values) {
      return std::move(values).error();
    }
    *dst = std::move(*values);
  }
  return out;
}

policy::Status Keystore::staff_emails_locked(std::int64_t id, const std::vector<std::string>& add,
                                             const std::vector<std::string>& remove) {
  for (const auto& raw : add) {
    const std::string e = detail::lower(raw);
    if (auto s = check_email(e); !s) {
      return s;
    }
    if (auto s =
            db_.execute("INSERT OR IGNORE INTO staff_emails(staff_id, email) VALUES(?1,?2)", id, e);
        !s) {
      return s;
    }
  }
  for (const auto& raw : remove) {
    if (auto s = db_.execute("DELETE FROM staff_emails WHERE staff_id=?1 AND email=?2", id,
                             detail::lower(raw));
        !s) {
      return s;
    }
  }
  return {};
}

policy::Result<StaffRecord> Keystore::add_staff(const StaffRecord& staff, std::string_view actor) {
  if (staff.name.empty()) {
    return unexpected(Errc::kInvalidArgument, "a staff member needs a name");
  }
  if (auto s = check_status(staff.status); !s) {
    return s.error();
  }
  const std::lock_guard lock(mu_);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  if (auto held = staff_locked(staff.name); held || held.error().code() != Errc::kNotFound) {
    return held ? unexpected(Errc::kConflict, "staff member '" + staff.name + "' already exists")
                : std::move(held).error();
  }
  if (auto s = db_.execute("INSERT INTO staff(name, employee_no, department, status) "
                           "VALUES(?1, NULLIF(?2,''), NULLIF(?3,''), ?4)",
                           staff.name, staff.employee_no, staff.department, staff.status);
      !s) {
    return s.error();
  }
  if (auto s = staff_emails_locked(db_.last_insert_rowid(), staff.emails, {}); !s) {
    return s.error();
  }
  auto out = staff_locked(staff.name);
  if (!out) {
    return out;
  }
  if (auto s = history_locked(staff_subject(staff.name), "staff-added", describe(*out), actor);
      !s) {
    return s.error();
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  return out;
}

policy::Result<StaffRecord> Keystore::update_staff(std::string_view name, const StaffChange& change,
                                                   std::string_view actor) {
  if (change.status) {
    if (auto s = check_status(*change.status); !s) {
      return s.error();
    }
  }
  const std::lock_guard lock(mu_);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  if (auto held = staff_locked(name); !held) {
    return held;
  }
  auto id = set_staff_fields_locked(name, change);
  if (!id) {
    return std::move(id).error();
  }
  if (auto s = staff_emails_locked(*id, change.add_emails, change.remove_emails); !s) {
    return s.error();
  }
  auto out = staff_locked(name);
  if (!out) {
    return out;
  }
  if (auto s = history_locked(staff_subject(name), "staff-updated", describe(*out), actor); !s) {
    return s.error();
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  return out;
}

policy::Status Keystore::remove_staff(std::string_view name, std::string_view actor) {
  const std::lock_guard lock(mu_);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  auto held = staff_locked(name);
  if (!held) {
    return held.error();
  }
  if (!held->fingerprints.empty()) {
    return unexpected(Errc::kConflict,
                      "staff member '" + std::string(name) + "' still owns " +
                          std::to_string(held->fingerprints.size()) +
                          " certificate(s); set the status to inactive (and revoke) instead");
  }
  if (auto s = db_.execute("DELETE FROM staff WHERE name=?1", name); !s) {
    return s;
  }
  if (auto s = history_locked(staff_subject(name), "staff-removed", describe(*held), actor); !s) {
    return s;
  }
  return tx->commit();
}

policy::Result<std::vector<StaffRecord>> Keystore::list_staff() {
  const std::lock_guard lock(mu_);
  auto names = db_.rows<std::string>("SELECT name FROM staff ORDER BY name", first_column);
  if (!names) {
    return std::move(names).error();
  }
  std::vector<StaffRecord> out;
  for (const auto& n : *names) {
    auto s = staff_locked(n);
    if (!s) {
      return std::move(s).error();
    }
    out.push_back(std::move(*s));
  }
  return out;
}

policy::Result<StaffRecord> Keystore::find_staff(std::string_view name) {
  const std::lock_guard lock(mu_);
  return staff_locked(name);
}

policy::Result<std::vector<HistoryEntry>> Keystore::history(std::string_view query) {
  const std::string q = detail::lower(query);
  const std::lock_guard lock(mu_);
  // ?1: the query; the subject matches a fingerprint, a staff name, or (for an address)
  // the certificates and staff members holding it.
  return db_.rows<HistoryEntry>(
      "SELECT at, fingerprint, event, detail, actor FROM history WHERE ?1='' "
      "OR fingerprint=lower(?1) OR fingerprint='staff:'||?2 "
      "OR fingerprint IN (SELECT c.fingerprint FROM certs c JOIN cert_emails e "
      "  ON e.cert_id=c.id WHERE e.email=lower(?1)) "
      "OR fingerprint IN (SELECT 'staff:'||s.name FROM staff s JOIN staff_emails e "
      "  ON e.staff_id=s.id WHERE e.email=lower(?1)) "
      "OR fingerprint IN (SELECT c.fingerprint FROM certs c JOIN staff s ON c.owner_id=s.id "
      "  WHERE s.name=?2) "
      "ORDER BY at, id",
      [](const Stmt& r) {
        return HistoryEntry{r.col_int(0), r.col_text(1), r.col_text(2), r.col_text(3),
                            r.col_text(4)};
      },
      q, query);
}

}  // namespace keystore
