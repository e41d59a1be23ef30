// audit::Recorder: the narrow seam through which the milter and smimectl write to the
// audit trail. audit::Trail implements it; tests substitute a fake to inject faults
// (trail unwritable) and check that nothing is accepted unrecorded.
// Thread-safety: implementations must accept calls from several threads at once.
#pragma once

#include <cstdint>

#include "audit/record.h"
#include "policy/result.h"

namespace audit {

class Recorder {
 public:
  virtual ~Recorder() = default;
  // Durable when it returns (the caller may accept the message): the record's seq,
  // or Errc::kUnavailable when nothing was written (apply on_audit_failure).
  virtual policy::Result<std::uint64_t> append_decision(const DecisionRecord& r) = 0;
  virtual policy::Result<std::uint64_t> append_admin(const AdminRecord& r) = 0;
};

}  // namespace audit
