#include "smime/temp_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace smime {
namespace {

using policy::Errc;
using policy::unexpected;

constexpr std::size_t kChunk = 256U * 1024U;

policy::Error io_error(std::string_view what, const std::filesystem::path& p) {
  return unexpected(Errc::kIo, std::string(what) + " " + p.string() + ": " + std::strerror(errno));
}

}  // namespace

policy::Result<TempFile> TempFile::create(const std::filesystem::path& dir) {
  const std::string templ = (dir / "smime-milter.XXXXXX").string();
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  // mkostemp creates the file with mode 0600 whatever the umask.
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    return io_error("cannot create a temporary file in", dir);
  }
  return TempFile(fd, std::filesystem::path(name.data()));
}

TempFile::TempFile(TempFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {
  other.path_.clear();
}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempFile::~TempFile() {
  reset();
}

void TempFile::reset() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
}

std::uint64_t file_size(int fd) noexcept {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    return 0;
  }
  return static_cast<std::uint64_t>(st.st_size);
}

policy::Status TempFile::write_at(std::uint64_t offset, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return io_error("cannot write", path_);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

policy::Status TempFile::append(std::string_view data) {
  return write_at(size(), data);
}

policy::Result<std::string> TempFile::read_at(std::uint64_t offset, std::size_t len) const {
  std::string out(len, '\0');
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io_error("cannot read", path_);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

policy::Result<std::string> TempFile::contents() const {
  return read_at(0, static_cast<std::size_t>(size()));
}

policy::Status for_each_chunk(int fd, std::uint64_t offset, const ChunkSink& sink) {
  std::vector<char> buf(kChunk);
  for (;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return unexpected(Errc::kIo, std::string("cannot read a body file: ") + std::strerror(errno));
    }
    if (n == 0) {
      return {};
    }
    if (auto st = sink(std::string_view(buf.data(), static_cast<std::size_t>(n))); !st) {
      return st;
    }
    offset += static_cast<std::uint64_t>(n);
  }
}

policy::Result<bool> file_contains(int fd, std::uint64_t offset, std::string_view needle) {
  bool found = false;
  std::string hay;
  auto st = for_each_chunk(fd, offset, [&](std::string_view chunk) -> policy::Status {
    const std::size_t keep = std::min(hay.size(), needle.size() - 1);
    hay.erase(0, hay.size() - keep);
    hay.append(chunk);
    found = found || hay.find(needle) != std::string::npos;
    return {};
  });
  if (!st) {
    return st.error();
  }
  return found;
}

}  // namespace smime
