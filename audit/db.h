// Minimal RAII over the SQLite C API for the audit trail (house style: Db/Stmt owners,
// bound parameters only, never string-built SQL). Errors come back as policy::Result
// with Errc::kUnavailable and SQLite's message in the detail.
// Thread-safety: one Db per thread (the trail's writer thread owns its own).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "policy/result.h"

namespace audit {

struct DbClose {
  void operator()(sqlite3* db) const noexcept { ::sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const noexcept { ::sqlite3_finalize(s); }
};

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  void bind(int idx, std::int64_t v);
  void bind(int idx, std::string_view v);
  void bind_null(int idx);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  void reset();
  std::int64_t int_col(int col) const;
  std::string text_col(int col) const;
  bool is_null(int col) const;
  sqlite3_stmt* get() const { return s_.get(); }

 private:
  std::unique_ptr<sqlite3_stmt, StmtFinalize> s_;
};

class Db {
 public:
  // flags: SQLITE_OPEN_* (NOMUTEX is added: each Db belongs to one thread).
  static policy::Result<Db> open(const std::string& path, int flags);
  policy::Result<Stmt> prepare(std::string_view sql);
  // Runs statements without parameters (schema, pragmas, BEGIN/COMMIT).
  policy::Status exec(const char* sql);
  // "what: <sqlite message>" as a kUnavailable error.
  policy::Error error(std::string_view what) const;
  sqlite3* get() const { return db_.get(); }

 private:
  std::unique_ptr<sqlite3, DbClose> db_;
};

}  // namespace audit
