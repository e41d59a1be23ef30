// Shared set-up of the tests that run the real SmimePipeline through a Session
// (pipeline_test, audit_wire_test, harvest_test): a keystore made from the test PKI
// through the keystore API, a Snapshot on a real policy configuration, one message
// through a Session (with the message the MTA would deliver), S/MIME messages signed by
// the openssl CLI (a third party).
// Helpers report problems with gtest's ADD_FAILURE/EXPECT and return empty values.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/recorder.h"
#include "keystore/keystore.h"
#include "milter/outcome.h"
#include "milter/pipeline.h"
#include "milter/rewrite.h"
#include "tests/common/test_support.h"

namespace milter::fixture {

// LF line ends to the wire form (CRLF), leaving existing CRLF alone.
std::string crlf(std::string_view s);

// SHA-256 fingerprint of a PEM certificate file ("" when it does not parse).
std::string fingerprint(const std::filesystem::path& crt);

struct StaffMember {
  std::string name;        // the test PKI's <name>.p12 (passphrase "test-pass")
  std::string department;  // "" = none
};

// A new keystore `dir`/keystore.db (secret file `dir`/secret) holding the test PKI's
// root as trust anchor, each member's certificate and key, and fresh root and issuing
// CA CRLs (which revoke "revoked"). Null after a test failure.
std::shared_ptr<keystore::Keystore> make_keystore(const std::filesystem::path& dir,
                                                  const std::vector<StaffMember>& staff);

// Adds a PEM trust anchor (e.g. a corpus CA) to `ks`.
void add_anchor(keystore::Keystore& ks, const std::filesystem::path& pem);

// The snapshot a message runs with: `config_toml` parsed as the daemon would, our
// authserv-id mx.example.gov, the spool in `spool_dir`, the [limits] of `config_toml`.
std::shared_ptr<Snapshot> snapshot(const std::string& config_toml,
                                   const std::filesystem::path& spool_dir,
                                   std::shared_ptr<Pipeline> pipeline,
                                   std::shared_ptr<audit::Recorder> recorder = nullptr);

struct Submission {
  std::string sender = "<alice@example.gov>";
  std::vector<std::string> rcpts;
  std::string auth;  // SMTP AUTH login, "" = none
  std::string client_ip = "198.51.100.20";
  std::string queue_id = "QTEST";
};

struct Delivery {
  Outcome outcome;
  std::string delivered;  // what the MTA would deliver (CRLF): milter::delivered_message
};

// `message` (LF or CRLF) through a new Session on `snap`.
Delivery run_message(std::shared_ptr<const Snapshot> snap, const Submission& sub,
                     const std::string& message);

// A mail from `from` to alice whose body `text` is signed by the test PKI's `signer`
// (<signer>.crt/.key, chain inter.crt) with `openssl cms -sign`; `extra_headers` (LF
// terminated lines) go after the Subject; work files in `dir`.
std::string openssl_signed(const std::filesystem::path& dir, const std::string& signer,
                           std::string_view from, std::string_view text,
                           std::string_view extra_headers = "");

// The Authentication-Results value the outcome adds ("" when none).
std::string added_auth_results(const Outcome& o);

}  // namespace milter::fixture
