// The per-message processing behind Session: an interface so tests inject faults and
// the real S/MIME pipeline (policy + keystore + smime) plugs in. Snapshot is the
// immutable configuration a message runs with; SIGHUP swaps in a new one, running
// messages keep theirs (they hold a shared_ptr).
// Thread-safety: a Pipeline's process() is called concurrently from many connections.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "audit/recorder.h"
#include "milter/message.h"
#include "milter/outcome.h"
#include "policy/config.h"

namespace milter {

// The daemon's own settings (socket, limits, spool); the policy lives in the pipeline.
struct Settings {
  std::string authserv_id = "localhost";  // our id in Authentication-Results
  std::filesystem::path spool_dir = "/tmp";
  std::size_t spool_threshold = 1024U * 1024U;          // bytes kept in memory per body
  std::size_t max_message_bytes = 50U * 1024U * 1024U;  // headers + body
  std::size_t max_headers = 1000;
  std::size_t max_header_bytes = 1024U * 1024U;
  // What happens to a message over a limit, and the reply sent with it.
  Verdict on_oversize = Verdict::kReject;
  Reply oversize_reply{"552", "5.3.4", "message exceeds the S/MIME gateway size limit"};
};

class Pipeline;

struct Snapshot {
  Settings settings;
  policy::ConfigPtr config;  // may be null in tests
  std::shared_ptr<Pipeline> pipeline;
  // The audit trail every decision is written to before the MTA is answered; null =
  // no trail (tests, `smimectl process` without one). A recorder that fails makes
  // audit.on_audit_failure apply (default tempfail).
  std::shared_ptr<audit::Recorder> recorder;
};

using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // Decides one complete message. May throw only on bugs; Session wraps it in guarded().
  virtual Outcome process(const Message& message, const Snapshot& snapshot) = 0;
};

// Phase-1 pipeline: no S/MIME yet. Removes every Authentication-Results header that
// claims our authserv-id (anti-spoofing) and lets the message through.
class BasicPipeline final : public Pipeline {
 public:
  Outcome process(const Message& message, const Snapshot& snapshot) override;
};

}  // namespace milter
