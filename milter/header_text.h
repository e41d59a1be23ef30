// Header field values as policy rules see them: unfolded and RFC 2047 decoded, so a
// rule on a Subject tag like "[secure]" also matches when the client sent
// "=?utf-8?q?=5Bsecure=5D_Bericht?=" (Thunderbird and Outlook encode any Subject that
// holds a non-ASCII character, tag included).
// Ownership: values in, std::string out; GMime's buffers never leave the .cpp.
// Thread-safety: reentrant (initialises GMime once through smime::mime_init()).
#pragma once

#include <string>
#include <string_view>

namespace milter {

// The text of an unstructured header field value (RFC 5322 2.2.1, 3.2.2), in UTF-8:
// - unfolded: CR and LF are dropped (a folded line keeps its leading whitespace), NUL
//   too (GMime reads C strings; nothing after a NUL may go unseen);
// - encoded words (RFC 2047 Q and B, any charset iconv knows) decoded, whitespace
//   between adjacent encoded words dropped (RFC 2047 6.2); 8-bit octets that are not
//   UTF-8 are read as ISO-8859-1 (GMime's fallback charsets);
// - a malformed encoded word (e.g. no closing "?=") is kept as is;
// - CR and LF an encoded word decodes to are dropped as well: the result is one line;
// - surrounding spaces and tabs trimmed.
// "" for an empty or all-whitespace value.
std::string decode_header_text(std::string_view raw);

// The reverse, for a value the milter writes (a Subject without its tag): UTF-8 text
// with a non-ASCII character becomes RFC 2047 encoded words (charset utf-8), so no raw
// 8-bit octet goes into a header; ASCII text is returned as is. CR, LF and NUL dropped.
std::string encode_header_text(std::string_view text);

}  // namespace milter
