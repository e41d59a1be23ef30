// Sample messages for the integration tests: non-ASCII UTF-8 (Indonesian) text, a long
// but legal line, a line starting with a dot, and a base64 binary attachment holding
// every byte value. Deterministic (no randomness), LF line ends. Test-only code.
#pragma once

#include <string>

namespace integration {

// Bytes of the attachment: 0..255 repeated, then a pseudo-random tail (fixed seed).
std::string sample_binary(std::size_t size = 6000);

// RFC 2045 base64 with 76-character lines, each ending in LF.
std::string base64_lines(const std::string& data);

// Decodes base64 (line breaks and other non-alphabet characters skipped).
std::string base64_decode(const std::string& text);

// A line of exactly `octets` octets of printable ASCII (no line end).
std::string long_line(std::size_t octets, char fill = 'x');

// The Indonesian UTF-8 paragraph used in the text part.
std::string indonesian_text();

// A multipart/mixed message from alice@example.org to bob@example.net: a text/plain
// UTF-8 8bit part (indonesian_text(), a 990-octet line, a dot line) and an
// application/octet-stream base64 attachment (sample_binary()). `subject_tag` is put
// into the Subject so messages can be told apart.
std::string sample_message(const std::string& subject_tag = "sample");

}  // namespace integration
