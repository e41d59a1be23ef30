// TempFile: a private scratch file (mkostemp, mode 0600, O_CLOEXEC) that is unlinked
// and closed when its owner goes, so an error path or an exception leaves nothing on
// disk. The file-based signing and encryption (sign.h sign_file, encrypt.h
// encrypt_file) write their intermediate and final bodies into TempFiles in the
// milter's spool directory, so memory does not grow with the message.
// FileMessage: a message held as its header block in memory and its body in a file.
// Ownership: a TempFile owns its descriptor and its name. Thread-safety: one owner.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "policy/result.h"

namespace smime {

// Size of the file behind `fd` (fstat); 0 on error.
std::uint64_t file_size(int fd) noexcept;

class TempFile {
 public:
  // A new empty file "smime-milter.XXXXXX" in `dir`. Errc::kIo when it cannot be made.
  static policy::Result<TempFile> create(const std::filesystem::path& dir);

  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  int fd() const noexcept { return fd_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  // Current size (fstat); 0 on error.
  std::uint64_t size() const noexcept { return file_size(fd_); }
  // Appends at the end of the file.
  policy::Status append(std::string_view data);
  // Writes at `offset` (does not move the append position).
  policy::Status write_at(std::uint64_t offset, std::string_view data);
  // Reads [offset, offset + len) ; short at end of file.
  policy::Result<std::string> read_at(std::uint64_t offset, std::size_t len) const;
  // The whole content (tests, `smimectl process`: small messages only).
  policy::Result<std::string> contents() const;

 private:
  TempFile(int fd, std::filesystem::path path) noexcept : fd_(fd), path_(std::move(path)) {}
  void reset() noexcept;

  int fd_ = -1;
  std::filesystem::path path_;
};

// A message whose body lives in a file: `headers` is the header block, each field
// ending in CRLF, without the blank line; `body` the body with CRLF line ends.
struct FileMessage {
  std::string headers;
  TempFile body;
};

// Reads the file behind `fd` from `offset` to its end in chunks (pread, 256 KiB) and
// hands each to `sink`; stops at the first error, the sink's or a read's (Errc::kIo).
// Every streaming pass over a body file goes through here.
using ChunkSink = std::function<policy::Status(std::string_view)>;
policy::Status for_each_chunk(int fd, std::uint64_t offset, const ChunkSink& sink);

// Whether `needle` (not empty) occurs in the file behind `fd` from `offset` on.
policy::Result<bool> file_contains(int fd, std::uint64_t offset, std::string_view needle);

}  // namespace smime
