#include "tests/harness/postfix_fixture.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <set>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

#include "tests/common/test_support.h"

namespace harness {
namespace fs = std::filesystem;

namespace {

constexpr milliseconds kPoll{25};
constexpr int kExitPortRace = 75;  // postfix-instance.sh: a picked port was taken

std::map<std::string, std::string> read_env_file(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (const auto eq = line.find('='); eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return out;
}

std::uint16_t to_port(const std::string& s) {
  const int v = std::stoi(s);
  if (v <= 0 || v > 65535) {
    throw std::runtime_error("bad port " + s);
  }
  return static_cast<std::uint16_t>(v);
}

std::string read_proc_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Paths smtp-sink (pid in dir/sink.pid) currently holds open: dumps still being written.
std::set<fs::path> open_by_sink(const fs::path& dir) {
  std::set<fs::path> open;
  std::ifstream pidfile(dir / "sink.pid");
  std::string pid;
  if (!(pidfile >> pid)) {
    return open;
  }
  std::error_code ec;
  for (fs::directory_iterator it("/proc/" + pid + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code lec;
    const fs::path target = fs::read_symlink(it->path(), lec);
    if (!lec) {
      open.insert(target);
    }
  }
  return open;
}

}  // namespace

fs::path instance_script() {
  return fs::path(SMIME_SOURCE_DIR) / "tests" / "harness" / "postfix-instance.sh";
}

PostfixInstance::PostfixInstance(InstanceOptions options) : options_(std::move(options)) {
  // A free port can still be taken by someone else between the script's check and
  // the bind (the script then exits 75): start again with new ports before giving up.
  constexpr int kAttempts = 3;
  std::string errors;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    int exit_code = 0;
    std::string error;
    if (try_start(exit_code, error)) {
      return;
    }
    errors += "attempt " + std::to_string(attempt) + ": " + error + "\n";
    if (exit_code != kExitPortRace) {
      break;
    }
  }
  throw std::runtime_error("postfix-instance.sh start failed:\n" + errors);
}

bool PostfixInstance::try_start(int& exit_code, std::string& error) {
  // Under /tmp, not $TMPDIR: Postfix daemons (user postfix) must traverse every parent.
  std::string templ = "/tmp/pfx-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  dir_ = templ;
  start_watchdog();
  std::vector<std::string> argv{"bash", instance_script().string(), "start", dir_.string()};
  for (const auto& m : options_.milters) {
    argv.push_back("--milter=" + m);
  }
  argv.push_back("--milter-default-action=" + options_.milter_default_action);
  for (const auto& [user, pass] : options_.sasl_users) {
    argv.push_back("--sasl=" + user + ":" + pass);
  }
  for (const auto& o : options_.sink_options) {
    argv.push_back("--sink-opt=" + o);
  }
  for (const auto& line : options_.main_cf) {
    argv.push_back("-o");
    argv.push_back(line);
  }
  const auto r = testsupport::run(argv);
  if (r.exit_code != 0) {
    end_watchdog();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    exit_code = r.exit_code;
    error = "exit " + std::to_string(r.exit_code) + ": " + r.out;
    return false;
  }
  running_ = true;
  const auto env = read_env_file(dir_ / "instance.env");
  smtp_port_ = to_port(env.at("SMTP_PORT"));
  sink_port_ = to_port(env.at("SINK_PORT"));
  syslog_name_ = env.at("SYSLOG_NAME");
  return true;
}

PostfixInstance::~PostfixInstance() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "PostfixInstance: %s\n", e.what());
  }
}

void PostfixInstance::stop() {
  if (running_) {
    running_ = false;
    const auto r = testsupport::run({"bash", instance_script().string(), "stop", dir_.string()});
    end_watchdog();
    if (r.exit_code != 0) {
      throw std::runtime_error("postfix-instance.sh stop " + dir_.string() + " failed: " + r.out);
    }
  }
  end_watchdog();
}

// The watchdog is a shell that reads one line from a pipe whose write end only this
// process holds. "done" means we stopped the instance ourselves; EOF means this
// process died without unwinding, and the watchdog stops the instance.
void PostfixInstance::start_watchdog() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  const std::string script = instance_script().string();
  const std::string dir = dir_.string();
  const char* argv[] = {
      "/bin/bash",
      "-c",
      "IFS= read -r line; if [ \"$line\" != done ]; then exec bash \"$0\" stop \"$1\"; fi",
      script.c_str(),
      dir.c_str(),
      nullptr};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::setsid();  // survive a kill of the test's process group
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(fds[0], 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execv("/bin/bash", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_fd_ = fds[1];
  watchdog_pid_ = pid;
}

void PostfixInstance::end_watchdog() {
  if (watchdog_fd_ >= 0) {
    static constexpr char kDone[] = "done\n";
    [[maybe_unused]] const ssize_t n = ::write(watchdog_fd_, kDone, sizeof kDone - 1);
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
  }
  if (watchdog_pid_ > 0) {
    int status = 0;
    ::waitpid(watchdog_pid_, &status, 0);
    watchdog_pid_ = -1;
  }
}

std::string PostfixInstance::log() const {
  return testsupport::read_file(log_file());
}

bool PostfixInstance::wait_for_log(std::string_view needle, milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::error_code ec;
    if (fs::exists(log_file(), ec) && log().find(needle) != std::string::npos) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

SubmitResult PostfixInstance::submit(const Message& m) const {
  return smtp_submit(smtp_port_, m);
}

std::pair<int, std::string> PostfixInstance::sendmail(const std::string& from,
                                                      const std::vector<std::string>& to,
                                                      const std::string& data) const {
  std::vector<std::string> argv{
      "/usr/sbin/sendmail", "-C", config_dir().string(), "-f", from, "-i", "--"};
  argv.insert(argv.end(), to.begin(), to.end());
  const auto r = testsupport::run(argv, data);
  return {r.exit_code, r.out};
}

std::vector<CapturedMessage> PostfixInstance::captured() const {
  // smtp-sink creates a dump at MAIL FROM and closes it after the final "." (never to
  // reopen it). List the directory first and ask which files are open second: a file
  // created in between is then either listed as open or not listed at all.
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  std::error_code ec;
  for (fs::directory_iterator it(sink_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) {
      files.emplace_back(it->last_write_time(fec), it->path());
    }
  }
  const auto open = open_by_sink(dir_);
  std::erase_if(files, [&](const auto& f) { return open.count(f.second) != 0; });
  std::sort(files.begin(), files.end());
  std::vector<CapturedMessage> out;
  out.reserve(files.size());
  for (const auto& f : files) {
    std::ifstream in(f.second, std::ios::binary);
    if (!in) {
      continue;  // an aborted transaction's dump (RSET): smtp-sink unlinked it
    }
    std::ostringstream text;
    text << in.rdbuf();
    out.push_back(parse_sink_dump(text.str(), f.second));
  }
  return out;
}

std::vector<CapturedMessage> PostfixInstance::wait_for_messages(std::size_t n,
                                                                milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Also wait for the queue to drain: one message may reach the sink in several
    // transactions, and a test must not see the rest arrive after it looked.
    auto got = captured();
    if ((got.size() >= n && queue_is_empty()) || std::chrono::steady_clock::now() >= deadline) {
      return got;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

void PostfixInstance::clear_captured() const {
  for (const auto& m : captured()) {
    fs::remove(m.file);
  }
}

std::vector<std::string> PostfixInstance::queue_ids() const {
  std::vector<std::string> ids;
  for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold"}) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(queue_dir() / q, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        ids.push_back(it->path().filename().string());
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());  // moved while we looked
  return ids;
}

// A queue file moving between active and deferred while we scan can be missed by one
// scan; two empty scans in a row, 25 ms apart, do not miss a message being retried.
bool PostfixInstance::queue_is_empty() const {
  if (!queue_ids().empty()) {
    return false;
  }
  std::this_thread::sleep_for(kPoll);
  return queue_ids().empty();
}

std::string PostfixInstance::postqueue_json() const {
  const auto r = testsupport::run({"/usr/sbin/postqueue", "-c", config_dir().string(), "-j"});
  if (r.exit_code != 0) {
    throw std::runtime_error("postqueue -j failed: " + r.out);
  }
  return r.out;
}

bool PostfixInstance::wait_for_queue_empty(milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (queue_is_empty()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

std::vector<pid_t> PostfixInstance::pids() const {
  return processes_of(dir_);
}

std::vector<pid_t> processes_of(const fs::path& dir) {
  const std::string env_needle = "MAIL_CONFIG=" + (dir / "etc").string();
  const std::string cmd_needle = dir.string();
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) {
      continue;
    }
    std::string env = read_proc_file(it->path() / "environ");
    std::replace(env.begin(), env.end(), '\0', '\n');
    std::string cmd = read_proc_file(it->path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    const bool env_match = ("\n" + env).find("\n" + env_needle + "\n") != std::string::npos;
    if (env_match || cmd.find(cmd_needle) != std::string::npos) {
      out.push_back(pid);
    }
  }
  return out;
}

bool port_is_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace harness
