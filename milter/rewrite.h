// Turning a transformed message (signed, encrypted or decrypted text from smime/) into
// milter edits: the MIME headers (Content-*, MIME-Version) of the original are deleted
// and those of the new message added, and the body is replaced. Other headers (From,
// Subject, Received ...) stay untouched, so one EOM carries the whole change.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "milter/message.h"
#include "milter/outcome.h"

namespace milter {

// Splits RFC 5322 text into headers (raw values, unfolded line breaks kept) and body.
struct ParsedMessage {
  std::vector<Header> headers;
  std::string body;
};
ParsedMessage parse_message(std::string_view text);

// True for the headers that describe the MIME entity: MIME-Version and Content-*.
bool is_mime_header(std::string_view name);

// Edits that turn `original` into `replacement` (MIME headers + body), appended to `out`.
void rewrite_to(const std::vector<Header>& original, std::string_view replacement, Outcome& out);

// Puts deletions first (per name, highest index first), then changes, then additions.
void order_edits(std::vector<HeaderEdit>& edits);

// The message as the MTA delivers it once `o` is applied to `headers` + `body`: the
// deleted headers gone, changed ones replaced in place, added ones at the end (as
// Postfix's smfi_addheader does), then the new body if any. Header lines end in CRLF;
// the body is returned as given. For `smimectl process` and the tests.
std::string delivered_message(const std::vector<Header>& headers, std::string_view body,
                              const Outcome& o);

}  // namespace milter
