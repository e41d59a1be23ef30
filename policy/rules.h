// Rules: ordered match conditions plus actions, first match wins, a default rule last.
// A rule's unset actions inherit from the [default] table, which inherits the built-in
// fail-closed defaults. Immutable once loaded (part of the Config snapshot).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "policy/types.h"

namespace policy {

// One `headers = [{ name = "...", value = "glob" | regex = "..." }]` entry.
struct HeaderMatch {
  std::string name;                 // compared case-insensitively
  std::string value_glob;           // fnmatch, case-insensitive; empty when regex is used
  std::optional<std::regex> regex;  // ECMAScript, icase, searched in the value
  std::string regex_text;
};

// All present conditions must hold (logical AND); absent ones are ignored. Within a
// list, any element may match (logical OR).
struct Match {
  DirectionMatch direction = DirectionMatch::kAny;
  std::vector<std::string> sender;          // globs; with '@' on the address, else on the domain
  std::vector<std::string> department;      // sender's department from the keystore, exact (icase)
  std::vector<std::string> recipients_all;  // every recipient matches one glob
  std::vector<std::string> recipients_any;  // at least one recipient matches one glob
  std::vector<HeaderMatch> headers;         // any header entry matches
  std::string subject_tag;  // case-insensitive substring of Subject, e.g. "[RAHASIA]"
  bool empty() const noexcept;
};

// An action for one failure class, with its SMTP reply template (%{recipients},
// %{sender}, %{rule}, %{reason}).
struct FailureAction {
  Action action = Action::kTempfail;
  std::string rcode;  // "550"; empty for accept/discard/quarantine
  std::string xcode;  // "5.7.1"
  std::string text_template;
};

using FailureActions = std::array<FailureAction, std::size(kAllFailures)>;

// The built-in failure actions (fail closed): tempfail for our own errors and for
// unknown revocation state, reject when required encryption or signing is impossible or
// the signing certificate is revoked, accept (with smime=fail) for bad inbound signatures.
FailureActions builtin_failure_actions();

struct Rule {
  std::string name;
  Match match;
  Requirement sign = Requirement::kIfPossible;
  Requirement encrypt = Requirement::kIfPossible;
  std::vector<CertType> signer{CertType::kIndividual, CertType::kRole, CertType::kSystem};
  Profile profile = Profile::kCompatible;
  bool verify = true;
  bool decrypt = true;
  bool strip_subject_tag = false;
  FailureActions on = builtin_failure_actions();
  const FailureAction& on_failure(Failure f) const noexcept {
    return on[static_cast<std::size_t>(f)];
  }
};

}  // namespace policy
