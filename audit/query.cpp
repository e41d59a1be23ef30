// Trail members for reading: filtered scans in seq order (search, export, report).
#include "audit/trail.h"

namespace audit {
namespace {

std::string scan_sql() {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < kColumns.size(); ++i) {
    sql += (i != 0 ? "," : "") + std::string(kColumns[i]);
  }
  // Every filter is a bound parameter that disables itself when empty / zero.
  sql += R"sql( FROM records WHERE
    (?1 = '' OR lower(sender) = lower(?1)) AND
    (?2 = '' OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(recipients) THEN recipients ELSE '[]' END)
                        WHERE lower(value) = lower(?2))) AND
    (?3 = 0 OR time >= ?3) AND (?4 = 0 OR time < ?4) AND
    (?5 = '' OR direction = ?5) AND (?6 = '' OR verdict = ?6) AND
    (?7 = '' OR type = ?7) AND (?8 = 0 OR incident <> '')
    ORDER BY seq LIMIT ?9)sql";
  return sql;
}

}  // namespace

policy::Status Trail::scan(const Filter& f, const std::function<bool(const Entry&)>& fn) {
  const std::lock_guard lk(reader_mu_);
  auto q = reader_.prepare(scan_sql());
  if (!q) {
    return q.error();
  }
  q->bind(1, f.sender);
  q->bind(2, f.recipient);
  q->bind(3, f.since);
  q->bind(4, f.until);
  q->bind(5, f.direction);
  q->bind(6, f.verdict);
  q->bind(7, f.type ? record_type_name(*f.type) : std::string_view{});
  q->bind(8, static_cast<std::int64_t>(f.incidents_only ? 1 : 0));
  q->bind(9, f.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(f.limit));
  std::vector<std::string> values(kColumns.size());
  int rc = 0;
  while ((rc = q->step()) == SQLITE_ROW) {
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] = q->text_col(static_cast<int>(i));
    }
    Entry e;
    if (!from_column_values(values, e)) {
      return policy::unexpected(
          policy::Errc::kMalformedInput,
          "audit record " + values[0] + " has a malformed list column (run audit verify)");
    }
    if (!fn(e)) {
      return {};
    }
  }
  if (rc != SQLITE_DONE) {
    return reader_.error("cannot read the audit records");
  }
  return {};
}

policy::Result<std::vector<Entry>> Trail::search(const Filter& f) {
  std::vector<Entry> out;
  auto s = scan(f, [&out](const Entry& e) {
    out.push_back(e);
    return true;
  });
  if (!s) {
    return s.error();
  }
  return out;
}

}  // namespace audit
