#include "cli/ks_common.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <termios.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "keystore/util.h"
#include "policy/config.h"

namespace cli::ks {
using policy::Errc;
using policy::unexpected;

policy::Result<Location> locate(const Globals& g, const KsOptions& o) {
  Location loc;
  loc.allow_unsafe = o.allow_unsafe;
  if (!g.db_path.empty()) {
    loc.db_path = g.db_path;
  } else {
    auto cfg = policy::load_config(g.config_path);
    if (!cfg) {
      return unexpected(Errc::kConfig, std::string(policy::errc_name(cfg.error().code())) + ": " +
                                           cfg.error().detail() +
                                           " (or name the keystore with --db FILE)");
    }
    loc.db_path = (*cfg)->keystore.path;
    loc.secret_file = (*cfg)->keystore.secret_file;
    loc.allow_unsafe = loc.allow_unsafe || (*cfg)->keystore.allow_unsafe_permissions;
  }
  if (!o.secret_file.empty()) {
    loc.secret_file = o.secret_file;
    loc.secret_explicit = true;
  }
  return loc;
}

policy::Result<std::unique_ptr<keystore::Keystore>> open_keystore(const Globals& g,
                                                                  const KsOptions& o,
                                                                  bool with_secret, bool create) {
  auto loc = locate(g, o);
  if (!loc) {
    return std::move(loc).error();
  }
  keystore::OpenOptions opts;
  opts.create = create;
  opts.allow_unsafe_permissions = loc->allow_unsafe;
  if (with_secret && !loc->secret_file.empty() &&
      (loc->secret_explicit || std::filesystem::exists(loc->secret_file))) {
    opts.secret_file = loc->secret_file;
  }
  return keystore::Keystore::open(loc->db_path, opts);
}

int fail(const policy::Error& e, const std::string& context) {
  std::fprintf(stderr, "smimectl: %s%s%s: %s\n", context.c_str(), context.empty() ? "" : ": ",
               std::string(policy::errc_name(e.code())).c_str(), e.detail().c_str());
  return exit_code_for(e.code());
}

std::string actor_name(const KsOptions& o) {
  if (!o.actor.empty()) {
    return o.actor;
  }
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') {
      return v;
    }
  }
  return "admin";
}

std::string utc_date(std::int64_t t) {
  return keystore::detail::utc_date(t);
}

std::string read_text_file(const std::string& path, Errc* err, std::string* detail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = Errc::kIo;
    *detail = "cannot open " + path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *err = Errc::kOk;
  return ss.str();
}

namespace {
std::string strip_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

struct FileClose {
  void operator()(FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileClose>;

policy::Result<std::string> prompt_no_echo(const std::string& what) {
  const File tty(std::fopen("/dev/tty", "r+"));
  if (!tty || ::isatty(::fileno(tty.get())) == 0) {
    return unexpected(
        Errc::kInvalidArgument,
        what + " needs a passphrase: use --passphrase-file FILE or --passphrase-env VAR");
  }
  const int fd = ::fileno(tty.get());
  termios old{};
  ::tcgetattr(fd, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::fprintf(tty.get(), "Passphrase for %s: ", what.c_str());
  std::fflush(tty.get());
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  std::string line;
  for (int c = std::fgetc(tty.get()); c != EOF && c != '\n'; c = std::fgetc(tty.get())) {
    line += static_cast<char>(c);
  }
  ::tcsetattr(fd, TCSAFLUSH, &old);
  std::fprintf(tty.get(), "\n");
  return line;
}
}  // namespace

policy::Result<std::string> read_passphrase(const PassSource& src, const std::string& what) {
  if (!src.file.empty()) {
    Errc err = Errc::kOk;
    std::string detail;
    std::string text = read_text_file(src.file, &err, &detail);
    if (err != Errc::kOk) {
      return unexpected(err, "passphrase file: " + detail);
    }
    const auto nl = text.find('\n');
    return strip_newline(nl == std::string::npos ? text : text.substr(0, nl));
  }
  if (!src.env.empty()) {
    const char* v = std::getenv(src.env.c_str());
    if (v == nullptr) {
      return unexpected(Errc::kInvalidArgument, "environment variable " + src.env + " is not set");
    }
    return std::string(v);
  }
  return prompt_no_echo(what);
}

void add_common_options(CLI::App* cmd, KsOptions& o, Globals& g) {
  cmd->add_option("--secret-file", o.secret_file,
                  "key-encryption secret file (overrides keystore.secret_file)");
  cmd->add_flag("--allow-unsafe-permissions", o.allow_unsafe,
                "accept a keystore or secret file readable by group or others");
  cmd->add_option("--by", o.actor, "name recorded in the history (default: $SUDO_USER or $USER)");
  cmd->add_flag("--json", g.json, "machine-readable JSON output");
}

}  // namespace cli::ks
