// The byte-level text helpers of mime.h (line ends, case-insensitive counting) and
// their streaming forms (mime_detail.h).
#include <algorithm>

#include "smime/mime.h"
#include "smime/mime_detail.h"

namespace smime {
namespace {

// Occurrences of byte `c` in `s`, one memchr per occurrence (std::count is a byte loop).
std::size_t count_byte(std::string_view s, char c) {
  std::size_t n = 0;
  for (std::size_t i = s.find(c); i != std::string_view::npos; i = s.find(c, i + 1)) {
    ++n;
  }
  return n;
}

bool bad_7bit_octet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0 || u == '\r' || u >= 0x80;
}

}  // namespace

// CRLF -> LF (a lone CR stays). Copies whole runs between CRLFs.
std::string to_lf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t cr = s.find("\r\n"); cr != std::string_view::npos; cr = s.find("\r\n", pos)) {
    out.append(s.substr(pos, cr - pos));
    pos = cr + 1;  // the LF starts the next run; the CR is dropped
  }
  out.append(s.substr(pos));
  return out;
}

// Lone LF -> CRLF (existing CRLF and lone CR kept). Copies whole runs between lone LFs,
// into a buffer reserved once for the worst case.
std::string lf_to_crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + count_byte(s, '\n'));
  std::size_t pos = 0;
  for (std::size_t lf = s.find('\n'); lf != std::string_view::npos; lf = s.find('\n', lf + 1)) {
    if (lf == 0 || s[lf - 1] != '\r') {
      out.append(s.substr(pos, lf - pos));
      out += "\r\n";
      pos = lf + 1;
    }
  }
  out.append(s.substr(pos));
  return out;
}

// Occurrences of lowercase `needle` in `hay`, folding ASCII letters only (no tolower,
// no locale), without copying `hay`: memchr for the first byte in either case, then a
// comparison of the rest.
std::size_t count_ci(std::string_view hay, std::string_view needle) {
  if (needle.empty()) {
    return hay.size();
  }
  if (hay.size() < needle.size()) {
    return 0;
  }
  const auto fold = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  };
  const char lo_first = needle.front();
  const char up_first =
      (lo_first >= 'a' && lo_first <= 'z') ? static_cast<char>(lo_first - ('a' - 'A')) : lo_first;
  constexpr std::size_t kNone = std::string_view::npos;
  const std::size_t last = hay.size() - needle.size();
  std::size_t lo = hay.find(lo_first);
  std::size_t up = up_first == lo_first ? kNone : hay.find(up_first);
  std::size_t n = 0;
  for (std::size_t i = std::min(lo, up); i != kNone && i <= last; i = std::min(lo, up)) {
    std::size_t j = 0;
    while (j < needle.size() && fold(hay[i + j]) == needle[j]) {
      ++j;
    }
    n += j == needle.size() ? 1U : 0U;
    if (i == lo) {
      lo = hay.find(lo_first, i + 1);
    } else {
      up = hay.find(up_first, i + 1);
    }
  }
  return n;
}

namespace detail {

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0x80U) != 0; });
}

void ToLfStream::feed(std::string_view in, std::string& out) {
  if (in.empty()) {
    return;
  }
  if (held_cr_) {
    held_cr_ = false;
    if (in.front() != '\n') {
      out += '\r';  // a lone CR: kept
    }
  }
  const bool ends_cr = in.back() == '\r';
  if (ends_cr) {
    in.remove_suffix(1);
  }
  out.append(to_lf(in));
  held_cr_ = ends_cr;
}

void ToLfStream::finish(std::string& out) {
  if (held_cr_) {
    out += '\r';
    held_cr_ = false;
  }
}

void LfToCrlfStream::feed(std::string_view in, std::string& out) {
  if (in.empty()) {
    return;
  }
  const bool ends_cr = in.back() == '\r';
  if (in.front() == '\n') {  // its CR, if any, ended the previous chunk
    out.append(last_cr_ ? "\n" : "\r\n");
    in.remove_prefix(1);
  }
  out.append(lf_to_crlf(in));
  last_cr_ = ends_cr;
}

void CountCiStream::feed(std::string_view in) {
  if (needle_.empty()) {
    count_ += in.size();
    return;
  }
  std::string hay = tail_;
  hay.append(in);
  count_ += count_ci(hay, needle_);
  const std::size_t keep = std::min(hay.size(), needle_.size() - 1);
  tail_ = hay.substr(hay.size() - keep);
}

void LineLengthStream::feed(std::string_view in) {
  std::size_t pos = 0;
  for (std::size_t lf = in.find('\n'); lf != std::string_view::npos; lf = in.find('\n', pos)) {
    const bool crlf = lf > 0 ? in[lf - 1] == '\r' : last_cr_;
    current_ += lf - pos;
    if (crlf) {
      longest_ = std::max(longest_, current_ - 1);  // without the CR
      current_ = 0;
    } else {
      current_ += 1;  // a lone LF belongs to the line
    }
    pos = lf + 1;
  }
  current_ += in.size() - pos;
  if (!in.empty()) {
    last_cr_ = in.back() == '\r';
  }
}

void TransferCheck::feed(std::string_view in) {
  if (needs_) {
    return;
  }
  if (std::any_of(in.begin(), in.end(), bad_7bit_octet)) {
    needs_ = true;
    return;
  }
  std::size_t pos = 0;
  while (pos <= in.size()) {
    const std::size_t lf = in.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? in.size() : lf;
    const std::string_view part = in.substr(pos, end - pos);
    line_ += part.size();
    if (start_.size() < 5) {
      start_.append(part.substr(0, 5 - start_.size()));
    }
    if (line_ >= kMaxLine || start_ == "From ") {
      needs_ = true;
      return;
    }
    if (lf == std::string_view::npos) {
      return;
    }
    line_ = 0;
    start_.clear();
    pos = lf + 1;
  }
}

}  // namespace detail
}  // namespace smime
