// The configuration model: one TOML file (default /etc/smime-milter/smime-milter.conf)
// loaded into an immutable snapshot (std::shared_ptr<const Config>) that a running
// message keeps even when SIGHUP swaps in a new one. Every key is listed in the key
// table (config_keys.h), which also generates docs/configuration.md.
// Thread-safety: a loaded Config is never modified, so it may be shared freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/cidr.h"
#include "policy/result.h"
#include "policy/rules.h"
#include "policy/socket.h"

namespace policy {

inline constexpr std::string_view kDefaultConfigPath = "/etc/smime-milter/smime-milter.conf";

struct DaemonConfig {
  SocketSpec socket;  // default local:/var/spool/postfix/smime-milter/smime-milter.sock
  std::string user = "smime-milter";
  std::string group = "smime-milter";
  unsigned umask = 0007;
  std::string pid_file = "/run/smime-milter/smime-milter.pid";
  bool foreground = false;
  std::string log_level = "info";
  std::string syslog_facility = "mail";
  bool log_why = false;
};

struct ModeConfig {
  bool sign = true;
  bool encrypt = true;
  bool verify = true;
  bool decrypt = true;
};

struct KeystoreConfig {
  std::string path = "/var/lib/smime-milter/keystore.db";
  std::string secret_file = "/etc/smime-milter/keystore.secret";
  bool allow_unsafe_permissions = false;
};

struct TrustConfig {
  bool check_revocation = true;      // false: revocation state is not consulted (fail open!)
  bool require_sender_match = true;  // inbound: signer address must be the From address
  bool harvest_certificates = true;  // learn certificates from verified inbound mail
};

struct LimitsConfig {
  std::size_t max_message_size = 50U * 1024U * 1024U;
  std::size_t max_headers = 1000;
  std::size_t max_recipients = 1000;
  std::size_t max_mime_depth = 32;
  std::size_t spool_threshold = 1024U * 1024U;
};

struct AuditConfig {
  std::string database = "/var/lib/smime-milter/audit.db";
  Action on_audit_failure = Action::kTempfail;
  // Seconds between published chain heads (signed, recorded, logged to syslog) while
  // records are being written; 0 = never.
  std::size_t head_interval = 3600;
  // System mailbox whose certificate and key (from the keystore) sign the heads;
  // empty = heads are published unsigned.
  std::string head_signer;
};

struct Config {
  std::string source;  // the file it came from ("" for built-in defaults)
  DaemonConfig daemon;
  ModeConfig mode;
  std::vector<Cidr> internal_hosts;
  std::vector<std::string> originating_daemons;
  std::string authserv_id;  // empty: the daemon uses the host name
  KeystoreConfig keystore;
  TrustConfig trust;
  LimitsConfig limits;
  AuditConfig audit;
  std::vector<Rule> rules;  // in file order
  Rule default_rule;        // name "default", empty match
  // True when some rule matches on the sender's department (the caller then looks it
  // up before matching).
  bool uses_department = false;
};

using ConfigPtr = std::shared_ptr<const Config>;

// Reads and validates `path`. Errors are Errc::kConfig with "file:line:col: message"
// (Errc::kIo when the file cannot be read).
Result<ConfigPtr> load_config(const std::string& path);
// Same for text already in memory; `source_name` is used in messages.
Result<ConfigPtr> parse_config(std::string_view toml_text, std::string_view source_name);

// The effective configuration (defaults filled in) as annotated TOML, for
// `smime-milter --check-config` and `smimectl policy show`. Loadable again.
std::string describe(const Config& config);

}  // namespace policy
