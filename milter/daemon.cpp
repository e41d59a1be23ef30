#include "milter/daemon.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace milter {
namespace {
policy::Error sys_error(policy::Errc code, const std::string& what) {
  return policy::unexpected(code, what + ": " + std::strerror(errno));
}
}  // namespace

policy::Status write_pid_file(const std::string& path) {
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      char buf[32] = {};
      const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
      ::close(fd);
      const long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
      if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) {
        return policy::unexpected(policy::Errc::kConflict,
                                  "pid file " + path + " names running process " +
                                      std::to_string(pid) + " (already running?)");
      }
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    return sys_error(policy::Errc::kIo, "cannot write pid file " + path);
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  const ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return sys_error(policy::Errc::kIo, "cannot write pid file " + path);
  }
  return {};
}

policy::Status drop_privileges(const std::string& user, const std::string& group,
                               const std::string& socket_path) {
  if (::geteuid() != 0) {
    return {};
  }
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* pwr = nullptr;
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pwr) != 0 || pwr == nullptr) {
    return policy::unexpected(policy::Errc::kConfig, "daemon.user '" + user + "' does not exist");
  }
  const uid_t uid = pw.pw_uid;
  gid_t gid = pw.pw_gid;
  if (!group.empty()) {
    std::vector<char> gbuf(16384);
    struct group gr {};
    struct group* grr = nullptr;
    if (::getgrnam_r(group.c_str(), &gr, gbuf.data(), gbuf.size(), &grr) != 0 || grr == nullptr) {
      return policy::unexpected(policy::Errc::kConfig,
                                "daemon.group '" + group + "' does not exist");
    }
    gid = gr.gr_gid;
  }
  if (!socket_path.empty() && ::lchown(socket_path.c_str(), uid, gid) != 0) {
    return sys_error(policy::Errc::kIo, "cannot chown socket " + socket_path);
  }
  if (uid == 0) {
    return {};  // configured to stay root (tests, containers)
  }
  if (::initgroups(pw.pw_name, gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    return sys_error(policy::Errc::kPermission, "cannot drop privileges to " + user);
  }
  if (::setuid(0) == 0) {
    return policy::unexpected(policy::Errc::kPermission, "could regain root after dropping it");
  }
  return {};
}

}  // namespace milter
