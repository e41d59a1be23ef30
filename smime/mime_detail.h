// Internal to smime/: the text helpers shared by mime.cpp, canonical.cpp, sign.cpp and
// encrypt.cpp, and their streaming forms for bodies that live in files (temp_file.h).
// Each streaming class gives, over any split of its input into chunks, exactly the
// bytes (or the answer) of the whole-string function named beside it in mime.h.
// Thread-safety: one owner per object.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace smime::detail {

// RFC 5322 2.1.1: lines must be shorter than 998 octets (without CRLF).
inline constexpr std::size_t kMaxLine = 998;

bool has_8bit(std::string_view s);

// to_lf() in chunks: a CR at the end of a chunk is held until the next shows whether
// an LF follows; finish() writes a CR still held.
class ToLfStream {
 public:
  void feed(std::string_view in, std::string& out);
  void finish(std::string& out);

 private:
  bool held_cr_ = false;
};

// lf_to_crlf() in chunks (remembers whether the last byte was a CR).
class LfToCrlfStream {
 public:
  void feed(std::string_view in, std::string& out);

 private:
  bool last_cr_ = false;
};

// count_ci() in chunks: matches that straddle two chunks count once.
class CountCiStream {
 public:
  explicit CountCiStream(std::string needle) : needle_(std::move(needle)) {}
  void feed(std::string_view in);
  std::size_t count() const noexcept { return count_; }

 private:
  std::string needle_;
  std::string tail_;  // the last needle.size() - 1 bytes seen
  std::size_t count_ = 0;
};

// The longest line between CRLFs of CRLF text (a lone CR or LF is part of a line).
class LineLengthStream {
 public:
  void feed(std::string_view in);
  // The longest line so far, the current unterminated one included.
  std::size_t longest() const noexcept { return longest_ > current_ ? longest_ : current_; }

 private:
  std::size_t current_ = 0;
  std::size_t longest_ = 0;
  bool last_cr_ = false;
};

// needs_transfer_encoding() of LF text in chunks: 8-bit octets, NUL, CR, a line of
// 998 octets or more, or a line starting "From ".
class TransferCheck {
 public:
  void feed(std::string_view in);
  bool needs() const noexcept { return needs_; }

 private:
  bool needs_ = false;
  std::size_t line_ = 0;  // octets of the current line so far
  std::string start_;     // its first octets, up to 5 ("From ")
};

}  // namespace smime::detail
