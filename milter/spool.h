// BodySpool: the body of one message, kept in memory up to a threshold and spooled to
// a private temporary file (mkstemp, mode 0600) beyond it, so a connection's memory
// stays bounded whatever the message size. The file is unlinked by clear() and by the
// destructor, so an aborted or crashed-out message leaves nothing behind.
// Thread-safety: one owner (the Session of one connection).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "policy/result.h"

namespace milter {

class BodySpool {
 public:
  BodySpool(std::filesystem::path dir, std::size_t threshold);
  ~BodySpool();
  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;

  // Appends a chunk; past the threshold the data moves to the spool file.
  policy::Status append(std::span<const std::byte> chunk);
  // The whole body (read back from the file when spooled).
  policy::Result<std::string> contents() const;
  std::size_t size() const noexcept { return size_; }
  bool spooled() const noexcept { return fd_ >= 0; }
  // The spool file's descriptor while spooled() (read it with pread), else -1.
  int fd() const noexcept { return fd_; }
  // Path of the spool file while spooled(), else empty.
  const std::filesystem::path& path() const noexcept { return path_; }
  // Drops the data and removes the spool file.
  void clear() noexcept;

 private:
  policy::Status spill();
  policy::Status write_all(const char* data, std::size_t len);

  std::filesystem::path dir_;
  std::size_t threshold_;
  std::string memory_;
  std::size_t size_ = 0;
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace milter
