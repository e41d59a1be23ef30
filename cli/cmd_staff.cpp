// smimectl staff add|update|remove|list|show and smimectl history: the staff directory
// and the lifecycle history of certificates and staff. Changes are recorded in the
// audit trail (ks_audit.h; staff-add, staff-update, staff-remove).
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/ks_audit.h"
#include "cli/ks_common.h"
#include "cli/registry.h"

namespace cli::ks {
namespace {
using Json = nlohmann::json;

Json staff_json(const keystore::StaffRecord& s) {
  return {{"name", s.name},     {"employee_no", s.employee_no}, {"department", s.department},
          {"status", s.status}, {"addresses", s.emails},        {"certificates", s.fingerprints}};
}

void print_staff(const Globals& g, const keystore::StaffRecord& s) {
  if (g.json) {
    std::printf("%s\n", staff_json(s).dump(2).c_str());
    return;
  }
  std::printf("name:         %s\nemployee no:  %s\ndepartment:   %s\nstatus:       %s\n",
              s.name.c_str(), s.employee_no.c_str(), s.department.c_str(), s.status.c_str());
  for (const auto& e : s.emails) {
    std::printf("address:      %s\n", e.c_str());
  }
  for (const auto& f : s.fingerprints) {
    std::printf("certificate:  %s\n", f.c_str());
  }
}

audit::AdminRecord staff_record(std::string action, const keystore::StaffRecord& s) {
  audit::AdminRecord r;
  r.action = std::move(action);
  r.subject = s.name;
  r.department = s.department;
  r.detail = "employee_no=" + s.employee_no + " status=" + s.status + " addresses=";
  for (std::size_t i = 0; i < s.emails.size(); ++i) {
    r.detail += (i == 0 ? "" : ",") + s.emails[i];
  }
  return r;
}

// The end of staff add/update: print the member as the change left them and record it.
int report_staff(const Globals& g, const AdminAudit& trail,
                 const policy::Result<keystore::StaffRecord>& r, const std::string& name,
                 std::string action) {
  if (!r) {
    return fail(r.error(), name);
  }
  print_staff(g, *r);
  return trail.record(staff_record(std::move(action), *r));
}

void add_staff_add(CLI::App* staff, Globals& g, int& rc) {
  auto* cmd = staff->add_subcommand("add", "add a staff member");
  auto o = std::make_shared<KsOptions>();
  auto s = std::make_shared<keystore::StaffRecord>();
  cmd->add_option("name", s->name, "full name (unique)")->required();
  cmd->add_option("--employee-no", s->employee_no, "employee number (NIP)");
  cmd->add_option("--department", s->department, "department (Perangkat Daerah)");
  cmd->add_option("--address", s->emails, "e-mail address (repeatable)");
  cmd->add_option("--status", s->status, "active or inactive")->capture_default_str();
  add_common_options(cmd, *o, g);
  add_audit_options(cmd, *o);
  cmd->callback([&g, &rc, o, s] {
    rc = run_change(g, *o, false, [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
      return report_staff(g, trail, ks.add_staff(*s, actor_name(*o)), s->name, "staff-add");
    });
  });
}

void add_staff_update(CLI::App* staff, Globals& g, int& rc) {
  auto* cmd = staff->add_subcommand("update", "change a staff member's fields");
  auto o = std::make_shared<KsOptions>();
  auto name = std::make_shared<std::string>();
  auto c = std::make_shared<keystore::StaffChange>();
  auto v = std::make_shared<keystore::StaffRecord>();  // option targets
  cmd->add_option("name", *name, "full name")->required();
  auto* emp = cmd->add_option("--employee-no", v->employee_no, "new employee number");
  auto* dep = cmd->add_option("--department", v->department, "new department");
  auto* st = cmd->add_option("--status", v->status, "active or inactive");
  cmd->add_option("--add-address", c->add_emails, "add an e-mail address (repeatable)");
  cmd->add_option("--remove-address", c->remove_emails, "remove an e-mail address (repeatable)");
  add_common_options(cmd, *o, g);
  add_audit_options(cmd, *o);
  cmd->callback([&g, &rc, o, name, c, v, emp, dep, st] {
    if (emp->count() > 0) {
      c->employee_no = v->employee_no;
    }
    if (dep->count() > 0) {
      c->department = v->department;
    }
    if (st->count() > 0) {
      c->status = v->status;
    }
    rc = run_change(g, *o, false, [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
      return report_staff(g, trail, ks.update_staff(*name, *c, actor_name(*o)), *name,
                          "staff-update");
    });
  });
}

void add_staff_remove(CLI::App* staff, Globals& g, int& rc) {
  auto* cmd = staff->add_subcommand("remove", "remove a staff member who owns no certificate");
  auto o = std::make_shared<KsOptions>();
  auto name = std::make_shared<std::string>();
  cmd->add_option("name", *name, "full name")->required();
  add_common_options(cmd, *o, g);
  add_audit_options(cmd, *o);
  cmd->callback([&g, &rc, o, name] {
    rc = run_change(g, *o, false, [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
      auto held = ks.find_staff(*name);
      auto r = held ? ks.remove_staff(*name, actor_name(*o)) : policy::Status(held.error());
      if (!r) {
        return fail(r.error(), *name);
      }
      std::printf("removed %s\n", name->c_str());
      return trail.record(staff_record("staff-remove", *held));
    });
  });
}

void add_staff_read(CLI::App* staff, Globals& g, int& rc) {
  auto o = std::make_shared<KsOptions>();
  auto* list = staff->add_subcommand("list", "list staff members");
  add_common_options(list, *o, g);
  list->callback([&g, &rc, o] {
    auto ks = open_keystore(g, *o, false);
    auto r =
        ks ? (*ks)->list_staff() : policy::Result<std::vector<keystore::StaffRecord>>(ks.error());
    if (!r) {
      rc = fail(r.error());
      return;
    }
    Json out = Json::array();
    for (const auto& s : *r) {
      out.push_back(staff_json(s));
      if (!g.json) {
        std::printf("%-30s %-20s %-30s %-8s %zu cert(s)\n", s.name.c_str(), s.employee_no.c_str(),
                    s.department.c_str(), s.status.c_str(), s.fingerprints.size());
      }
    }
    if (g.json) {
      std::printf("%s\n", out.dump(2).c_str());
    }
    rc = kExitOk;
  });
  auto* show = staff->add_subcommand("show", "show one staff member");
  auto name = std::make_shared<std::string>();
  show->add_option("name", *name, "full name")->required();
  add_common_options(show, *o, g);
  show->callback([&g, &rc, o, name] {
    auto ks = open_keystore(g, *o, false);
    auto r = ks ? (*ks)->find_staff(*name) : policy::Result<keystore::StaffRecord>(ks.error());
    if (!r) {
      rc = fail(r.error(), *name);
      return;
    }
    print_staff(g, *r);
    rc = kExitOk;
  });
}

void add_history(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand("history", "lifecycle history of certificates and staff");
  auto o = std::make_shared<KsOptions>();
  auto cert = std::make_shared<std::string>();
  auto address = std::make_shared<std::string>();
  auto staff = std::make_shared<std::string>();
  auto* c = cmd->add_option("--cert", *cert, "SHA-256 fingerprint");
  auto* a = cmd->add_option("--address", *address, "e-mail address")->excludes(c);
  cmd->add_option("--staff", *staff, "staff member's name")->excludes(c)->excludes(a);
  add_common_options(cmd, *o, g);
  cmd->callback([&g, &rc, o, cert, address, staff] {
    const std::string q = !cert->empty() ? *cert : !address->empty() ? *address : *staff;
    auto ks = open_keystore(g, *o, false);
    auto r =
        ks ? (*ks)->history(q) : policy::Result<std::vector<keystore::HistoryEntry>>(ks.error());
    if (!r) {
      rc = fail(r.error(), q);
      return;
    }
    Json out = Json::array();
    for (const auto& h : *r) {
      out.push_back({{"at", h.at},
                     {"subject", h.subject},
                     {"event", h.event},
                     {"detail", h.detail},
                     {"actor", h.actor}});
      if (!g.json) {
        std::printf("%s  %-14s %s  %s  (by %s)\n", utc_date(h.at).c_str(), h.event.c_str(),
                    h.subject.c_str(), h.detail.c_str(), h.actor.c_str());
      }
    }
    if (g.json) {
      std::printf("%s\n", out.dump(2).c_str());
    }
    rc = (q.empty() || !r->empty()) ? kExitOk : exit_code_for(policy::Errc::kNotFound);
    if (rc != kExitOk) {
      std::fprintf(stderr, "smimectl: %s: not-found: no history\n", q.c_str());
    }
  });
}

}  // namespace
}  // namespace cli::ks

namespace {
const bool kReg = cli::register_group([](CLI::App& app, cli::Globals& g, int& rc) {
  auto* staff =
      app.add_subcommand("staff", "staff members (name, employee no., department, addresses)");
  staff->require_subcommand(1);
  cli::ks::add_staff_add(staff, g, rc);
  cli::ks::add_staff_update(staff, g, rc);
  cli::ks::add_staff_remove(staff, g, rc);
  cli::ks::add_staff_read(staff, g, rc);
  cli::ks::add_history(app, g, rc);
});
}  // namespace
