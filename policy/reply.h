// SMTP reply templates of the failure actions: "[CODE] [X.Y.Z] text" with %{variables}.
// Parsing validates the code classes against the action at load time; rendering
// substitutes values taken from peer input, so it strips control characters and keeps
// the line short (RFC 5321 4.5.3.1.5: 512 octets per reply line).
// The result may contain '%': libmilter's smfi_setreply needs it doubled (glue's job).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "policy/rules.h"

namespace policy {

// Variables a template may use.
struct ReplyVars {
  std::string sender;
  std::vector<std::string> recipients;  // rendered "a, b and N more"
  std::string rule;
  std::string reason;
};

// Default action and reply for a failure class when the file says only `on_x = "reject"`.
FailureAction default_failure_action(Failure f, Action action);

// Parses `reply` for `action`. Errc::kConfig with a message (no position) when the
// codes do not fit the action or the template uses an unknown variable.
Result<FailureAction> parse_failure_reply(Action action, std::string_view reply);

// Substitutes %{...}; unknown names were rejected at load time and render as "".
std::string render_template(std::string_view text_template, const ReplyVars& vars);

}  // namespace policy
