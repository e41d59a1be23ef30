// Small RAII wrapper over SQLite: one Db per connection, Stmt per prepared statement,
// Transaction for "every change in one transaction". Bound parameters only; SQL text
// is always a literal in our code, never built from input.
// Errors: SQLite failures map to Errc::kUnavailable (busy, locked, corrupt, not a
// database, I/O) or kConflict (constraint). Thread-safety: a Db and its Stmts belong
// to one thread at a time (the Keystore serialises access with a mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "policy/result.h"

namespace keystore {

struct SqliteClose {
  void operator()(sqlite3* db) const noexcept { ::sqlite3_close_v2(db); }
};
// Prepared statements a Db keeps for reuse, by SQL text: a Stmt going out of scope is
// reset (bindings cleared) and kept here instead of being finalized, so the next
// prepare() of the same literal SQL skips SQLite's parser (about 1.2 M instructions
// per message before, measured with callgrind through Postfix). At most a few idle
// statements per SQL text (a nested use of the same text prepares a second one).
class StmtCache {
 public:
  StmtCache() = default;
  StmtCache(const StmtCache&) = delete;
  StmtCache& operator=(const StmtCache&) = delete;
  ~StmtCache();
  // An idle statement for `sql`, or nullptr.
  sqlite3_stmt* take(std::string_view sql);
  // Resets `s` and keeps it (finalizes it when enough of its text are idle already).
  void give_back(sqlite3_stmt* s) noexcept;

 private:
  std::map<std::string, std::vector<sqlite3_stmt*>, std::less<>> idle_;
};

// Stmt's deleter: back to its Db's cache, or finalized when it has none.
struct StmtRelease {
  StmtCache* cache = nullptr;
  void operator()(sqlite3_stmt* s) const noexcept {
    if (cache != nullptr) {
      cache->give_back(s);
    } else {
      ::sqlite3_finalize(s);
    }
  }
};

// A parameter bound as BLOB by the variadic helpers (strings are bound as TEXT).
struct Blob {
  std::string_view bytes;
};

// Maps an SQLite result code to our error vocabulary with a detail naming `what`.
policy::Error sqlite_error(sqlite3* db, int rc, std::string_view what);

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, StmtCache* cache = nullptr)
      : db_(db), stmt_(stmt, StmtRelease{cache}) {}
  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int idx, std::string_view text);
  Stmt& bind(int idx, const char* text) { return bind(idx, std::string_view(text)); }
  Stmt& bind(int idx, std::int64_t v);
  Stmt& bind(int idx, int v) { return bind(idx, static_cast<std::int64_t>(v)); }
  Stmt& bind_blob(int idx, std::string_view bytes);
  Stmt& bind(int idx, Blob b) { return bind_blob(idx, b.bytes); }
  Stmt& bind_null(int idx);
  Stmt& bind(int idx, std::nullptr_t) { return bind_null(idx); }
  // Binds args to ?1, ?2, ... in order.
  template <class... A>
  Stmt& bind_all(const A&... args) {
    int idx = 0;
    (bind(++idx, args), ...);
    return *this;
  }
  // true: a row is available; false: done.
  policy::Result<bool> step();
  // Runs to completion (for INSERT/UPDATE/DELETE).
  policy::Status run();
  std::int64_t col_int(int idx) const;
  std::string col_text(int idx) const;
  std::string col_blob(int idx) const;
  bool col_null(int idx) const;

  // Calls on_row(const Stmt&) for every remaining row. on_row returns void, or a Status
  // whose failure stops the loop and is returned; a database error is returned as well.
  template <class F>
  policy::Status each_row(F&& on_row) {
    for (;;) {
      auto row = step();
      if (!row) {
        return std::move(row).error();
      }
      if (!*row) {
        return {};
      }
      if constexpr (std::is_void_v<std::invoke_result_t<F&, const Stmt&>>) {
        on_row(std::as_const(*this));
      } else if (auto s = on_row(std::as_const(*this)); !s) {
        return s;
      }
    }
  }

 private:
  sqlite3* db_;  // borrowed from the Db
  std::unique_ptr<sqlite3_stmt, StmtRelease> stmt_;
};

class Db {
 public:
  struct Options {
    bool create = false;  // create the file when missing
    bool read_only = false;
    int busy_timeout_ms = 2000;
  };
  static policy::Result<Db> open(const std::string& path, const Options& opts);

  policy::Result<Stmt> prepare(std::string_view sql);
  // prepare() with `args` bound to ?1, ?2, ...
  template <class... A>
  policy::Result<Stmt> query(std::string_view sql, const A&... args) {
    auto st = prepare(sql);
    if (st) {
      st->bind_all(args...);
    }
    return st;
  }
  // The statement positioned on its first row, or nullopt when there is none.
  template <class... A>
  policy::Result<std::optional<Stmt>> first_row(std::string_view sql, const A&... args) {
    auto st = query(sql, args...);
    if (!st) {
      return std::move(st).error();
    }
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    return *row ? std::optional<Stmt>(std::move(*st)) : std::nullopt;
  }
  // Every row of `sql`, each turned into a T by to_value(const Stmt&).
  template <class T, class F, class... A>
  policy::Result<std::vector<T>> rows(std::string_view sql, F&& to_value, const A&... args) {
    auto st = query(sql, args...);
    if (!st) {
      return std::move(st).error();
    }
    std::vector<T> out;
    if (auto s = st->each_row([&](const Stmt& r) { out.push_back(to_value(r)); }); !s) {
      return s.error();
    }
    return out;
  }
  // Runs a statement that returns no rows (INSERT, UPDATE, DELETE) to completion.
  template <class... A>
  policy::Status execute(std::string_view sql, const A&... args) {
    auto st = query(sql, args...);
    if (!st) {
      return std::move(st).error();
    }
    return st->run();
  }
  // Executes literal SQL (schema, pragmas); never pass input here.
  policy::Status exec(const char* sql);
  // Single integer from a literal query (e.g. "PRAGMA user_version").
  policy::Result<std::int64_t> query_int(const char* sql);
  std::int64_t last_insert_rowid() const { return ::sqlite3_last_insert_rowid(db_.get()); }
  int changes() const { return ::sqlite3_changes(db_.get()); }
  sqlite3* raw() const { return db_.get(); }

 private:
  explicit Db(sqlite3* db) : db_(db), stmts_(std::make_unique<StmtCache>()) {}
  std::unique_ptr<sqlite3, SqliteClose> db_;
  // After db_: destroyed (its statements finalized) before the connection closes. A
  // Stmt must not outlive its Db (it borrows the connection as well).
  std::unique_ptr<StmtCache> stmts_;
};

// BEGIN IMMEDIATE on construction (via begin()); rolls back unless commit() succeeded.
class Transaction {
 public:
  static policy::Result<Transaction> begin(Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  policy::Status commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace keystore
