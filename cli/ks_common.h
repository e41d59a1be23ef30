// Shared plumbing for smimectl's keystore commands (cmd_keystore.cpp, ks_*.cpp):
// locating and opening the keystore (--db or the configuration's keystore section),
// reading passphrases without argv, printing errors with their exit code.
// Thread-safety: single-threaded CLI code.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/registry.h"
#include "keystore/keystore.h"
#include "policy/result.h"

namespace cli::ks {

// Options shared by the keystore commands, filled by CLI11.
struct KsOptions {
  std::string secret_file;  // --secret-file (overrides the configuration)
  bool allow_unsafe = false;
  std::string actor;      // --by (default: $SUDO_USER, $USER, "admin")
  std::string audit_db;   // --audit-db (overrides the configuration's audit.database)
  bool no_audit = false;  // --no-audit: run an admin command without the audit trail
};

struct Location {
  std::string db_path;
  std::string secret_file;  // "" when none configured
  bool allow_unsafe = false;
  bool secret_explicit = false;
};

// --db wins; otherwise the configuration file's keystore.path / keystore.secret_file.
policy::Result<Location> locate(const Globals& g, const KsOptions& o);

// Opens the keystore. `with_secret`: derive the key-encryption key (needed to store or
// use private keys); when the secret only comes from the configuration and its file
// does not exist, the keystore opens without private-key access.
policy::Result<std::unique_ptr<keystore::Keystore>> open_keystore(const Globals& g,
                                                                  const KsOptions& o,
                                                                  bool with_secret,
                                                                  bool create = false);

// Prints "smimectl: <context>: <errc>: <detail>" to stderr; returns the exit code.
int fail(const policy::Error& e, const std::string& context = {});

std::string actor_name(const KsOptions& o);
std::string utc_date(std::int64_t t);
std::string read_text_file(const std::string& path, policy::Errc* err, std::string* detail);

// Passphrase source for PKCS#12: --passphrase-file, --passphrase-env, else a no-echo
// prompt on the terminal. Never argv.
struct PassSource {
  std::string file;
  std::string env;
};
policy::Result<std::string> read_passphrase(const PassSource& src, const std::string& what);

void add_common_options(CLI::App* cmd, KsOptions& o, Globals& g);

// Command groups (each defined in its own file).
void add_import_command(CLI::App& app, Globals& g, int& rc);
void add_listing_commands(CLI::App& app, Globals& g, int& rc);
void add_admin_commands(CLI::App& app, Globals& g, int& rc);

}  // namespace cli::ks
