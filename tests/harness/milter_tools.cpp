#include "tests/harness/milter_tools.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/common/test_support.h"

namespace harness {
namespace fs = std::filesystem;

namespace {

bool unix_socket_accepts(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  const std::string p = path.string();
  if (p.size() >= sizeof sa.sun_path) {
    ::close(fd);
    throw std::runtime_error("socket path too long: " + p);
  }
  std::memcpy(sa.sun_path, p.c_str(), p.size() + 1);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

fs::path null_milter_path() {
  return fs::path(SMIME_NULL_MILTER);
}

namespace {
// A Lua string literal holding `s` exactly (decimal escapes for anything unusual).
std::string lua_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"' || u < 0x20 || u >= 0x7f) {
      std::array<char, 8> esc{};
      std::snprintf(esc.data(), esc.size(), "\\%03u", static_cast<unsigned>(u));
      out += esc.data();
    } else {
      out += c;
    }
  }
  return out + "\"";
}
}  // namespace

// miltertest's -D cannot carry values holding '=', and it swallows the message of a
// Lua error(): a wrapper defines the globals, runs the script under pcall and prints
// the error before re-raising it.
MiltertestResult run_miltertest(const std::string& lua_script,
                                const std::map<std::string, std::string>& globals) {
  const testsupport::TempDir tmp;
  const fs::path script = tmp / "test.lua";
  const fs::path wrapper = tmp / "wrapper.lua";
  testsupport::write_file(script, lua_script);
  std::string w;
  for (const auto& [name, value] : globals) {
    w += name + " = " + lua_string(value) + "\n";
  }
  w += "local ok, err = pcall(dofile, " + lua_string(script.string()) + ")\n";
  w += "if not ok then\n  io.stderr:write(\"miltertest: script failed: \" .. tostring(err) .. "
       "\"\\n\")\n";
  w += "  error(err, 0)\nend\n";
  testsupport::write_file(wrapper, w);
  const auto r = testsupport::run({"miltertest", "-s", wrapper.string()});
  return {r.exit_code, r.out};
}

MilterProcess::MilterProcess(fs::path binary, std::vector<std::string> args, bool graceful)
    : graceful_(graceful) {
  // Under /tmp, not $TMPDIR: smtpd (user postfix) must traverse every parent.
  std::string templ = "/tmp/milter-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  dir_ = templ;
  ::chmod(dir_.c_str(), 0711);  // Postfix's smtpd (user postfix) must reach the socket
  socket_ = dir_ / "milter.sock";
  bool placed = false;
  for (auto& a : args) {
    if (const auto pos = a.find("{socket}"); pos != std::string::npos) {
      a.replace(pos, 8, libmilter_spec());
      placed = true;
    }
  }
  if (!placed) {
    args.push_back("-p");
    args.push_back(libmilter_spec());
  }
  std::vector<std::string> argv_s{binary.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  const std::string log = (dir_ / "output.log").string();
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!unix_socket_accepts(socket_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      const std::string out = output();
      fs::remove_all(dir_);
      throw std::runtime_error(binary.string() + " exited before listening: " + out);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      stop();
      const std::string out = output();
      fs::remove_all(dir_);
      throw std::runtime_error(binary.string() + " did not listen on " + socket_.string() + ": " +
                               out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

MilterProcess::~MilterProcess() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string MilterProcess::output() const {
  std::error_code ec;
  return fs::exists(dir_ / "output.log", ec) ? testsupport::read_file(dir_ / "output.log") : "";
}

int MilterProcess::stop() {
  if (pid_ <= 0) {
    return status_;
  }
  ::kill(pid_, graceful_ ? SIGTERM : SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return status_;
}

}  // namespace harness
