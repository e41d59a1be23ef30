#include "policy/rules.h"

#include "policy/reply.h"

namespace policy {

bool Match::empty() const noexcept {
  return direction == DirectionMatch::kAny && sender.empty() && department.empty() &&
         recipients_all.empty() && recipients_any.empty() && headers.empty() && subject_tag.empty();
}

FailureActions builtin_failure_actions() {
  FailureActions on{};
  for (const Failure f : kAllFailures) {
    Action a = Action::kTempfail;
    switch (f) {
      case Failure::kNoSigningCert:
      case Failure::kNoRecipientCert:
      case Failure::kRevoked:
        a = Action::kReject;
        break;
      case Failure::kBadSignature:
        a = Action::kAccept;
        break;
      case Failure::kRevocationUnknown:
      case Failure::kDecryptError:
      case Failure::kKeystoreUnavailable:
      case Failure::kInternalError:
        a = Action::kTempfail;
        break;
    }
    on[static_cast<std::size_t>(f)] = default_failure_action(f, a);
  }
  return on;
}

}  // namespace policy
