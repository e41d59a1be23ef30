// What smtp-sink captured: one file per message (smtp-sink -d), parsed into envelope
// and message. Test-only code; values, no shared state.
//
// smtp-sink's dump format (smtp-sink(1), DUMP FILE FORMAT): its own records
// X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args, X-Rcpt-Args (one per RCPT),
// then a three-line "Received: ... (smtp-sink) ..." header, then the message as received
// with LF line ends (CRLF becomes LF; the SMTP dot-stuffing is undone), then one empty
// line that smtp-sink appends. parse_sink_dump() strips smtp-sink's records, its
// Received header and that last empty line, so `message` is what Postfix delivered.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct CapturedMessage {
  std::filesystem::path file;
  std::string client_addr;  // X-Client-Addr
  std::string helo;         // X-Helo-Args
  std::string mail_args;    // X-Mail-Args, e.g. "<a@example.org> SIZE=12 BODY=8BITMIME"
  std::vector<std::string>
      rcpt_args;        // X-Rcpt-Args, e.g. "<b@example.net> ORCPT=rfc822;b@example.net"
  std::string message;  // header + empty line + body, LF line ends

  std::string envelope_from() const;             // address inside <> of mail_args
  std::vector<std::string> envelope_to() const;  // addresses inside <> of rcpt_args
  std::string header_block() const;              // message up to (excluding) the empty line
  std::string body() const;                      // message after the empty line
  // Values (unfolded: CRLF/LF + WSP joined, leading blanks trimmed) of every header
  // field named `name` (case-insensitive), in order.
  std::vector<std::string> headers(std::string_view name) const;
  // First value of `name`, or "" when absent.
  std::string header(std::string_view name) const;
};

// Parses one smtp-sink dump; throws std::runtime_error naming the problem when the
// text is not in smtp-sink's format.
CapturedMessage parse_sink_dump(std::string_view dump, const std::filesystem::path& file = {});

// Splits a header block into (name, raw value incl. folding) fields, in order.
std::vector<std::pair<std::string, std::string>> split_header_fields(std::string_view header_block);

}  // namespace harness
