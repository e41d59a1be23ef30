#include "milter/session.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "milter/audit_hook.h"
#include "milter/guarded.h"

namespace milter {
namespace {
std::string_view qid(const Message& m) {
  return m.envelope.queue_id.empty() ? std::string_view("NOQUEUE") : m.envelope.queue_id;
}
}  // namespace

Session::Session(SnapshotSource source) : source_(std::move(source)) {}

Session::~Session() {
  reset_message();
}

void Session::absorb(const Macros& m) {
  auto set = [&](std::string_view key, std::string& field) {
    if (const auto it = m.find(key); it != m.end() && !it->second.empty()) {
      field = it->second;
    }
  };
  set("i", message_.envelope.queue_id);
  set("{auth_authen}", message_.envelope.auth_authen);
  set("{daemon_name}", message_.envelope.daemon_name);
  set("{client_addr}", message_.envelope.client_addr);
}

void Session::reset_message() noexcept {
  if (body_) {
    body_->clear();
  }
  body_.reset();
  snapshot_.reset();
  message_ = Message{};
  header_bytes_ = 0;
  over_limit_ = false;
  limit_what_.clear();
}

Verdict Session::on_connect(std::string_view host, std::string_view addr, const Macros& m) {
  client_host_ = host;
  client_addr_ = addr;
  connect_macros_ = m;
  return Verdict::kContinue;
}

Verdict Session::on_helo(std::string_view name) {
  helo_ = name;
  return Verdict::kContinue;
}

// Starts a message if MAIL FROM was not seen (e.g. a driver that skips it); false
// when no configuration snapshot is available.
bool Session::ensure_message() {
  if (snapshot_) {
    return true;
  }
  reset_message();
  snapshot_ = source_ ? source_() : nullptr;
  if (!snapshot_ || !snapshot_->pipeline) {
    snapshot_.reset();
    return false;
  }
  const Settings& s = snapshot_->settings;
  body_ = std::make_unique<BodySpool>(s.spool_dir, s.spool_threshold);
  message_.body = body_.get();
  message_.envelope.client_host = client_host_;
  message_.envelope.client_addr = client_addr_;
  absorb(connect_macros_);
  return true;
}

Verdict Session::on_mail_from(std::string_view sender, const Macros& m) {
  reset_message();  // a new transaction ends any previous one (RFC 5321 4.1.4)
  reply_ = {};
  if (!ensure_message()) {
    reply_ = {"451", "4.3.0", "S/MIME gateway not configured, try again later"};
    spdlog::error("NOQUEUE: no configuration snapshot, tempfail");
    return Verdict::kTempfail;
  }
  message_.envelope.sender = strip_angle_brackets(sender);
  absorb(m);
  return Verdict::kContinue;
}

Verdict Session::on_rcpt(std::string_view rcpt, const Macros& m) {
  if (!ensure_message()) {
    reply_ = {"451", "4.3.0", "S/MIME gateway not configured, try again later"};
    return Verdict::kTempfail;
  }
  absorb(m);
  message_.envelope.recipients.push_back(strip_angle_brackets(rcpt));
  return Verdict::kContinue;
}

Verdict Session::limit_exceeded(std::string_view what) {
  if (!over_limit_) {
    spdlog::warn("{}: {} exceeds the limit, action {}", qid(message_), what,
                 verdict_name(snapshot_->settings.on_oversize));
  }
  over_limit_ = true;
  limit_what_ = what;
  if (body_) {
    body_->clear();  // stop holding data we will not process
  }
  message_.headers.clear();
  const Settings& s = snapshot_->settings;
  switch (s.on_oversize) {
    case Verdict::kReject:
    case Verdict::kTempfail:
    case Verdict::kDiscard:
      reply_ = s.oversize_reply;
      return s.on_oversize;
    default:
      return Verdict::kContinue;  // accept / quarantine: decided at end of message
  }
}

Verdict Session::fail_io(std::string_view what) {
  spdlog::error("{}: {}, tempfail", qid(message_), what);
  reply_ = {"451", "4.3.0", "temporary local problem in the S/MIME gateway"};
  reset_message();
  return Verdict::kTempfail;
}

std::optional<Verdict> Session::early_verdict() {
  if (!ensure_message()) {
    reply_ = {"451", "4.3.0", "S/MIME gateway not configured, try again later"};
    return Verdict::kTempfail;
  }
  if (over_limit_) {
    return Verdict::kContinue;  // swallowed: the message is refused at the latest at EOM
  }
  return std::nullopt;
}

Verdict Session::on_header(std::string_view name, std::string_view value) {
  if (const auto v = early_verdict()) {
    return *v;
  }
  const Settings& s = snapshot_->settings;
  header_bytes_ += name.size() + value.size() + 3;
  if (message_.headers.size() + 1 > s.max_headers) {
    return limit_exceeded("header count");
  }
  if (header_bytes_ > s.max_header_bytes || header_bytes_ > s.max_message_bytes) {
    return limit_exceeded("header size");
  }
  message_.headers.push_back(Header{std::string(name), std::string(value)});
  return Verdict::kContinue;
}

Verdict Session::on_eoh(const Macros& m) {
  absorb(m);
  return Verdict::kContinue;
}

Verdict Session::on_body(std::span<const std::byte> chunk) {
  if (const auto v = early_verdict()) {
    return *v;
  }
  const Settings& s = snapshot_->settings;
  if (header_bytes_ + body_->size() + chunk.size() > s.max_message_bytes) {
    return limit_exceeded("message size");
  }
  if (auto st = body_->append(chunk); !st) {
    return fail_io(st.error().message());
  }
  return Verdict::kContinue;
}

Outcome Session::on_eom(const Macros& m) {
  if (!ensure_message()) {
    return tempfail_outcome("S/MIME gateway not configured, try again later");
  }
  const auto started = std::chrono::steady_clock::now();
  absorb(m);
  Outcome o;
  if (over_limit_) {
    const Settings& s = snapshot_->settings;
    o.verdict = s.on_oversize;
    o.reply = s.oversize_reply;
    o.quarantine_reason = "smime-milter: " + limit_what_ + " over the limit";
    o.summary = "limit=" + limit_what_;
  } else {
    o = guarded(message_.envelope.queue_id,
                [&] { return snapshot_->pipeline->process(message_, *snapshot_); });
  }
  // Recorded before the MTA hears the answer; a trail that cannot be written makes
  // audit.on_audit_failure apply.
  o = record_decision(message_, *snapshot_, std::move(o));
  log_why(message_, *snapshot_, o);
  log_outcome(o,
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                  .count());
  reset_message();
  return o;
}

void Session::on_abort() {
  reset_message();
}

void Session::log_outcome(const Outcome& o, double eom_ms) const {
  spdlog::info("{}: verdict={} from=<{}> rcpts={} size={} client={} auth={} eom_ms={:.2f} {}",
               qid(message_), verdict_name(o.verdict), message_.envelope.sender,
               message_.envelope.recipients.size(), body_ ? body_->size() : 0,
               message_.envelope.client_addr.empty() ? "-" : message_.envelope.client_addr,
               message_.envelope.auth_authen.empty() ? "-" : message_.envelope.auth_authen, eom_ms,
               o.summary);
}

}  // namespace milter
