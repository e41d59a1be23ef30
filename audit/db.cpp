#include "audit/db.h"

#include <climits>

namespace audit {

void Stmt::bind(int idx, std::int64_t v) {
  ::sqlite3_bind_int64(s_.get(), idx, v);
}

void Stmt::bind(int idx, std::string_view v) {
  // Audit fields are bounded by their producers; SQLITE_TRANSIENT copies the bytes.
  // An empty view may have a null data(): SQLite would bind NULL, not ''.
  ::sqlite3_bind_text64(s_.get(), idx, v.data() != nullptr ? v.data() : "", v.size(),
                        SQLITE_TRANSIENT, SQLITE_UTF8);
}

void Stmt::bind_null(int idx) {
  ::sqlite3_bind_null(s_.get(), idx);
}

int Stmt::step() {
  return ::sqlite3_step(s_.get());
}

void Stmt::reset() {
  ::sqlite3_reset(s_.get());
  ::sqlite3_clear_bindings(s_.get());
}

std::int64_t Stmt::int_col(int col) const {
  return ::sqlite3_column_int64(s_.get(), col);
}

std::string Stmt::text_col(int col) const {
  const auto* p = ::sqlite3_column_text(s_.get(), col);
  const int n = ::sqlite3_column_bytes(s_.get(), col);
  if (p == nullptr || n <= 0) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

bool Stmt::is_null(int col) const {
  return ::sqlite3_column_type(s_.get(), col) == SQLITE_NULL;
}

policy::Result<Db> Db::open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = ::sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db;
  db.db_.reset(raw);  // sqlite3_open_v2 allocates a handle even on failure
  if (rc != SQLITE_OK) {
    return db.error("cannot open audit trail " + path);
  }
  ::sqlite3_extended_result_codes(raw, 1);
  return db;
}

policy::Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sql.size() > static_cast<size_t>(INT_MAX)) {
    return policy::unexpected(policy::Errc::kInternal, "SQL statement too long");
  }
  const int rc =
      ::sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  Stmt s(raw);
  if (rc != SQLITE_OK) {
    return error("cannot prepare statement");
  }
  return s;
}

policy::Status Db::exec(const char* sql) {
  if (::sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error(std::string("statement failed (") + sql + ")");
  }
  return {};
}

policy::Error Db::error(std::string_view what) const {
  const char* msg = db_ ? ::sqlite3_errmsg(db_.get()) : "out of memory";
  return policy::unexpected(policy::Errc::kUnavailable, std::string(what) + ": " + msg);
}

}  // namespace audit
