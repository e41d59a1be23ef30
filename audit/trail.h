// audit::Trail: the tamper-evident audit trail in its own SQLite file (WAL, 0600), so
// auditors can be given it without any access to the keystore. Records are hash-chained
// (see record.h); `verify` walks the chain; `publish_head` signs the chain head with the
// gateway's system certificate (when configured) and writes it to syslog so copies
// outside the machine can prove the trail's state at that time.
//
// Writes go through one writer thread that commits whatever is queued as one
// transaction (group commit): `append_*` returns once its record is durable
// (synchronous=FULL), so the milter can accept a message only after its record is on
// disk. Failures are Errc::kUnavailable values; `on_audit_failure` is the caller's.
// Several processes may append to one trail (milter + smimectl): the chain head is
// re-read inside each write transaction.
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/db.h"
#include "audit/record.h"
#include "audit/recorder.h"
#include "policy/result.h"
#include "smime/interfaces.h"

namespace audit {

inline constexpr int kSchemaVersion = 1;
// Default trail location (the configuration's audit.path overrides it).
inline constexpr const char* kDefaultPath = "/var/lib/smime-milter/audit.db";

struct Options {
  bool read_only = false;                     // auditors: no writer thread, no schema creation
  bool allow_unsafe_permissions = false;      // accept a group/other-accessible file
  std::size_t max_batch = 512;                // records per transaction at most
  std::chrono::milliseconds group_window{0};  // wait this long to gather a batch
  int busy_timeout_ms = 5000;                 // wait for another process's transaction
  std::function<std::int64_t()> clock;        // unix seconds; default time(nullptr)
  // Chain head publication: at most every head_interval seconds (0 = only when asked)
  // while records are committed: after a commit once the interval has passed, or when
  // the writer has been idle for a whole interval since an unpublished commit (so the
  // last records of a burst are covered too). Signed with head_signer when set; one
  // line to head_sink (default syslog facility mail).
  std::int64_t head_interval = 0;
  std::shared_ptr<const smime::Credential> head_signer;
  std::function<void(std::string_view)> head_sink;
};

// A published chain head: "at `time` the trail ended at record `seq` with `hash`".
struct Head {
  std::uint64_t seq = 0;
  std::string hash;
  std::int64_t time = 0;
  std::string signature_der;       // CMS SignedData, detached, over statement(); "" = unsigned
  std::string signer_fingerprint;  // SHA-256 of the signing certificate
  // The exact bytes signed and logged: "smime-milter-audit-head/1 seq=N hash=H time=T".
  std::string statement() const;
};

enum class Problem {
  kNone,
  kChanged,
  kMissing,
  kReordered,
  kTruncated,
  kHeadMismatch,
  kBadHeadSignature
};
std::string_view problem_name(Problem p);

struct VerifyOptions {
  // A head copied from syslog or a report ("SEQ:HASH"), checked like a stored head.
  std::optional<Head> expect_head;
};

struct VerifyReport {
  bool ok() const { return problem == Problem::kNone; }
  std::uint64_t records = 0;
  std::uint64_t last_seq = 0;
  std::string head_hash;  // hash of the last record (genesis when empty)
  std::uint64_t heads_checked = 0, heads_signed = 0;
  Problem problem = Problem::kNone;
  std::uint64_t bad_seq = 0;  // first record found wrong (or the head's seq)
  std::string detail;         // one sentence naming the record and what is wrong
};

// Search filter; empty / zero fields do not filter.
struct Filter {
  std::string sender;                 // exact, case-insensitive
  std::string recipient;              // one of the recipients, exact, case-insensitive
  std::int64_t since = 0, until = 0;  // time in [since, until)
  std::string direction, verdict;
  std::optional<RecordType> type;
  bool incidents_only = false;
  std::size_t limit = 0;
};

class Trail final : public Recorder {
 public:
  static policy::Result<std::unique_ptr<Trail>> open(const std::string& path, Options options = {});
  // For auditors' tools: read-only, no writer thread, heads never logged.
  static policy::Result<std::unique_ptr<Trail>> open_read_only(const std::string& path);
  ~Trail() override;  // commits what is queued, then stops the writer
  Trail(const Trail&) = delete;
  Trail& operator=(const Trail&) = delete;

  // Durable when it returns: the record's seq, or kUnavailable (nothing written).
  // After failed commits, the next successful one first records an audit-failure
  // incident (when the trail was unwritable and how many records were refused).
  policy::Result<std::uint64_t> append_decision(const DecisionRecord& r) override;
  policy::Result<std::uint64_t> append_admin(const AdminRecord& r) override;
  // Asynchronous form: the future resolves once the record's batch is committed.
  std::future<policy::Result<std::uint64_t>> submit(Entry e);

  // Records the current head (signed when `signer` is given) and logs it.
  policy::Result<Head> publish_head(const smime::Credential* signer);
  policy::Result<std::vector<Head>> heads();

  policy::Result<VerifyReport> verify(const VerifyOptions& options = {});
  // Streams matching records in seq order; `fn` returns false to stop.
  policy::Status scan(const Filter& filter, const std::function<bool(const Entry&)>& fn);
  policy::Result<std::vector<Entry>> search(const Filter& filter);

  const std::string& path() const { return path_; }
  std::int64_t now() const;

 private:
  struct Pending {
    Entry entry;
    std::promise<policy::Result<std::uint64_t>> done;
  };
  Trail(std::string path, Options options, Db reader);
  void writer_loop();
  policy::Status commit(std::vector<Pending>& batch);
  // Publishes a head when records are unpublished and the last head is older than
  // head_interval at time `at`.
  void maybe_publish_head(std::int64_t at);
  Entry failure_incident() const;
  // Walks the records in seq order, stopping at the first problem (recorded in `rep`).
  policy::Status walk_chain(std::map<std::uint64_t, std::string>& named, VerifyReport& rep);

  const std::string path_;
  const Options options_;
  std::mutex reader_mu_;
  Db reader_;  // searches, verify, heads (guarded by reader_mu_)
  Db writer_;  // owned by the writer thread
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::int64_t last_head_time_ = 0;  // writer thread only (like unpublished_)
  bool unpublished_ = false;         // records committed since the last published head
  // Writer thread only: commits refused since the last success.
  std::uint64_t refused_ = 0;
  std::int64_t refused_since_ = 0;
  std::string refused_reason_;
  std::thread writer_thread_;
};

}  // namespace audit
