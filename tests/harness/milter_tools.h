// Milter-side helpers for integration tests: a runner for OpenDKIM's Lua-driven
// `miltertest`, and MilterProcess, an RAII child process for a milter binary listening
// on a unix socket in a private directory (the null milter, later the product milter).
// Test-only code; failures to start throw std::runtime_error.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace harness {

struct MiltertestResult {
  int exit_code = -1;  // miltertest's; 0 when the script ran to its end without error()
  std::string output;  // stdout + stderr (mt.echo lines, error messages)
};

// Runs `miltertest -s <script>` with each entry of `globals` defined as a Lua global
// string (miltertest -D name=value). `lua_script` is the script text.
MiltertestResult run_miltertest(const std::string& lua_script,
                                const std::map<std::string, std::string>& globals = {});

// Path of the null milter built from tests/harness/null_milter.cpp.
std::filesystem::path null_milter_path();

// A milter process listening on `socket_path()`. The command line gets "-p
// local:<socket>" appended unless `args` already contains "{socket}", which is replaced
// by the libmilter spec. The constructor waits until the socket accepts connections;
// the destructor sends SIGTERM (SIGKILL after 10 s) and reaps the process. libmilter
// notices SIGTERM only when its accept loop wakes (every 5 s, MI_CHK_TIME), so a
// milter without state to save may be stopped with SIGKILL (graceful = false).
class MilterProcess {
 public:
  MilterProcess(std::filesystem::path binary, std::vector<std::string> args = {},
                bool graceful = true);
  ~MilterProcess();
  MilterProcess(const MilterProcess&) = delete;
  MilterProcess& operator=(const MilterProcess&) = delete;

  // The socket path and its spelling for Postfix (unix:/path) and libmilter/miltertest
  // (local:/path, which miltertest also accepts as unix:/path).
  const std::filesystem::path& socket_path() const { return socket_; }
  std::string postfix_spec() const { return "unix:" + socket_.string(); }
  std::string libmilter_spec() const { return "local:" + socket_.string(); }
  pid_t pid() const { return pid_; }
  // stdout + stderr of the milter so far.
  std::string output() const;
  // Stops the process; returns its exit status as waitpid() reported it.
  int stop();

 private:
  std::filesystem::path dir_;
  std::filesystem::path socket_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool graceful_ = true;
};

// The null milter (see null_milter.cpp) with extra options, e.g. {"-a", "reject"};
// it keeps no state, so it is stopped with SIGKILL.
class NullMilter : public MilterProcess {
 public:
  explicit NullMilter(std::vector<std::string> extra_args = {})
      : MilterProcess(null_milter_path(), std::move(extra_args), false) {}
};

}  // namespace harness
