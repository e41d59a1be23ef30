// keystore::Db's statement cache: a statement going out of scope is reset and reused by
// the next prepare() of the same SQL (no re-parse), keeps no bindings or read position,
// and statements in use at the same time are distinct.
#include "keystore/db.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace keystore {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::open((dir_.path() / "t.db").string(), Db::Options{.create = true});
    ASSERT_TRUE(db) << db.error().detail();
    db_.emplace(std::move(*db));
    ASSERT_TRUE(db_->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"));
    for (int k = 1; k <= 3; ++k) {
      ASSERT_TRUE(db_->execute("INSERT INTO t(k, v) VALUES (?1, ?2)", k, "v" + std::to_string(k)));
    }
  }
  // The values of `sql` (one text column).
  std::vector<std::string> values(const char* sql, int arg) {
    auto r = db_->rows<std::string>(
        sql, [](const Stmt& s) { return s.col_text(0); }, arg);
    EXPECT_TRUE(r) << r.error().detail();
    return r ? *r : std::vector<std::string>{};
  }
  testsupport::TempDir dir_;
  std::optional<Db> db_;
};

// Statements the connection holds (in use or idle in the cache): grows with each
// prepare that is not served from the cache.
int open_statements(sqlite3* db) {
  int n = 0;
  for (sqlite3_stmt* s = ::sqlite3_next_stmt(db, nullptr); s != nullptr;
       s = ::sqlite3_next_stmt(db, s)) {
    ++n;
  }
  return n;
}

TEST_F(DbTest, SameSqlReusesTheStatementWithoutItsBindingsOrPosition) {
  const char* sql = "SELECT v FROM t WHERE k >= ?1 ORDER BY k";
  const int open_before = open_statements(db_->raw());  // SetUp's INSERT, kept
  {
    auto st = db_->query(sql, 2);
    ASSERT_TRUE(st);
    auto row = st->step();  // left on its first row: reset when it goes back
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(st->col_text(0), "v2");
  }
  const int open_after_first = open_statements(db_->raw());
  EXPECT_EQ(open_after_first, open_before + 1) << "kept for reuse, not finalized";
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(values(sql, 1), (std::vector<std::string>{"v1", "v2", "v3"}));
    EXPECT_EQ(values(sql, 3), (std::vector<std::string>{"v3"}));
  }
  EXPECT_EQ(open_statements(db_->raw()), open_after_first) << "no statement prepared again";
  {
    auto st = db_->prepare(sql);
    ASSERT_TRUE(st);
    // Bindings cleared: ?1 is NULL, "k >= NULL" matches nothing.
    auto row = st->step();
    ASSERT_TRUE(row);
    EXPECT_FALSE(*row);
  }
  EXPECT_EQ(open_statements(db_->raw()), open_after_first);
}

TEST_F(DbTest, StatementsInUseTogetherAreDistinctAndAWriteSeesNoStaleRead) {
  const char* sql = "SELECT v FROM t WHERE k = ?1";
  auto a = db_->query(sql, 1);
  auto b = db_->query(sql, 2);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->step() && b->step());
  EXPECT_EQ(a->col_text(0), "v1");
  EXPECT_EQ(b->col_text(0), "v2");
  a = db_->prepare("SELECT 1");  // the first one goes back to the cache here
  ASSERT_TRUE(a);
  ASSERT_TRUE(db_->execute("UPDATE t SET v = 'changed' WHERE k = 1"));
  EXPECT_EQ(values(sql, 1), (std::vector<std::string>{"changed"}));
}

TEST_F(DbTest, ABadStatementIsAnErrorAndLeavesTheCacheUsable) {
  auto bad = db_->prepare("SELECT nope FROM missing");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail().find("no such table"), std::string::npos) << bad.error().detail();
  EXPECT_EQ(values("SELECT v FROM t WHERE k = ?1", 2), (std::vector<std::string>{"v2"}));
}

}  // namespace
}  // namespace keystore
