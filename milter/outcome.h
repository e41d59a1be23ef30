// What the milter tells the MTA about one message: a verdict, an optional SMTP reply
// and the edits to apply at end-of-message. Plain values with no libmilter types;
// libmilter_glue.cpp is the only place that turns them into smfi_* calls.
// Thread-safety: plain values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/record.h"
#include "smime/temp_file.h"

namespace milter {

enum class Verdict {
  kContinue,    // keep going (per-step) / deliver with the edits (end of message)
  kAccept,      // deliver, stop calling the milter for this message
  kReject,      // 5xx
  kTempfail,    // 4xx: the MTA keeps the message queued
  kDiscard,     // accept and drop silently
  kQuarantine,  // deliver into the MTA's hold queue
};

// "continue", "accept", "reject", "tempfail", "discard", "quarantine".
std::string_view verdict_name(Verdict v) noexcept;

// SMTP reply for reject/tempfail; empty code means "let the MTA choose".
struct Reply {
  std::string code;   // "550", "451"
  std::string xcode;  // enhanced status code "5.7.1"
  std::string text;   // one line, no CR/LF
  bool empty() const noexcept { return code.empty(); }
};

// A header edit. `index` counts occurrences of `name` (case-insensitive), 1-based,
// in the message as received, as smfi_chgheader does. Values are what follows
// "Name:" without the leading space; folding uses "\n" + whitespace.
struct HeaderEdit {
  enum class Kind { kAdd, kChange, kDelete };
  Kind kind = Kind::kAdd;
  std::string name;
  int index = 0;  // kChange / kDelete only
  std::string value;
};

struct Outcome {
  Verdict verdict = Verdict::kContinue;
  Reply reply;
  // Applied in this order: deletions (highest index first), changes, additions.
  std::vector<HeaderEdit> header_edits;
  std::optional<std::string> new_body;  // CRLF line ends
  // The new body of a big message, in a private spool file the glue streams to the
  // MTA (then removed with the last owner); at most one of new_body / new_body_file.
  std::shared_ptr<const smime::TempFile> new_body_file;
  std::string quarantine_reason;  // for kQuarantine
  // One-line summary for the per-message log line (direction, rule, actions ...).
  std::string summary;
  // What the pipeline knows for the audit trail (department, rule, actions,
  // certificates, algorithms, verification, incident). Session fills the envelope
  // facts and the verdict, then appends it before answering (see audit_hook.h).
  audit::DecisionRecord audit;
  // The decision step by step (policy reasons, then the pipeline's), logged one line
  // per step when daemon.log_why is on.
  std::vector<std::string> why;
};

Outcome make_outcome(Verdict v, std::string code, std::string xcode, std::string text);
// 451 4.3.0 with `text`: the fail-closed answer to any internal problem.
Outcome tempfail_outcome(std::string text);

}  // namespace milter
