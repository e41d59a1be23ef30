// smimectl status: one health summary for an admin or a monitoring system.
// Checks, in order: configuration valid, milter socket reachable, keystore readable,
// each issuer's CRL fresh / stale / missing, certificates expiring within N days,
// active staff without a valid certificate, audit trail verified. Each check is ok,
// warn or fail; the exit code is 0 only when every check is ok (1 otherwise), so a
// monitoring system can alert on it. Nothing is written anywhere.
// Thread-safety: single-threaded CLI code.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "audit/trail.h"
#include "cli/exit_codes.h"
#include "cli/ks_common.h"
#include "cli/registry.h"
#include "keystore/db.h"
#include "keystore/keystore.h"
#include "keystore/util.h"
#include "policy/config.h"

namespace cli {
namespace {

using Json = nlohmann::ordered_json;

enum class Level { kOk, kWarn, kFail };

const char* level_name(Level l) {
  switch (l) {
    case Level::kOk:
      return "ok";
    case Level::kWarn:
      return "warn";
    case Level::kFail:
      return "fail";
  }
  return "fail";
}

struct Check {
  std::string name;
  Level level = Level::kOk;
  std::string detail;
  std::vector<std::string> items;  // e.g. the expiring certificates, one line each
};

struct StatusArgs {
  std::string audit_db;  // overrides audit.database
  int days = 30;
  int timeout_ms = 2000;
};

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void set_timeouts(int fd, int timeout_ms) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((timeout_ms % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// "" when a connection succeeded, else what went wrong.
std::string connect_local(const std::string& path, int timeout_ms) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    return "socket path too long";
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return std::strerror(errno);
  }
  set_timeouts(fd.get(), timeout_ms);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return std::strerror(errno);
  }
  return {};
}

std::string connect_inet(const policy::SocketSpec& s, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = s.kind == policy::SocketSpec::Kind::kInet6 ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  std::string host = s.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = s.kind == policy::SocketSpec::Kind::kInet6 ? "::1" : "127.0.0.1";
  }
  addrinfo* res = nullptr;
  const std::string port = std::to_string(s.port);
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  Fd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return std::strerror(errno);
  }
  set_timeouts(fd.get(), timeout_ms);
  if (::connect(fd.get(), res->ai_addr, res->ai_addrlen) != 0) {
    return std::strerror(errno);
  }
  return {};
}

Check check_socket(const policy::Config& cfg, int timeout_ms) {
  Check c{"socket", Level::kOk, cfg.daemon.socket.libmilter, {}};
  const auto& s = cfg.daemon.socket;
  const std::string err = s.kind == policy::SocketSpec::Kind::kLocal
                              ? connect_local(s.path, timeout_ms)
                              : connect_inet(s, timeout_ms);
  if (!err.empty()) {
    c.level = Level::kFail;
    c.detail = "cannot connect to " + s.libmilter + ": " + err + " (is smime-milter running?)";
  } else {
    c.detail = "milter answers on " + s.libmilter;
  }
  return c;
}

// Runs `sql` with `args` bound to ?1, ?2, ... and hands every row to on_row. false when
// the database could not be read: `c` is then a failure "cannot read <what>: ..." and
// holds no items.
template <class F, class... A>
bool read_rows(keystore::Db& db, Check& c, std::string_view what, std::string_view sql, F&& on_row,
               const A&... args) {
  auto st = db.query(sql, args...);
  const policy::Status s = st ? st->each_row(std::forward<F>(on_row)) : st.error();
  if (!s) {
    c.level = Level::kFail;
    c.detail = "cannot read " + std::string(what) + ": " + s.error().detail();
    c.items.clear();
    return false;
  }
  return true;
}

// Every issuer of a held certificate or of an imported CRL: fresh, stale or missing.
Check check_crls(keystore::Db& db, std::int64_t now) {
  Check c{"crl", Level::kOk, {}, {}};
  int fresh = 0, stale = 0, missing = 0;
  const bool read = read_rows(
      db, c, "CRLs",
      "SELECT i.issuer, l.next_update FROM"
      " (SELECT issuer_der, issuer FROM certs GROUP BY issuer_der"
      "  UNION SELECT issuer_der, issuer FROM crls) i"
      " LEFT JOIN crls l ON l.issuer_der = i.issuer_der GROUP BY i.issuer_der ORDER BY i.issuer",
      [&](const keystore::Stmt& r) {
        const std::string issuer = r.col_text(0);
        if (r.col_null(1)) {
          ++missing;
          c.items.push_back("missing: " + issuer);
        } else if (r.col_int(1) < now) {
          ++stale;
          c.items.push_back("stale since " + ks::utc_date(r.col_int(1)) + ": " + issuer);
        } else {
          ++fresh;
          c.items.push_back("fresh until " + ks::utc_date(r.col_int(1)) + ": " + issuer);
        }
      });
  if (!read) {
    return c;
  }
  c.detail = std::to_string(fresh) + " fresh, " + std::to_string(stale) + " stale, " +
             std::to_string(missing) + " missing (revocation unknown fails closed by default)";
  if (stale + missing > 0) {
    c.level = Level::kWarn;
  }
  return c;
}

Check check_staff(keystore::Db& db, std::int64_t now) {
  Check c{"staff", Level::kOk, {}, {}};
  const bool read = read_rows(
      db, c, "staff",
      "SELECT s.name FROM staff s WHERE s.status = 'active' AND NOT EXISTS ("
      " SELECT 1 FROM certs c WHERE c.owner_id = s.id AND c.not_before <= ?1 AND c.not_after > ?1"
      " AND NOT EXISTS (SELECT 1 FROM revocations r"
      "  WHERE r.issuer_der = c.issuer_der AND r.serial = c.serial)) ORDER BY s.name",
      [&](const keystore::Stmt& r) { c.items.push_back(r.col_text(0)); }, now);
  if (!read) {
    return c;
  }
  c.detail = std::to_string(c.items.size()) + " active staff without a valid certificate";
  if (!c.items.empty()) {
    c.level = Level::kWarn;
  }
  return c;
}

Check check_expiring(keystore::Keystore& ks, int days, std::int64_t now) {
  Check c{"expiring", Level::kOk, {}, {}};
  auto recs = ks.expiring(static_cast<std::int64_t>(days) * 86400);
  if (!recs) {
    return {"expiring", Level::kFail, "cannot list certificates: " + recs.error().detail(), {}};
  }
  for (const auto& r : *recs) {
    std::string who = r.owner.empty() ? r.subject : r.owner;
    for (const auto& e : r.emails) {
      who += " <" + e + ">";
    }
    c.items.push_back(ks::utc_date(r.not_after) + " (" +
                      std::to_string((r.not_after - now) / 86400) + " days): " + who + " " +
                      r.fingerprint.substr(0, 16));
  }
  c.detail = std::to_string(c.items.size()) + " certificates expire within " +
             std::to_string(days) + " days";
  if (!c.items.empty()) {
    c.level = Level::kWarn;
  }
  return c;
}

// keystore, crl, expiring, staff: all need the keystore file.
void check_keystore(const std::string& path, int days, std::vector<Check>& out) {
  const std::int64_t now = keystore::detail::now_unix();
  keystore::OpenOptions o;
  o.read_only = true;
  auto ks = keystore::Keystore::open(path, o);
  if (!ks) {
    out.push_back({"keystore",
                   Level::kFail,
                   path + ": " + std::string(policy::errc_name(ks.error().code())) + ": " +
                       ks.error().detail(),
                   {}});
    return;
  }
  out.push_back({"keystore", Level::kOk, path + " readable", {}});
  keystore::Db::Options dbo;
  dbo.read_only = true;
  auto db = keystore::Db::open(path, dbo);
  if (!db) {
    out.push_back({"crl", Level::kFail, "cannot open " + path + ": " + db.error().detail(), {}});
  } else {
    out.push_back(check_crls(*db, now));
  }
  out.push_back(check_expiring(**ks, days, now));
  if (db) {
    out.push_back(check_staff(*db, now));
  }
}

Check check_audit(const std::string& path) {
  auto trail = audit::Trail::open_read_only(path);
  if (!trail) {
    return {"audit", Level::kFail, path + ": " + trail.error().detail(), {}};
  }
  auto rep = (*trail)->verify();
  if (!rep) {
    return {"audit", Level::kFail, path + ": " + rep.error().detail(), {}};
  }
  if (!rep->ok()) {
    return {"audit",
            Level::kFail,
            path + ": " + std::string(audit::problem_name(rep->problem)) + ": " + rep->detail,
            {}};
  }
  return {"audit",
          Level::kOk,
          path + ": " + std::to_string(rep->records) + " records, chain intact",
          {}};
}

void print(const std::vector<Check>& checks, bool json, bool healthy) {
  if (json) {
    Json j;
    j["healthy"] = healthy;
    j["checks"] = Json::array();
    for (const auto& c : checks) {
      j["checks"].push_back({{"name", c.name},
                             {"status", level_name(c.level)},
                             {"detail", c.detail},
                             {"items", c.items}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  for (const auto& c : checks) {
    std::printf("%-4s  %-9s %s\n", level_name(c.level), c.name.c_str(), c.detail.c_str());
    for (const auto& i : c.items) {
      std::printf("                %s\n", i.c_str());
    }
  }
  std::printf("%s\n", healthy ? "healthy" : "needs attention");
}

int run_status(const Globals& g, const StatusArgs& a, bool json) {
  std::vector<Check> checks;
  auto cfg = policy::load_config(g.config_path);
  policy::Config fallback;
  const policy::Config* c = &fallback;
  if (cfg) {
    c = cfg->get();
    checks.push_back({"config", Level::kOk, g.config_path + " valid", {}});
  } else {
    checks.push_back({"config", Level::kFail, cfg.error().detail(), {}});
  }
  if (cfg) {
    checks.push_back(check_socket(*c, a.timeout_ms));
  }
  check_keystore(g.db_path.empty() ? c->keystore.path : g.db_path, a.days, checks);
  checks.push_back(check_audit(a.audit_db.empty() ? c->audit.database : a.audit_db));
  bool healthy = true;
  for (const auto& ch : checks) {
    healthy = healthy && ch.level == Level::kOk;
  }
  print(checks, json, healthy);
  return healthy ? kExitOk : kExitFailure;
}

const bool kReg = register_group([](CLI::App& app, Globals& g, int& rc) {
  auto a = std::make_shared<StatusArgs>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "status", "health summary: config, socket, keystore, CRLs, expiry, staff, audit trail");
  cmd->add_option("--audit-db", a->audit_db, "audit trail file (overrides audit.database)");
  cmd->add_option("--days", a->days, "expiry window in days")
      ->capture_default_str()
      ->check(CLI::Range(0, 36500));
  cmd->add_option("--timeout-ms", a->timeout_ms, "socket connect timeout")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  cmd->add_flag("--json", *json, "machine-readable JSON output");
  cmd->callback([&g, &rc, a, json] { rc = run_status(g, *a, g.json || *json); });
});

}  // namespace
}  // namespace cli
