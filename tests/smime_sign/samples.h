// Test-only: sample messages for signing and encryption, including the tricky MIME
// shapes that break gateway signatures in the field (see FIELD-NOTES.md).
#pragma once

#include <string>
#include <vector>

namespace signtest {

struct Sample {
  std::string name;
  std::string message;  // full RFC 5322 message
  std::string marker;   // text that must be readable in the protected entity (7-bit form)
};

// A short plain-text message with CRLF line ends.
std::string simple_message();
// Indonesian UTF-8 8-bit text, lines over 998 octets, binary attachment, nested
// multiparts, bare-LF input, preamble and epilogue, folded and RFC 2047 headers,
// HTML with inline images.
std::vector<Sample> tricky_samples();
// The bytes of the binary attachment in the "binary_attachment" sample.
std::string binary_bytes();

}  // namespace signtest
