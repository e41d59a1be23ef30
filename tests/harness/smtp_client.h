// A small, real SMTP client for integration tests: one transaction per call, every
// stage's reply recorded so tests can assert on accept, reject and tempfail.
// Test-only code; blocking sockets with a per-read timeout; no shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct SmtpReply {
  int code = 0;      // 0 when the stage was not reached (or the peer vanished)
  std::string text;  // every line of the reply, without codes, joined by '\n'
  bool positive() const { return code >= 200 && code < 400; }
};

struct Message {
  std::string from{};             // envelope sender, without <>; "" for the null sender
  std::vector<std::string> to{};  // envelope recipients, without <>
  std::string data{};             // the RFC 5322 message, LF or CRLF line ends, not dot-stuffed
  std::optional<std::string> auth_user{};  // SMTP AUTH PLAIN when set
  std::optional<std::string> auth_pass{};
  std::string helo = "client.test";
};

struct SubmitResult {
  std::string error;  // transport or protocol failure ("" when the dialogue ran)
  SmtpReply greeting, ehlo, auth, mail;
  std::vector<SmtpReply> rcpt;  // one per Message::to, in order, up to the first failure stage
  SmtpReply data;               // reply to DATA (354 expected)
  SmtpReply end;                // reply to the final "." (250 queued, 4xx, 5xx)
  std::vector<std::string> ehlo_keywords;  // e.g. "AUTH PLAIN LOGIN", "8BITMIME"
  // True when the message was queued (final reply 250).
  bool accepted() const { return end.code == 250; }
  // "queued as XXXX" from the final reply, or "".
  std::string queue_id() const;
};

// Connects to 127.0.0.1:port and runs EHLO, [AUTH PLAIN], MAIL, RCPT..., DATA, QUIT.
// Stops at the first stage the server refuses (later stages keep code 0). Lines of
// `data` get CRLF ends and dot-stuffing; a final line end is added when missing.
SubmitResult smtp_submit(std::uint16_t port, const Message& m,
                         std::chrono::seconds timeout = std::chrono::seconds(30));

// Turns LF or CRLF text into CRLF lines with leading dots doubled (RFC 5321 4.5.2),
// ending in CRLF. Exposed for tests.
std::string smtp_data_encode(std::string_view data);

}  // namespace harness
