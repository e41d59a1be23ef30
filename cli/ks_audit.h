// Admin actions into the audit trail: every smimectl command that changes the keystore
// (init, trust add/remove, import, revoke, crl import, staff add/update/remove) appends
// an audit::AdminRecord. The regulation requires the trail, so the trail is opened
// BEFORE the change and a command whose trail cannot be opened is refused (fail
// closed) unless --no-audit is given explicitly.
// Thread-safety: single-threaded CLI code.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "audit/record.h"
#include "audit/trail.h"
#include "cli/ks_common.h"
#include "keystore/keystore.h"
#include "policy/result.h"

namespace cli::ks {

// --audit-db FILE and --no-audit.
void add_audit_options(CLI::App* cmd, KsOptions& o);

class AdminAudit {
 public:
  // --audit-db wins, else the configuration's audit.database. Errors: kConfig when no
  // trail is named (no configuration and no --audit-db), kUnavailable / kPermission
  // when it cannot be opened. With --no-audit: a disabled recorder.
  static policy::Result<AdminAudit> open(const Globals& g, const KsOptions& o);

  // Appends `r` (detail gets " by=ACTOR"); on failure prints the error and returns its
  // exit code, else kExitOk. A no-op when disabled.
  int record(audit::AdminRecord r) const;
  bool enabled() const { return trail_ != nullptr; }
  const std::string& path() const { return path_; }  // "" when disabled

 private:
  std::unique_ptr<audit::Trail> trail_;
  std::string path_;
  std::string actor_;
};

// The scaffold of every command that changes the keystore: opens the audit trail first
// (fail closed), then the keystore (`with_secret` as for open_keystore), and runs
// `change`, returning its exit code. When the trail or the keystore cannot be opened,
// prints why (the keystore error under `context`) and returns that exit code.
int run_change(const Globals& g, const KsOptions& o, bool with_secret,
               const std::function<int(const AdminAudit&, keystore::Keystore&)>& change,
               const std::string& context = {});

// A record for a certificate action (cert-import, key-import, trust-add, ...).
audit::AdminRecord cert_admin_record(std::string action, const keystore::ImportOutcome& out,
                                     std::string owner = {}, std::string department = {});

}  // namespace cli::ks
