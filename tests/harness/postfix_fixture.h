// PostfixInstance: a private, non-default Postfix instance (tests/harness/postfix-instance.sh)
// relaying every message to an smtp-sink that dumps it to a file, owned by one RAII object.
//
// Ownership: the constructor starts the instance under a fresh /tmp/pfx-XXXXXX directory and
// the destructor stops it and removes the directory, also when the test fails (gtest
// ASSERT returns, exceptions unwind). A watchdog process started with it stops the
// instance when the test process dies without unwinding (SIGKILL, abort, ASan exit).
// Thread-safety: const members may be called from several threads; start/stop not.
// Failures to start throw std::runtime_error (test code).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "tests/harness/sink_capture.h"
#include "tests/harness/smtp_client.h"

namespace harness {

using std::chrono::milliseconds;

struct InstanceOptions {
  // Postfix milter specs (unix:/path, inet:127.0.0.1:port) for smtpd_milters and
  // non_smtpd_milters, in order.
  std::vector<std::string> milters{};
  std::string milter_default_action = "tempfail";
  // SMTP AUTH users (user, password): Cyrus SASL with a private sasldb (needs saslpasswd2).
  std::vector<std::pair<std::string, std::string>> sasl_users{};
  // Extra main.cf lines "name = value", applied last.
  std::vector<std::string> main_cf{};
  // Extra smtp-sink options, e.g. {"-r", "RCPT"} to tempfail every RCPT.
  std::vector<std::string> sink_options{};
};

class PostfixInstance {
 public:
  explicit PostfixInstance(InstanceOptions options = {});
  ~PostfixInstance();
  PostfixInstance(const PostfixInstance&) = delete;
  PostfixInstance& operator=(const PostfixInstance&) = delete;

  // Stops Postfix and smtp-sink and removes dir(); idempotent. Throws if processes survive.
  void stop();

  std::uint16_t smtp_port() const { return smtp_port_; }
  std::uint16_t sink_port() const { return sink_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path config_dir() const { return dir_ / "etc"; }
  std::filesystem::path queue_dir() const { return dir_ / "spool"; }
  std::filesystem::path sink_dir() const { return dir_ / "sink"; }
  std::filesystem::path log_file() const { return dir_ / "log" / "postfix.log"; }
  const std::string& syslog_name() const { return syslog_name_; }

  // Postfix's log so far (maillog_file through postlogd).
  std::string log() const;
  // Waits until the log contains `needle`; returns whether it did.
  bool wait_for_log(std::string_view needle, milliseconds timeout = milliseconds(20000)) const;

  // Sends one message to this instance's smtpd.
  SubmitResult submit(const Message& m) const;
  // Submits through sendmail(1) -C config_dir (the non_smtpd_milters path); returns
  // sendmail's exit code and output.
  std::pair<int, std::string> sendmail(const std::string& from, const std::vector<std::string>& to,
                                       const std::string& data) const;

  // Messages smtp-sink has finished writing, oldest first.
  std::vector<CapturedMessage> captured() const;
  // Waits until at least n messages were captured and the queue is empty; returns what
  // was captured (fewer on timeout).
  std::vector<CapturedMessage> wait_for_messages(std::size_t n,
                                                 milliseconds timeout = milliseconds(20000)) const;
  // Removes every captured file (to reuse one instance across tests).
  void clear_captured() const;

  // Queue file ids in maildrop, incoming, active, deferred and hold (one scan: a file
  // moving between queues meanwhile may be missed; wait_for_queue_empty allows for it).
  std::vector<std::string> queue_ids() const;
  // `postqueue -j` output (one JSON object per queued message).
  std::string postqueue_json() const;
  bool wait_for_queue_empty(milliseconds timeout = milliseconds(20000)) const;

  // Pids of the instance's processes (Postfix master and children, smtp-sink).
  std::vector<pid_t> pids() const;

 private:
  bool try_start(int& exit_code, std::string& error);
  bool queue_is_empty() const;
  void start_watchdog();
  void end_watchdog();

  InstanceOptions options_;
  std::filesystem::path dir_;
  std::string syslog_name_;
  std::uint16_t smtp_port_ = 0;
  std::uint16_t sink_port_ = 0;
  int watchdog_fd_ = -1;  // write end of the pipe the watchdog reads
  pid_t watchdog_pid_ = -1;
  bool running_ = false;
};

// Path of tests/harness/postfix-instance.sh in the source tree.
std::filesystem::path instance_script();

// Pids of processes that belong to the instance in `dir` (MAIL_CONFIG=dir/etc in their
// environment, or `dir` in their command line), found by scanning /proc: independent of
// the script, so tests can check that nothing was left behind.
std::vector<pid_t> processes_of(const std::filesystem::path& dir);

// True when a TCP listener could bind 127.0.0.1:port right now.
bool port_is_free(std::uint16_t port);

}  // namespace harness
