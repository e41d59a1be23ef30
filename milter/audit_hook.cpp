#include "milter/audit_hook.h"

#include <spdlog/spdlog.h>

namespace milter {
namespace {

std::string_view qid(const Message& m) {
  return m.envelope.queue_id.empty() ? std::string_view("NOQUEUE") : m.envelope.queue_id;
}

std::string one_line(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  return out;
}

class UnavailableRecorder final : public audit::Recorder {
 public:
  explicit UnavailableRecorder(std::string detail) : detail_(std::move(detail)) {}
  policy::Result<std::uint64_t> append_decision(const audit::DecisionRecord&) override {
    return policy::unexpected(policy::Errc::kUnavailable, detail_);
  }
  policy::Result<std::uint64_t> append_admin(const audit::AdminRecord&) override {
    return policy::unexpected(policy::Errc::kUnavailable, detail_);
  }

 private:
  std::string detail_;
};

// The outcome when the trail refused the record: audit.on_audit_failure.
Outcome on_audit_failure(const Snapshot& snapshot, Outcome o) {
  const policy::Action a =
      snapshot.config ? snapshot.config->audit.on_audit_failure : policy::Action::kTempfail;
  switch (a) {
    case policy::Action::kAccept:
      return o;
    case policy::Action::kReject:
      return make_outcome(Verdict::kReject, "554", "5.3.0",
                          "audit trail unavailable in the S/MIME gateway");
    case policy::Action::kDiscard:
      return make_outcome(Verdict::kDiscard, "", "", "");
    case policy::Action::kQuarantine:
      o.verdict = Verdict::kQuarantine;
      o.quarantine_reason = "smime-milter: audit trail unavailable";
      return o;
    case policy::Action::kTempfail:
      break;
  }
  return tempfail_outcome("audit trail unavailable in the S/MIME gateway, try again later");
}

void fill_envelope(const Message& m, const Outcome& o, audit::DecisionRecord& r) {
  r.queue_id = m.envelope.queue_id;
  r.message_id = one_line(m.first_header("Message-ID"));
  r.sender = m.envelope.sender;
  r.recipients = m.envelope.recipients;
  r.auth_user = m.envelope.auth_authen;
  r.client_addr = m.envelope.client_addr;
  r.verdict = audit_verdict_name(o.verdict);
  if (r.actions.empty()) {
    r.actions.emplace_back("none");
  }
}

}  // namespace

std::string audit_verdict_name(Verdict v) noexcept {
  // The trail records what the MTA does with the message: "continue" is an accept.
  return std::string(verdict_name(v == Verdict::kContinue ? Verdict::kAccept : v));
}

Outcome record_decision(const Message& m, const Snapshot& snapshot, Outcome o) {
  fill_envelope(m, o, o.audit);
  if (!snapshot.recorder) {
    return o;
  }
  auto seq = snapshot.recorder->append_decision(o.audit);
  if (seq) {
    o.summary += " audit=" + std::to_string(*seq);
    return o;
  }
  spdlog::error("{}: audit trail not written ({}), on_audit_failure applies", qid(m),
                seq.error().message());
  const std::string summary = o.summary + " audit=failed";
  Outcome out = on_audit_failure(snapshot, std::move(o));
  out.summary = summary;
  return out;
}

void log_why(const Message& m, const Snapshot& snapshot, const Outcome& o) {
  if (!snapshot.config || !snapshot.config->daemon.log_why) {
    return;
  }
  std::size_t step = 0;
  for (const auto& w : o.why) {
    spdlog::info("{}: why[{}] {}", qid(m), ++step, w);
  }
  spdlog::info("{}: why[{}] verdict {}", qid(m), ++step, audit_verdict_name(o.verdict));
}

std::shared_ptr<audit::Recorder> unavailable_recorder(std::string detail) {
  return std::make_shared<UnavailableRecorder>(std::move(detail));
}

}  // namespace milter
