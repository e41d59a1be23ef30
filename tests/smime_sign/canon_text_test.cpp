// Exact outputs of the line-end and search helpers behind canonical_entity and the
// verify side (smime::to_lf, smime::lf_to_crlf, smime::count_ci from mime.h and
// smime::to_crlf from parse_mime.h). Written against the byte-by-byte originals before
// they were rewritten for speed, so they pin the behaviour the rewrite had to keep:
// lone CR, CR CR LF, CRLF already present, a last line without a line end, 1 MB inputs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "smime/mime.h"
#include "smime/parse_mime.h"

namespace {

struct Case {
  std::string in;
  std::string out;
};

// Deterministic bytes drawn mostly from CR, LF and a few letters (both cases), so that
// every pairing of line ends occurs many times; `n` bytes long.
std::string line_end_soup(std::size_t n, std::uint32_t seed) {
  static constexpr std::string_view kAlphabet("\r\n\r\nabAB=:\r\n\xC4\x00", 14);
  std::string s;
  s.reserve(n);
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1664525U + 1013904223U;  // LCG, Numerical Recipes constants
    s.push_back(kAlphabet[(x >> 16) % kAlphabet.size()]);
  }
  return s;
}

// Reference versions: the byte-by-byte originals, kept here as the oracle for big inputs.
std::string ref_to_lf(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string ref_lf_to_crlf(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      out.push_back('\r');
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string ref_to_crlf(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += "\r\n";
      if (i + 1 < s.size() && s[i + 1] == '\n') {
        ++i;
      }
    } else if (s[i] == '\n') {
      out += "\r\n";
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::size_t ref_count_ci(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < needle.size() && match; ++j) {
      char c = hay[i + j];
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
      match = c == needle[j];
    }
    n += match ? 1U : 0U;
  }
  return n;
}

TEST(CanonText, ToLfExactOutputs) {
  const std::vector<Case> cases = {
      {"", ""},
      {"\r", "\r"},
      {"\n", "\n"},
      {"\r\n", "\n"},
      {"\r\r", "\r\r"},
      {"\r\r\n", "\r\n"},
      {"\r\n\r\n", "\n\n"},
      {"\n\r", "\n\r"},
      {"\r\n\n\r", "\n\n\r"},
      {"abc", "abc"},
      {"a\r\nb", "a\nb"},
      {"a\r\nb\r\n", "a\nb\n"},
      {"a\nb\r\nc\rd\r", "a\nb\nc\rd\r"},
      {std::string("a\0\r\n\0b", 6), std::string("a\0\n\0b", 5)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(smime::to_lf(c.in), c.out) << "input of " << c.in.size() << " bytes";
  }
}

TEST(CanonText, LfToCrlfExactOutputs) {
  const std::vector<Case> cases = {
      {"", ""},
      {"\r", "\r"},
      {"\n", "\r\n"},
      {"\r\n", "\r\n"},
      {"\r\r", "\r\r"},
      {"\r\r\n", "\r\r\n"},
      {"\n\n", "\r\n\r\n"},
      {"\n\r", "\r\n\r"},
      {"\r\n\n", "\r\n\r\n"},
      {"abc", "abc"},
      {"a\nb", "a\r\nb"},
      {"a\r\nb\n", "a\r\nb\r\n"},
      {"a\nb\r\nc\rd\r", "a\r\nb\r\nc\rd\r"},
      {std::string("\0\n\0", 3), std::string("\0\r\n\0", 4)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(smime::lf_to_crlf(c.in), c.out) << "input of " << c.in.size() << " bytes";
  }
}

TEST(CanonText, ParseToCrlfAlsoCanonicalisesLoneCr) {
  const std::vector<Case> cases = {
      {"", ""},
      {"\r", "\r\n"},
      {"\n", "\r\n"},
      {"\r\n", "\r\n"},
      {"\r\r", "\r\n\r\n"},
      {"\r\r\n", "\r\n\r\n"},
      {"\n\r", "\r\n\r\n"},
      {"\n\n", "\r\n\r\n"},
      {"\r\n\n", "\r\n\r\n"},
      {"abc", "abc"},
      {"a\rb", "a\r\nb"},
      {"a\nb\r\nc\rd", "a\r\nb\r\nc\r\nd"},
      {"x\r", "x\r\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(smime::to_crlf(c.in), c.out) << "input of " << c.in.size() << " bytes";
  }
}

TEST(CanonText, CountCiExactResults) {
  EXPECT_EQ(smime::count_ci("", "boundary="), 0U);
  EXPECT_EQ(smime::count_ci("boundary", "boundary="), 0U);
  EXPECT_EQ(smime::count_ci("boundary=", "boundary="), 1U);
  EXPECT_EQ(smime::count_ci("BOUNDARY=x; Boundary=y bOuNdArY=", "boundary="), 3U);
  EXPECT_EQ(smime::count_ci("Message/RFC822\r\nmessage/rfc822", "message/rfc822"), 2U);
  EXPECT_EQ(smime::count_ci("aaaa", "aa"), 3U);  // overlapping matches count
  EXPECT_EQ(smime::count_ci("AaAa", "aa"), 3U);
  EXPECT_EQ(smime::count_ci("boundary\xC4=", "boundary="), 0U);
  // Only ASCII letters fold: '[' (0x5B) is not '{' and 0xC4 is not 0xE4.
  EXPECT_EQ(smime::count_ci("[", "{"), 0U);
  EXPECT_EQ(smime::count_ci("@", "`"), 0U);
  EXPECT_EQ(smime::count_ci("abc", ""), 3U);
}

TEST(CanonText, OneMegabyteMatchesTheByteByByteOriginals) {
  for (std::uint32_t seed : {1U, 2U, 3U}) {
    const std::string soup = line_end_soup(std::size_t{1} << 20, seed);
    EXPECT_EQ(smime::to_lf(soup), ref_to_lf(soup)) << "seed " << seed;
    EXPECT_EQ(smime::lf_to_crlf(soup), ref_lf_to_crlf(soup)) << "seed " << seed;
    EXPECT_EQ(smime::to_crlf(soup), ref_to_crlf(soup)) << "seed " << seed;
    EXPECT_EQ(smime::count_ci(soup, "ab"), ref_count_ci(soup, "ab")) << "seed " << seed;
    EXPECT_EQ(smime::count_ci(soup, "=\n"), ref_count_ci(soup, "=\n")) << "seed " << seed;
  }
  // A 1 MB message of ordinary LF lines: every line gains exactly one CR, and back.
  std::string lines;
  while (lines.size() < (std::size_t{1} << 20)) {
    lines += "The quick brown fox jumps over the lazy dog, boundary=\"x\"\n";
  }
  const std::string crlf = smime::lf_to_crlf(lines);
  const auto newlines = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
  EXPECT_EQ(crlf.size(), lines.size() + newlines);
  EXPECT_EQ(smime::to_crlf(lines), crlf);
  EXPECT_EQ(smime::lf_to_crlf(crlf), crlf);
  EXPECT_EQ(smime::to_lf(crlf), lines);
  EXPECT_EQ(smime::count_ci(crlf, "boundary="), newlines);
  EXPECT_EQ(smime::count_ci(crlf, "the "), 2 * newlines);
}

}  // namespace
