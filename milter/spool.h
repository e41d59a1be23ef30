// BodySpool: the body of one message, kept in memory up to a threshold and spooled to
// a private temporary file (smime::TempFile: mkostemp, mode 0600) beyond it, so a
// connection's memory stays bounded whatever the message size. The file is unlinked by
// clear() and by the destructor, so an aborted or crashed-out message leaves nothing
// behind.
// Thread-safety: one owner (the Session of one connection).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "policy/result.h"
#include "smime/temp_file.h"

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
  bool spooled() const noexcept { return file_.has_value(); }
  // The spool file's descriptor while spooled() (read it with pread), else -1.
  int fd() const noexcept { return file_ ? file_->fd() : -1; }
  // Path of the spool file while spooled(), else empty.
  std::filesystem::path path() const { return file_ ? file_->path() : std::filesystem::path(); }
  // Drops the data and removes the spool file.
  void clear() noexcept;

 private:
  policy::Status spill();

  std::filesystem::path dir_;
  std::size_t threshold_;
  std::string memory_;
  std::size_t size_ = 0;
  std::optional<smime::TempFile> file_;
};

}  // namespace milter
