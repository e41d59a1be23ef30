// Authentication-Results (RFC 8601) for S/MIME (RFC 7281): recognising headers that
// claim our authserv-id (so forged ones can be removed before we add ours), and
// formatting our own header, folded under 78 characters.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "milter/message.h"
#include "milter/outcome.h"

namespace milter {

inline constexpr std::string_view kAuthResultsHeader = "Authentication-Results";

// The authserv-id of an Authentication-Results value (RFC 8601 2.2: the first token
// or quoted-string, CFWS and comments allowed before and after), unquoted; nullopt
// when the value does not start with one.
std::optional<std::string> authserv_id_of(std::string_view value);

// Deletions for every Authentication-Results header whose authserv-id equals `ours`
// (case-insensitive, as for domain names), highest index first so each index stays
// valid whichever way the MTA counts after a deletion.
std::vector<HeaderEdit> remove_forged_auth_results(const std::vector<Header>& headers,
                                                   std::string_view ours);

// One S/MIME result (RFC 7281 2): method "smime", ptype "body".
struct SmimeAuthResult {
  std::string result;      // none, pass, fail, policy, neutral, temperror, permerror
  std::string reason;      // short reason, emitted as a comment; may be empty
  std::string identifier;  // body.smime-identifier: the signer's address
  std::string serial;      // body.smime-serial: certificate serial, hex
  std::string issuer;      // body.smime-issuer: issuer DN, emitted as a quoted-string
};

// The header value (without "Authentication-Results:"), folded with "\n\t" so that no
// line of the full header exceeds 78 characters where a space allows a break.
// No results -> "<authserv_id>; none".
std::string format_auth_results(std::string_view authserv_id,
                                std::span<const SmimeAuthResult> results);

// Folds "name: value" at spaces so lines stay within `width`; returns the value part.
std::string fold_header_value(std::string_view name, std::string_view value,
                              std::size_t width = 78);

}  // namespace milter
