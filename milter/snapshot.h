// Building the immutable per-message Snapshot from the policy configuration, and the
// holder the daemon swaps on SIGHUP (readers copy the shared_ptr under a mutex, so a
// running message keeps the snapshot it started with).
// Thread-safety: SnapshotHolder is safe for concurrent get()/set().
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "keystore/keystore.h"
#include "milter/pipeline.h"
#include "policy/config.h"

namespace milter {

struct SnapshotOverrides {
  std::string spool_dir;    // empty: $TMPDIR or /tmp
  std::string authserv_id;  // empty: config, else the host name
};

// Settings from the configuration (limits, authserv-id) plus the S/MIME pipeline on
// `keystore` (null keystore: every message tempfails until a reload opens it).
// `recorder` is the audit trail decisions are written to (null: none). `harvester` is
// the writable keystore handle verified inbound signers are harvested through (null:
// none; trust.harvest_certificates = false also turns it off).
std::shared_ptr<const Snapshot> make_snapshot(
    policy::ConfigPtr config, const SnapshotOverrides& overrides,
    std::shared_ptr<keystore::Keystore> keystore,
    std::shared_ptr<audit::Recorder> recorder = nullptr,
    std::shared_ptr<keystore::Keystore> harvester = nullptr);

// Opens the configured audit trail (audit.database) for appending; when it cannot be
// opened, a recorder that refuses every record, so audit.on_audit_failure applies.
std::shared_ptr<audit::Recorder> open_audit_trail(const policy::Config& config);

// Opens the configured keystore read-only with its key-encryption secret.
policy::Result<std::shared_ptr<keystore::Keystore>> open_keystore(const policy::Config& config);

// Opens the configured keystore writable for harvesting, WITHOUT the key-encryption
// secret (this handle can store correspondents' certificates but never unwrap a key).
// The daemon opens it before dropping privileges, like the read-only one: SQLite keeps
// the database, its -wal and -shm files open for the handle's life, so the daemon user
// needs no write access as long as the handle lives; a handle (re)opened after the drop
// (a reload that moved the keystore or turned harvesting on) needs the database file and
// its directory writable by daemon.user.
policy::Result<std::shared_ptr<keystore::Keystore>> open_harvest_keystore(
    const policy::Config& config);

class SnapshotHolder {
 public:
  std::shared_ptr<const Snapshot> get() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void set(std::shared_ptr<const Snapshot> s) {
    const std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
};

}  // namespace milter
