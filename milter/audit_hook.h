// The milter's side of the audit trail: completes the pipeline's DecisionRecord with
// the envelope facts and the verdict, appends it to the snapshot's Recorder and only
// then lets the answer go to the MTA. When the trail cannot be written,
// audit.on_audit_failure applies (default tempfail), so nothing is delivered
// unrecorded. Also logs the decision step by step when daemon.log_why is on.
// Thread-safety: reentrant (the Recorder serialises its own writes).
#pragma once

#include <memory>
#include <string>

#include "audit/recorder.h"
#include "milter/message.h"
#include "milter/outcome.h"
#include "milter/pipeline.h"

namespace milter {

// "accept", "tempfail", "reject", "discard", "quarantine" (continue counts as accept).
std::string audit_verdict_name(Verdict v) noexcept;

// Fills `o.audit` from `m` and `o`'s verdict, appends it when the snapshot has a
// recorder and returns the outcome to send (changed by on_audit_failure on failure).
Outcome record_decision(const Message& m, const Snapshot& snapshot, Outcome o);

// Logs `o.why` one line per step, queue id first, when the configuration asks for it.
void log_why(const Message& m, const Snapshot& snapshot, const Outcome& o);

// A Recorder that refuses everything with `detail`: the daemon installs it when the
// configured trail cannot be opened, so on_audit_failure applies to every message.
std::shared_ptr<audit::Recorder> unavailable_recorder(std::string detail);

}  // namespace milter
