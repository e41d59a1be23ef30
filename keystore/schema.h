// The keystore's SQLite schema, as an ordered list of migrations keyed by
// PRAGMA user_version. Opening a database whose version is newer than the last
// migration we know is refused (an older binary must not write a newer layout).
// Thread-safety: call with exclusive use of the Db.
#pragma once

#include <cstdint>

#include "keystore/db.h"
#include "policy/result.h"

namespace keystore {

// Version written by the newest migration this binary knows.
std::int64_t schema_version_known();

// Applies every pending migration, each in its own transaction, and sets WAL,
// foreign_keys and the busy timeout. With `may_migrate` false (read-only users)
// a database that is not current is refused rather than changed.
policy::Status prepare_schema(Db& db, bool may_migrate);

}  // namespace keystore
