// smime-milter: the daemon. Loads the configuration, opens the milter socket, drops
// privileges and serves through libmilter (libmilter_glue.cpp). Signals are taken by
// the main thread with sigwait(): SIGHUP reloads the configuration into a new
// snapshot (running messages keep theirs), SIGTERM/SIGINT stop accepting and wait for
// messages in flight.
//
// libmilter's own signal thread also waits for HUP/TERM/INT (sigwait) and treats HUP
// as "stop". Linux hands a process-directed signal to the thread-group leader whenever
// the leader does not block it (kernel complete_signal()/wants_signal()), so: every
// thread but the main one blocks HUP/TERM/INT from the first line of main() on; the
// main thread installs handlers (SA_NODEFER: the signal is never blocked, not even
// inside its own handler) that only write the signal number into a self-pipe, and it
// unblocks them before libmilter's signal thread exists. The main thread reads the
// pipe; the reload itself runs on a helper thread.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <syslog.h>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include "audit/trail.h"
#include "milter/daemon.h"
#include "milter/glue.h"
#include "milter/listen_socket.h"
#include "milter/snapshot.h"
#include "policy/config.h"

namespace {

constexpr int kExitConfig = 78;    // EX_CONFIG
constexpr int kExitSoftware = 70;  // EX_SOFTWARE
constexpr auto kDrainTimeout = std::chrono::seconds(30);

struct Options {
  std::string config_path{policy::kDefaultConfigPath};
  bool foreground = false;
  std::string socket;
  std::string check_config;
  bool check = false;
  milter::SnapshotOverrides overrides;
};

void setup_logging(bool foreground, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (foreground) {
    logger = spdlog::stderr_logger_mt("smime-milter");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  } else {
    logger = spdlog::syslog_logger_mt("smime-milter", "smime-milter", LOG_PID, LOG_MAIL, true);
    logger->set_pattern("%v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// The keystore for a configuration; on failure every message tempfails until a reload.
std::shared_ptr<keystore::Keystore> keystore_for(const policy::Config& cfg) {
  auto ks = milter::open_keystore(cfg);
  if (!ks) {
    spdlog::error("keystore {} unavailable, messages will tempfail: {}", cfg.keystore.path,
                  ks.error().message());
    return nullptr;
  }
  return *ks;
}

// The writable handle verified inbound signers are harvested through, when the
// configuration asks for harvesting; on failure harvesting is off (mail flows as usual).
std::shared_ptr<keystore::Keystore> harvester_for(const policy::Config& cfg) {
  if (!cfg.trust.harvest_certificates) {
    return nullptr;
  }
  auto ks = milter::open_harvest_keystore(cfg);
  if (!ks) {
    spdlog::warn("keystore {} cannot be opened for writing, no certificates are harvested: {}",
                 cfg.keystore.path, ks.error().message());
    return nullptr;
  }
  return *ks;
}

// Reloads on request from the signal loop, off the main thread.
class Reloader {
 public:
  Reloader(std::string path, milter::SnapshotOverrides o, milter::SnapshotHolder& holder,
           std::shared_ptr<keystore::Keystore> keystore,
           std::shared_ptr<keystore::Keystore> harvester, const policy::Config& cfg)
      : path_(std::move(path)),
        overrides_(std::move(o)),
        holder_(holder),
        keystore_(std::move(keystore)),
        harvester_(std::move(harvester)),
        keystore_path_(cfg.keystore.path),
        secret_path_(cfg.keystore.secret_file),
        recorder_(holder.get()->recorder),
        audit_path_(cfg.audit.database),
        thread_([this] { loop(); }) {}
  ~Reloader() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;
  void request() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return pending_ || stop_; });
      if (stop_) {
        return;
      }
      pending_ = false;
      lock.unlock();
      reload();
      lock.lock();
    }
  }
  bool audit_failed() const { return dynamic_cast<audit::Trail*>(recorder_.get()) == nullptr; }
  void reload() {
    auto cfg = policy::load_config(path_);
    if (!cfg) {
      spdlog::error("reload failed, keeping the running configuration: {}", cfg.error().message());
      return;
    }
    const policy::KeystoreConfig& k = (*cfg)->keystore;
    // The keystore re-reads the database on every lookup, so the open handle stays
    // valid unless its location changed (and the secret may be root-only by now).
    const bool moved = k.path != keystore_path_;
    if (!keystore_ || moved || k.secret_file != secret_path_) {
      keystore_ = keystore_for(**cfg);
      keystore_path_ = k.path;
      secret_path_ = k.secret_file;
    }
    // Reopened (now as daemon.user: see open_harvest_keystore) only when it moved or
    // harvesting was turned on; kept while harvesting is off, for a later reload.
    if ((*cfg)->trust.harvest_certificates && (!harvester_ || moved)) {
      harvester_ = harvester_for(**cfg);
    }
    // The trail is reopened when it moved or could not be opened before.
    if ((*cfg)->audit.database != audit_path_ || audit_failed()) {
      recorder_ = milter::open_audit_trail(**cfg);
      audit_path_ = (*cfg)->audit.database;
    }
    holder_.set(milter::make_snapshot(*cfg, overrides_, keystore_, recorder_, harvester_));
    spdlog::info("configuration reloaded from {} (authserv-id {})", path_,
                 holder_.get()->settings.authserv_id);
  }

  std::string path_;
  milter::SnapshotOverrides overrides_;
  milter::SnapshotHolder& holder_;
  std::shared_ptr<keystore::Keystore> keystore_;   // used by the reload thread only
  std::shared_ptr<keystore::Keystore> harvester_;  // likewise
  std::string keystore_path_;
  std::string secret_path_;
  std::shared_ptr<audit::Recorder> recorder_;  // shared with the running snapshots
  std::string audit_path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// The signals the daemon handles; see the comment at the top of this file.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

int g_signal_pipe[2] = {-1, -1};

extern "C" void on_signal(int sig) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(sig);
  // Non-blocking: when the pipe is full, pending requests are already queued.
  [[maybe_unused]] const ssize_t n = ::write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

// First thing in main(): blocks HUP/TERM/INT in this thread (so every thread started
// later inherits the block) and installs the self-pipe handlers. A signal arriving
// during start-up stays pending until serve() unblocks it in the main thread.
bool install_signal_handlers() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return false;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NODEFER;
  return ::sigaction(SIGHUP, &sa, nullptr) == 0 && ::sigaction(SIGTERM, &sa, nullptr) == 0 &&
         ::sigaction(SIGINT, &sa, nullptr) == 0;
}

// The next handled signal, waiting for it (the pipe's read end is non-blocking).
int next_signal() {
  for (;;) {
    unsigned char byte = 0;
    const ssize_t n = ::read(g_signal_pipe[0], &byte, 1);
    if (n == 1) {
      return byte;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return SIGTERM;
    }
    pollfd p{g_signal_pipe[0], POLLIN, 0};
    ::poll(&p, 1, -1);
  }
}

int serve(const Options& opt, const policy::Config& cfg, milter::SnapshotHolder& holder,
          std::shared_ptr<keystore::Keystore> keystore,
          std::shared_ptr<keystore::Keystore> harvester, const policy::SocketSpec& sock) {
  // Threads started here inherit the block from main(); libmilter's signal thread is
  // started by milter_thread only once the main thread takes the signals itself.
  Reloader reloader(opt.config_path, opt.overrides, holder, std::move(keystore),
                    std::move(harvester), cfg);
  std::atomic<bool> milter_ok{true};
  std::atomic<bool> milter_done{false};
  std::atomic<bool> main_takes_signals{false};
  std::thread milter_thread([&] {
    while (!main_takes_signals) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    milter_ok = milter::glue_run();
    milter_done = true;
    ::kill(::getpid(), SIGTERM);  // libmilter stopped on its own: wake the signal loop
  });
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  main_takes_signals = true;
  spdlog::info("smime-milter started on {} (authserv-id {})", sock.libmilter,
               holder.get()->settings.authserv_id);
  for (;;) {
    const int sig = next_signal();
    if (sig == SIGHUP) {
      reloader.request();
      continue;
    }
    break;
  }
  spdlog::info("stopping: no new connections, waiting for {} message(s) in flight",
               milter::glue_messages_in_flight());
  // smfi_stop() sets libmilter's stop flag at once but then waits for the listener's
  // lock, held across its poll timeout (seconds): let a helper thread wait for that.
  std::thread([] { milter::glue_stop(); }).detach();
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (milter::glue_messages_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!cfg.daemon.pid_file.empty() && !opt.foreground) {
    ::unlink(cfg.daemon.pid_file.c_str());
  }
  const int code = milter_ok ? 0 : kExitSoftware;
  spdlog::info("smime-milter stopped ({} message(s) still in flight)",
               milter::glue_messages_in_flight());
  if (!milter_done) {
    // libmilter's listener only notices the stop at its next poll timeout (seconds);
    // every message is finished, so leave without waiting for it (and without running
    // static destructors under its still-running threads).
    spdlog::default_logger()->flush();
    std::_Exit(code);
  }
  milter_thread.join();
  return code;
}

int run(Options opt) {
  opt.config_path = std::filesystem::absolute(opt.config_path).string();
  auto loaded = policy::load_config(opt.config_path);
  if (!loaded) {
    std::fprintf(stderr, "smime-milter: %s\n", loaded.error().message().c_str());
    return kExitConfig;
  }
  const policy::Config& cfg = **loaded;
  auto sock = policy::parse_socket(opt.socket.empty() ? cfg.daemon.socket.libmilter : opt.socket);
  if (!sock) {
    std::fprintf(stderr, "smime-milter: %s\n", sock.error().message().c_str());
    return kExitConfig;
  }
  const bool foreground = opt.foreground || cfg.daemon.foreground;
  setup_logging(foreground, cfg.daemon.log_level);
  milter::SnapshotHolder holder;
  ::umask(static_cast<mode_t>(cfg.daemon.umask));  // the unix socket's mode comes from it
  const bool local = sock->kind == policy::SocketSpec::Kind::kLocal;
  auto fail = [](const policy::Error& e) {
    spdlog::critical("cannot start: {}", e.message());
    return e.code() == policy::Errc::kConfig ? kExitConfig : kExitSoftware;
  };
  if (local) {
    if (auto st = milter::remove_stale_unix_socket(sock->path); !st) {
      return fail(st.error());
    }
  }
  milter::GlueOptions go;
  go.libmilter_socket = sock->libmilter;
  if (auto st = milter::glue_open(go, [&holder] { return holder.get(); }); !st) {
    return fail(st.error());
  }
  if (!foreground && ::daemon(0, 0) != 0) {
    spdlog::critical("cannot daemonise: {}", std::strerror(errno));
    return kExitSoftware;
  }
  if (!foreground && !cfg.daemon.pid_file.empty()) {
    if (auto st = milter::write_pid_file(cfg.daemon.pid_file); !st) {
      return fail(st.error());
    }
  }
  // Every SQLite handle is opened after daemon() forked (SQLite connections must not
  // cross a fork: POSIX locks are not inherited by the child) and before dropping
  // privileges (the secret file may be readable by root only; the database and its
  // directory may belong to root; SQLite keeps the -wal/-shm files open while it lives).
  // The audit trail also runs a writer thread. Every decision is recorded before the
  // MTA is answered; an unopenable trail makes on_audit_failure apply. The harvesting
  // handle is the only one that writes to the keystore.
  auto keystore = keystore_for(cfg);
  auto harvester = harvester_for(cfg);
  holder.set(milter::make_snapshot(*loaded, opt.overrides, keystore, milter::open_audit_trail(cfg),
                                   harvester));
  if (auto st = milter::drop_privileges(cfg.daemon.user, cfg.daemon.group, local ? sock->path : "");
      !st) {
    return fail(st.error());
  }
  return serve(opt, cfg, holder, std::move(keystore), std::move(harvester), *sock);
}

int check_config(const std::string& path) {
  auto loaded = policy::load_config(path);
  if (!loaded) {
    std::fprintf(stderr, "smime-milter: %s\n", loaded.error().message().c_str());
    return kExitConfig;
  }
  std::cout << policy::describe(**loaded);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!install_signal_handlers()) {
    std::fprintf(stderr, "smime-milter: cannot install signal handlers: %s\n",
                 std::strerror(errno));
    return kExitSoftware;
  }
  CLI::App app{"smime-milter: S/MIME signing, encryption and verification for Postfix"};
  Options opt;
  app.add_option("-c,--config", opt.config_path, "configuration file")->capture_default_str();
  app.add_flag("-f,--foreground", opt.foreground, "stay in the foreground, log to stderr");
  app.add_option("-p,--socket", opt.socket,
                 "listening socket, libmilter spelling: local:/path or inet:PORT@HOST");
  auto* cc = app.add_option("--check-config", opt.check_config,
                            "validate FILE (default: the -c file), print the effective "
                            "configuration and exit")
                 ->expected(0, 1);
  app.add_option(
      "--spool-dir", opt.overrides.spool_dir,
      "directory for the 0600 temporary files of large messages (default $TMPDIR or /tmp)");
  app.add_option("--authserv-id", opt.overrides.authserv_id,
                 "override milter.authserv_id from the configuration");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (cc->count() > 0) {
      return check_config(opt.check_config.empty() ? opt.config_path : opt.check_config);
    }
    return run(std::move(opt));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smime-milter: internal error: %s\n", e.what());
    return kExitSoftware;
  }
}
