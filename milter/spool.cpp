#include "milter/spool.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace milter {
namespace {
std::string errno_text(const char* what, const std::filesystem::path& p) {
  return std::string(what) + " " + p.string() + ": " + std::strerror(errno);
}
}  // namespace

BodySpool::BodySpool(std::filesystem::path dir, std::size_t threshold)
    : dir_(std::move(dir)), threshold_(threshold) {}

BodySpool::~BodySpool() {
  clear();
}

void BodySpool::clear() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
  memory_.clear();
  memory_.shrink_to_fit();
  size_ = 0;
}

policy::Status BodySpool::write_all(const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd_, data, len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return policy::unexpected(policy::Errc::kIo, errno_text("cannot write spool file", path_));
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return {};
}

policy::Status BodySpool::spill() {
  std::string templ = (dir_ / "smime-milter.XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  // mkstemp creates the file with mode 0600 whatever the umask (glibc >= 2.07).
  const int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) {
    return policy::unexpected(policy::Errc::kIo, errno_text("cannot create spool file in", dir_));
  }
  fd_ = fd;
  path_ = buf.data();
  auto st = write_all(memory_.data(), memory_.size());
  memory_.clear();
  memory_.shrink_to_fit();
  return st;
}

policy::Status BodySpool::append(std::span<const std::byte> chunk) {
  const auto* data = reinterpret_cast<const char*>(chunk.data());
  if (fd_ < 0 && size_ + chunk.size() > threshold_) {
    if (auto st = spill(); !st) {
      return st;
    }
  }
  size_ += chunk.size();
  if (fd_ >= 0) {
    return write_all(data, chunk.size());
  }
  memory_.append(data, chunk.size());
  return {};
}

policy::Result<std::string> BodySpool::contents() const {
  if (fd_ < 0) {
    return memory_;
  }
  std::string out(size_, '\0');
  std::size_t done = 0;
  while (done < size_) {
    const ssize_t n = ::pread(fd_, out.data() + done, size_ - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return policy::unexpected(policy::Errc::kIo, errno_text("cannot read spool file", path_));
    }
    done += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace milter
