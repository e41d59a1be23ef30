#include "keystore/db.h"

#include <string>

#include <climits>

namespace keystore {
using policy::Errc;
using policy::unexpected;

policy::Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? ::sqlite3_errmsg(db) : ::sqlite3_errstr(rc);
  switch (primary) {
    case SQLITE_CONSTRAINT:
      return unexpected(Errc::kConflict, msg);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return unexpected(Errc::kUnavailable, msg + " (not a keystore database or corrupt)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return unexpected(Errc::kUnavailable, msg + " (database locked)");
    case SQLITE_CANTOPEN:
      return unexpected(Errc::kUnavailable, msg + " (cannot open database file)");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return unexpected(Errc::kPermission, msg);
    default:
      return unexpected(Errc::kUnavailable, msg);
  }
}

namespace {
int as_int(std::size_t n) {
  return n < static_cast<std::size_t>(INT_MAX) ? static_cast<int>(n) : INT_MAX;
}
}  // namespace

Stmt& Stmt::bind(int idx, std::string_view text) {
  ::sqlite3_bind_text(stmt_.get(), idx, text.data(), as_int(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind(int idx, std::int64_t v) {
  ::sqlite3_bind_int64(stmt_.get(), idx, v);
  return *this;
}
Stmt& Stmt::bind_blob(int idx, std::string_view bytes) {
  ::sqlite3_bind_blob(stmt_.get(), idx, bytes.data(), as_int(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int idx) {
  ::sqlite3_bind_null(stmt_.get(), idx);
  return *this;
}

policy::Result<bool> Stmt::step() {
  const int rc = ::sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return sqlite_error(db_, rc, "database query failed");
}

policy::Status Stmt::run() {
  return each_row([](const Stmt&) {});
}

std::int64_t Stmt::col_int(int idx) const {
  return ::sqlite3_column_int64(stmt_.get(), idx);
}
std::string Stmt::col_text(int idx) const {
  const auto* p = ::sqlite3_column_text(stmt_.get(), idx);
  const int n = ::sqlite3_column_bytes(stmt_.get(), idx);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}
std::string Stmt::col_blob(int idx) const {
  const void* p = ::sqlite3_column_blob(stmt_.get(), idx);
  const int n = ::sqlite3_column_bytes(stmt_.get(), idx);
  return p == nullptr ? std::string()
                      : std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}
bool Stmt::col_null(int idx) const {
  return ::sqlite3_column_type(stmt_.get(), idx) == SQLITE_NULL;
}

policy::Result<Db> Db::open(const std::string& path, const Options& opts) {
  int flags = SQLITE_OPEN_FULLMUTEX;
  if (opts.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (opts.create) {
      flags |= SQLITE_OPEN_CREATE;
    }
  }
  sqlite3* raw = nullptr;
  const int rc = ::sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) {
    return sqlite_error(raw, rc, "cannot open keystore " + path);
  }
  ::sqlite3_busy_timeout(raw, opts.busy_timeout_ms);
  ::sqlite3_extended_result_codes(raw, 1);
  return db;
}

StmtCache::~StmtCache() {
  for (auto& [sql, stmts] : idle_) {
    for (sqlite3_stmt* s : stmts) {
      ::sqlite3_finalize(s);
    }
  }
}

sqlite3_stmt* StmtCache::take(std::string_view sql) {
  const auto it = idle_.find(sql);
  if (it == idle_.end() || it->second.empty()) {
    return nullptr;
  }
  sqlite3_stmt* s = it->second.back();
  it->second.pop_back();
  return s;
}

void StmtCache::give_back(sqlite3_stmt* s) noexcept {
  if (s == nullptr) {
    return;
  }
  constexpr std::size_t kIdlePerText = 4;
  ::sqlite3_reset(s);  // ends its read; an error it returns was reported by step()
  ::sqlite3_clear_bindings(s);
  try {
    const char* text = ::sqlite3_sql(s);
    auto& stmts = idle_[std::string(text != nullptr ? text : "")];
    if (text != nullptr && stmts.size() < kIdlePerText) {
      stmts.push_back(s);
      return;
    }
  } catch (...) {  // no memory to keep it: finalize instead
  }
  ::sqlite3_finalize(s);
}

policy::Result<Stmt> Db::prepare(std::string_view sql) {
  if (sqlite3_stmt* cached = stmts_->take(sql); cached != nullptr) {
    return Stmt(db_.get(), cached, stmts_.get());
  }
  sqlite3_stmt* s = nullptr;
  const int rc = ::sqlite3_prepare_v3(db_.get(), sql.data(), as_int(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  Stmt stmt(db_.get(), s, s != nullptr ? stmts_.get() : nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(db_.get(), rc, "cannot prepare query");
  }
  return stmt;
}

policy::Status Db::exec(const char* sql) {
  const int rc = ::sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(db_.get(), rc, "database statement failed");
  }
  return {};
}

policy::Result<std::int64_t> Db::query_int(const char* sql) {
  auto row = first_row(sql);
  if (!row) {
    return std::move(row).error();
  }
  return *row ? (*row)->col_int(0) : 0;
}

policy::Result<Transaction> Transaction::begin(Db& db) {
  if (auto s = db.exec("BEGIN IMMEDIATE"); !s) {
    return s.error();
  }
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    (void)db_->exec("ROLLBACK");
  }
}

policy::Status Transaction::commit() {
  auto s = db_->exec("COMMIT");
  if (s) {
    db_ = nullptr;
  }
  return s;
}

}  // namespace keystore
