#include "audit/trail.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace audit {
namespace {

using policy::Errc;
using policy::unexpected;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('format', 'smime-milter-audit');
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT NULL, incident TEXT NOT NULL,
  queue_id TEXT, message_id TEXT, direction TEXT, sender TEXT, recipients TEXT, auth_user TEXT,
  client_addr TEXT, department TEXT, rule TEXT, actions TEXT, certificates TEXT, algorithms TEXT,
  verification TEXT, reason TEXT, verdict TEXT, os_user TEXT, action TEXT, subject TEXT,
  fingerprint TEXT, serial TEXT, not_before INTEGER, not_after INTEGER, detail TEXT,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE TABLE IF NOT EXISTS heads (
  seq INTEGER NOT NULL, hash TEXT NOT NULL, time INTEGER NOT NULL, signature BLOB, signer TEXT);
PRAGMA user_version = 1;
)sql";

std::string insert_sql() {
  std::string cols;
  std::string params;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    cols += (i != 0 ? "," : "") + std::string(kColumns[i]);
    params += (i != 0 ? ",?" : "?") + std::to_string(i + 1);
  }
  return "INSERT INTO records(" + cols + ") VALUES (" + params + ")";
}

bool is_int_column(size_t i) {
  return i == 0 || i == 1 || i == 24 || i == 25;
}

// Creates the file 0600 before SQLite does, or checks an existing one's mode.
policy::Status check_file(const std::string& path, const Options& o) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return unexpected(Errc::kUnavailable,
                        "cannot access audit trail " + path + ": " + std::strerror(errno));
    }
    if (o.read_only) {
      return unexpected(Errc::kUnavailable, "no audit trail at " + path);
    }
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      return unexpected(Errc::kUnavailable,
                        "cannot create audit trail " + path + ": " + std::strerror(errno));
    }
    if (fd >= 0) {
      ::close(fd);
    }
    return {};
  }
  if (!S_ISREG(st.st_mode)) {
    return unexpected(Errc::kUnavailable, "audit trail " + path + " is not a regular file");
  }
  if (!o.read_only && (st.st_mode & 077) != 0 && !o.allow_unsafe_permissions) {
    return unexpected(
        Errc::kPermission,
        "audit trail " + path + " is accessible by group or others (chmod 0600, or allow it)");
  }
  return {};
}

// (number of schema objects, user_version); statements are finished on return so
// that journal_mode can change afterwards.
policy::Result<std::pair<std::int64_t, std::int64_t>> read_info(Db& db) {
  auto st = db.prepare("SELECT count(*) FROM sqlite_schema");
  if (!st) {
    return st.error();
  }
  if (st->step() != SQLITE_ROW) {
    return db.error("not an audit trail (unreadable database)");
  }
  const auto tables = st->int_col(0);
  auto uv = db.prepare("PRAGMA user_version");
  if (!uv || uv->step() != SQLITE_ROW) {
    return db.error("cannot read the audit trail's format version");
  }
  return std::make_pair(tables, uv->int_col(0));
}

policy::Status configure(Db& db, const Options& o) {
  ::sqlite3_busy_timeout(db.get(), o.busy_timeout_ms);
  auto info = read_info(db);
  if (!info) {
    return info.error();
  }
  const auto [tables, version] = *info;
  if (version > kSchemaVersion) {
    return unexpected(Errc::kUnavailable, "audit trail format " + std::to_string(version) +
                                              " is newer than this program's (" +
                                              std::to_string(kSchemaVersion) +
                                              "): upgrade smime-milter");
  }
  if (version == 0 && tables > 0) {
    return unexpected(Errc::kUnavailable,
                      "not an smime-milter audit trail (foreign tables, no format version)");
  }
  if (o.read_only) {
    return version == 0 ? unexpected(Errc::kUnavailable, "audit trail is empty (never written)")
                        : policy::Status{};
  }
  if (auto s = db.exec("PRAGMA journal_mode=WAL"); !s) {
    return s;
  }
  if (auto s = db.exec("PRAGMA synchronous=FULL"); !s) {
    return s;
  }
  return version == 0 ? db.exec(kSchema) : policy::Status{};
}

}  // namespace

policy::Result<std::unique_ptr<Trail>> Trail::open(const std::string& path, Options options) {
  if (auto s = check_file(path, options); !s) {
    return s.error();
  }
  const int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  auto reader = Db::open(path, flags);
  if (!reader) {
    return std::move(reader).error();
  }
  if (auto s = configure(*reader, options); !s) {
    return s.error();
  }
  std::unique_ptr<Trail> t(new Trail(path, std::move(options), std::move(*reader)));
  if (!t->options_.read_only) {
    auto writer = Db::open(path, SQLITE_OPEN_READWRITE);
    if (!writer) {
      return std::move(writer).error();
    }
    ::sqlite3_busy_timeout(writer->get(), t->options_.busy_timeout_ms);
    if (auto s = writer->exec("PRAGMA synchronous=FULL"); !s) {
      return s.error();
    }
    t->writer_ = std::move(*writer);
    t->last_head_time_ = t->now();
    t->writer_thread_ = std::thread([p = t.get()] { p->writer_loop(); });
  }
  return t;
}

policy::Result<std::unique_ptr<Trail>> Trail::open_read_only(const std::string& path) {
  Options o;
  o.read_only = true;
  o.head_sink = [](std::string_view) {};
  return open(path, std::move(o));
}

Trail::Trail(std::string path, Options options, Db reader)
    : path_(std::move(path)), options_(std::move(options)), reader_(std::move(reader)) {}

Trail::~Trail() {
  {
    const std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_thread_.joinable()) {
    writer_thread_.join();
  }
}

std::int64_t Trail::now() const {
  return options_.clock ? options_.clock() : static_cast<std::int64_t>(::time(nullptr));
}

std::future<policy::Result<std::uint64_t>> Trail::submit(Entry e) {
  Pending p{std::move(e), {}};
  if (p.entry.time == 0) {
    p.entry.time = now();
  }
  auto fut = p.done.get_future();
  if (options_.read_only) {
    p.done.set_value(unexpected(Errc::kPermission, "audit trail opened read-only"));
    return fut;
  }
  {
    const std::lock_guard lk(mu_);
    if (stop_) {
      p.done.set_value(unexpected(Errc::kUnavailable, "audit trail is closing"));
      return fut;
    }
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
  return fut;
}

policy::Result<std::uint64_t> Trail::append_decision(const DecisionRecord& r) {
  return submit(to_entry(r)).get();
}

policy::Result<std::uint64_t> Trail::append_admin(const AdminRecord& r) {
  return submit(to_entry(r)).get();
}

void Trail::writer_loop() {
  std::unique_lock lk(mu_);
  const auto ready = [this] { return stop_ || !queue_.empty(); };
  for (;;) {
    if (options_.head_interval <= 0) {
      cv_.wait(lk, ready);
    } else if (!cv_.wait_for(lk, std::chrono::seconds(options_.head_interval), ready)) {
      // Idle for a whole interval: publish the head of what was committed since.
      lk.unlock();
      maybe_publish_head(now());
      lk.lock();
      continue;
    }
    if (queue_.empty()) {
      return;  // stopping and drained
    }
    if (options_.group_window.count() > 0 && !stop_) {
      cv_.wait_for(lk, options_.group_window,
                   [this] { return stop_ || queue_.size() >= options_.max_batch; });
    }
    std::vector<Pending> batch;
    while (!queue_.empty() && batch.size() < std::max<std::size_t>(options_.max_batch, 1)) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lk.unlock();
    const size_t requested = batch.size();
    if (refused_ > 0) {
      batch.insert(batch.begin(), Pending{failure_incident(), {}});
    }
    const auto s = commit(batch);
    // The head decision belongs to the commit's time, taken before the writers are
    // told: a writer may go on (and the clock move) before the head is published.
    const std::int64_t committed_at = now();
    if (!s) {
      if (refused_ == 0) {
        refused_since_ = now();
        refused_reason_ = s.error().detail();
      }
      refused_ += requested;
    } else {
      refused_ = 0;
    }
    for (auto& p : batch) {
      p.done.set_value(s ? policy::Result<std::uint64_t>(p.entry.seq)
                         : policy::Result<std::uint64_t>(s.error()));
    }
    if (s) {
      unpublished_ = true;
      maybe_publish_head(committed_at);
    }
    lk.lock();
  }
}

policy::Status Trail::commit(std::vector<Pending>& batch) {
  if (auto s = writer_.exec("BEGIN IMMEDIATE"); !s) {
    return unexpected(Errc::kUnavailable, "cannot write the audit trail: " + s.error().detail());
  }
  const auto fail = [this](std::string_view what) {
    auto err = writer_.error(what);
    (void)writer_.exec("ROLLBACK");
    return err;
  };
  auto head = writer_.prepare("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1");
  if (!head) {
    return fail("cannot read the chain head");
  }
  std::uint64_t seq = 0;
  std::string prev(kGenesisHash);
  const int rc = head->step();
  if (rc == SQLITE_ROW) {
    seq = static_cast<std::uint64_t>(head->int_col(0));
    prev = head->text_col(1);
  } else if (rc != SQLITE_DONE) {
    return fail("cannot read the chain head");
  }
  auto ins = writer_.prepare(insert_sql());
  if (!ins) {
    return fail("cannot prepare the record insert");
  }
  for (auto& p : batch) {
    p.entry.seq = ++seq;
    p.entry.prev_hash = prev;
    p.entry.hash = compute_hash(p.entry);
    prev = p.entry.hash;
    const auto values = column_values(p.entry);
    for (size_t i = 0; i < values.size(); ++i) {
      const int idx = static_cast<int>(i + 1);
      if (is_int_column(i)) {
        ins->bind(idx, static_cast<std::int64_t>(std::stoll(values[i])));
      } else {
        ins->bind(idx, values[i]);
      }
    }
    if (ins->step() != SQLITE_DONE) {
      return fail("cannot insert audit record");
    }
    ins->reset();
  }
  if (writer_.exec("COMMIT")) {
    return {};
  }
  return fail("cannot commit audit records");
}

Entry Trail::failure_incident() const {
  AdminRecord a;
  a.time = now();
  a.action = "audit-failure";
  a.incident = IncidentKind::kAuditFailure;
  a.result = "unavailable";
  a.detail = "audit trail unwritable since " + std::to_string(refused_since_) + "; " +
             std::to_string(refused_) +
             " record(s) refused (their messages were not accepted): " + refused_reason_;
  return to_entry(a);
}

void Trail::maybe_publish_head(std::int64_t at) {
  if (options_.head_interval <= 0 || !unpublished_ ||
      at - last_head_time_ < options_.head_interval) {
    return;
  }
  last_head_time_ = at;
  // A failed publication is retried at the next interval; records are already durable.
  if (publish_head(options_.head_signer.get())) {
    unpublished_ = false;
  }
}

}  // namespace audit
