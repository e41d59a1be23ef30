#include "cli/ks_audit.h"

#include <cstdio>
#include <utility>

#include "cli/exit_codes.h"
#include "policy/config.h"

namespace cli::ks {
using policy::Errc;
using policy::unexpected;

void add_audit_options(CLI::App* cmd, KsOptions& o) {
  cmd->add_option("--audit-db", o.audit_db,
                  "audit trail that records this change (overrides audit.database)");
  cmd->add_flag("--no-audit", o.no_audit,
                "make the change without recording it in the audit trail (not for production)");
}

policy::Result<AdminAudit> AdminAudit::open(const Globals& g, const KsOptions& o) {
  AdminAudit a;
  a.actor_ = actor_name(o);
  if (o.no_audit) {
    return a;
  }
  std::string path = o.audit_db;
  bool allow_unsafe = o.allow_unsafe;
  if (path.empty()) {
    auto cfg = policy::load_config(g.config_path);
    if (!cfg) {
      return unexpected(Errc::kConfig, "no audit trail for this change: " +
                                           std::string(policy::errc_name(cfg.error().code())) +
                                           ": " + cfg.error().detail() +
                                           " (name the trail with --audit-db FILE, or --no-audit)");
    }
    path = (*cfg)->audit.database;
  }
  audit::Options opts;
  opts.allow_unsafe_permissions = allow_unsafe;
  opts.head_sink = [](std::string_view) {};  // smimectl never publishes heads
  auto trail = audit::Trail::open(path, std::move(opts));
  if (!trail) {
    return policy::Error(trail.error().code(),
                         "audit trail " + path + ": " + trail.error().detail() +
                             "; refusing the change (--no-audit to override)");
  }
  a.trail_ = std::move(*trail);
  a.path_ = path;
  return a;
}

int AdminAudit::record(audit::AdminRecord r) const {
  if (!trail_) {
    return kExitOk;
  }
  r.detail += (r.detail.empty() ? "by=" : " by=") + actor_;
  auto seq = trail_->append_admin(r);
  if (!seq) {
    return fail(seq.error(), "audit trail (the change was made but is not recorded)");
  }
  return kExitOk;
}

int run_change(const Globals& g, const KsOptions& o, bool with_secret,
               const std::function<int(const AdminAudit&, keystore::Keystore&)>& change,
               const std::string& context) {
  auto trail = AdminAudit::open(g, o);
  if (!trail) {
    return fail(trail.error());
  }
  auto ks = open_keystore(g, o, with_secret);
  if (!ks) {
    return fail(ks.error(), context);
  }
  return change(*trail, **ks);
}

audit::AdminRecord cert_admin_record(std::string action, const keystore::ImportOutcome& out,
                                     std::string owner, std::string department) {
  audit::AdminRecord r;
  r.action = std::move(action);
  r.subject = owner.empty() ? out.subject : std::move(owner);
  r.department = std::move(department);
  r.fingerprint = out.fingerprint;
  r.serial_hex = out.serial;
  r.not_before = out.not_before;
  r.not_after = out.not_after;
  if (r.subject != out.subject) {
    r.detail = "certificate " + out.subject;
  }
  return r;
}

}  // namespace cli::ks
