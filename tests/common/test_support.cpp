#include "tests/common/test_support.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace testsupport {
namespace fs = std::filesystem;

namespace {
fs::path build_dir() {
#ifdef SMIME_BINARY_DIR
  return fs::path(SMIME_BINARY_DIR);
#else
  return fs::temp_directory_path();
#endif
}
}  // namespace

const fs::path& pki_dir() {
  static const fs::path dir = [] {
    const fs::path target = build_dir() / "test-pki";
    const fs::path lock_path = build_dir() / "test-pki.lock";
    const int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      throw std::runtime_error("cannot lock " + lock_path.string());
    }
    if (!fs::exists(target / ".complete")) {
      fs::remove_all(target);
      const std::string script = std::string(SMIME_SOURCE_DIR) + "/tests/common/make_pki.sh";
      const auto r = run({"bash", script, target.string()});
      if (r.exit_code != 0) {
        ::close(lock);
        throw std::runtime_error("make_pki.sh failed: " + r.out);
      }
      write_file(target / ".complete", "ok\n");
    }
    ::close(lock);
    return target;
  }();
  return dir;
}

fs::path pki(std::string_view name) {
  return pki_dir() / name;
}

fs::path corpus_dir() {
  if (const char* env = std::getenv("SMIME_CORPUS_DIR"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
#ifdef SMIME_CORPUS_DEFAULT
  return fs::path(SMIME_CORPUS_DEFAULT);
#else
  return fs::path(SMIME_SOURCE_DIR) / ".." / "shared" / "corpus";
#endif
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + p.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, std::string_view data, unsigned mode) {
  const int fd = ::open(p.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) {
    throw std::runtime_error("cannot write " + p.string());
  }
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("short write to " + p.string());
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  ::chmod(p.c_str(), mode);
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "smime-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CommandResult run(const std::vector<std::string>& argv, std::string_view input) {
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(out_pipe[1], 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  std::thread writer([fd = in_pipe[1], input] {
    size_t off = 0;
    while (off < input.size()) {
      const ssize_t n = ::write(fd, input.data() + off, input.size() - off);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;
      }
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  CommandResult result;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    result.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  writer.join();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace testsupport
