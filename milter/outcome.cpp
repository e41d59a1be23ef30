#include "milter/outcome.h"

namespace milter {

std::string_view verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::kContinue:
      return "continue";
    case Verdict::kAccept:
      return "accept";
    case Verdict::kReject:
      return "reject";
    case Verdict::kTempfail:
      return "tempfail";
    case Verdict::kDiscard:
      return "discard";
    case Verdict::kQuarantine:
      return "quarantine";
  }
  return "tempfail";
}

Outcome make_outcome(Verdict v, std::string code, std::string xcode, std::string text) {
  Outcome o;
  o.verdict = v;
  o.reply = Reply{std::move(code), std::move(xcode), std::move(text)};
  return o;
}

Outcome tempfail_outcome(std::string text) {
  return make_outcome(Verdict::kTempfail, "451", "4.3.0", std::move(text));
}

}  // namespace milter
