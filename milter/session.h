// Session: one SMTP connection's view of the milter protocol, as pure C++ (no
// libmilter types), so tests drive it directly and `smimectl process` runs the very
// same code offline. It collects connect info, macros, envelope, headers (order and
// duplicates kept) and the body (bounded: spooled to a 0600 temp file past a
// threshold), enforces the size limits, and at end-of-message hands the Message to
// the snapshot's Pipeline inside guarded(). Several messages per connection: state is
// reset at EOM and abort. The snapshot is taken at MAIL FROM, so a reload never
// changes a running message.
// Thread-safety: one thread at a time (libmilter calls a connection sequentially).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "milter/message.h"
#include "milter/outcome.h"
#include "milter/pipeline.h"

namespace milter {

class Session {
 public:
  explicit Session(SnapshotSource source);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Verdict on_connect(std::string_view host, std::string_view addr, const Macros& m = {});
  Verdict on_helo(std::string_view name);
  Verdict on_mail_from(std::string_view sender, const Macros& m = {});
  Verdict on_rcpt(std::string_view rcpt, const Macros& m = {});
  // `value` is raw: everything after the colon, leading space included.
  Verdict on_header(std::string_view name, std::string_view value);
  Verdict on_eoh(const Macros& m = {});
  Verdict on_body(std::span<const std::byte> chunk);
  Outcome on_eom(const Macros& m = {});
  void on_abort();

  // Reply to send with a reject/tempfail/discard verdict returned by a step above.
  const Reply& reply() const noexcept { return reply_; }
  // The message being collected (tests, logging).
  const Message& message() const noexcept { return message_; }
  const BodySpool* body() const noexcept { return body_.get(); }
  bool in_message() const noexcept { return snapshot_ != nullptr; }

 private:
  void absorb(const Macros& m);
  void reset_message() noexcept;
  bool ensure_message();
  // For a header or body chunk: tempfail without a configuration, continue (swallow)
  // once over a limit, nullopt when it is to be taken.
  std::optional<Verdict> early_verdict();
  Verdict limit_exceeded(std::string_view what);
  Verdict fail_io(std::string_view what);
  // One info line per message; `eom_ms`: the end-of-message work (decision, crypto,
  // audit record) that the MTA waited for.
  void log_outcome(const Outcome& o, double eom_ms) const;

  SnapshotSource source_;
  std::string client_host_;
  std::string client_addr_;
  std::string helo_;
  Macros connect_macros_;

  std::shared_ptr<const Snapshot> snapshot_;  // per message
  Message message_;
  std::unique_ptr<BodySpool> body_;
  std::size_t header_bytes_ = 0;
  bool over_limit_ = false;
  std::string limit_what_;
  Reply reply_;
};

}  // namespace milter
