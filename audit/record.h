// What the audit trail stores: one record per message decision (milter) and one per
// administrative action (smimectl), incidents flagged on either, and the canonical
// serialisation the hash chain is computed over. Plain values; thread-safe to copy.
//
// Canonical form (format 1, never changes once written): SHA-256 over
//   "smime-milter-audit/1" , prev_hash , then every column of kColumns from "time" to
//   "detail" in order, each as an 8-byte big-endian length followed by its bytes
//   (integers as decimal text, lists as compact JSON). `seq` is the storage order and
//   is not hashed: the chain (prev_hash links) is the authoritative order, which is what
//   lets `verify` tell a removed record from a reordered one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace audit {

// Security incidents the regulation (Perwal 84/2017 Art. 23, 25) requires to be
// recorded and reported. Stable names are stored in the trail.
enum class IncidentKind {
  kNone,
  kBadSignature,     // inbound signature failed (bad-signature, untrusted chain, ...)
  kSenderMismatch,   // inbound signature valid but signer is not the From address
  kRevokedCertUse,   // attempt to sign or encrypt with a revoked certificate
  kExpiredCertUse,   // attempt to sign or encrypt with an expired certificate
  kKeyCompromise,    // certificate revoked for keyCompromise (lost or stolen key)
  kKeystoreFailure,  // keystore unavailable or corrupt
  kAuditFailure,     // the trail could not be written (recorded once it can be)
  kOther,
};
std::string_view incident_name(IncidentKind k);
std::optional<IncidentKind> incident_from_name(std::string_view name);

enum class RecordType { kDecision, kAdmin };
std::string_view record_type_name(RecordType t);

// A certificate a decision used: role is "signer" (our sender's), "recipient"
// (encrypted to), "peer-signer" (inbound signature) or "decryption" (our key).
struct CertUse {
  std::string role;
  std::string fingerprint;  // SHA-256, lowercase hex
  std::string serial_hex;
  std::string subject;  // address or subject line; no key material
};

// One milter decision. Empty strings are fine for what was not known.
struct DecisionRecord {
  std::int64_t time = 0;  // unix seconds; 0 = the trail's clock at append
  std::string queue_id, message_id;
  std::string direction;  // "outbound", "inbound", "internal", "relay"
  std::string sender;
  std::vector<std::string> recipients;
  std::string auth_user, client_addr;
  std::string department;            // sender's department (outbound) / recipients' (inbound)
  std::string rule;                  // policy rule matched
  std::vector<std::string> actions;  // "sign", "encrypt", "verify", "decrypt", "none"
  std::vector<CertUse> certificates;
  std::vector<std::string> algorithms;  // e.g. "sha256", "rsa-pkcs1", "aes-256-cbc"
  std::string verification;             // inbound AuthResult name: "pass", "fail", ... ("" = none)
  std::string reason;                   // reason code, e.g. "sender-mismatch", "no-certificate"
  std::string verdict;                  // "accept", "tempfail", "reject", "discard", "quarantine"
  IncidentKind incident = IncidentKind::kNone;  // derived from verification when kNone
  std::string detail;                           // free text for incidents (never message bodies)
};

// Administrative actions (smimectl). Vocabulary for `action`, used by the report:
//   staff-add, staff-update, staff-remove   subject = address, department
//   cert-import   subject = owner address, department, fingerprint, serial, not_before/after
//   trust-add, trust-remove, revoke (reason = RFC 5280 name), crl-import, policy-reload,
//   key-import, key-remove, audit-head, other.
// A cert-import for an owner that already had one is counted as a renewal.
struct AdminRecord {
  std::int64_t time = 0;
  std::string action;
  std::string os_user;  // filled from getpwuid(geteuid()) when empty
  std::string subject;
  std::string department;
  std::string fingerprint, serial_hex;
  std::int64_t not_before = 0, not_after = 0;
  std::string reason;                           // revocation reason (e.g. "keyCompromise")
  std::string result = "ok";                    // "ok" or the errc name of a failed action
  IncidentKind incident = IncidentKind::kNone;  // revoke + keyCompromise flags itself
  std::string detail;
};

// A stored record: every column, flat (search and export return these).
struct Entry {
  std::uint64_t seq = 0;
  std::int64_t time = 0;
  RecordType type = RecordType::kDecision;
  IncidentKind incident = IncidentKind::kNone;
  std::string queue_id, message_id, direction, sender;
  std::vector<std::string> recipients;
  std::string auth_user, client_addr, department, rule;
  std::vector<std::string> actions;
  std::vector<CertUse> certificates;
  std::vector<std::string> algorithms;
  std::string verification, reason, verdict;
  std::string os_user, action, subject, fingerprint, serial_hex;
  std::int64_t not_before = 0, not_after = 0;
  std::string detail;
  std::string prev_hash, hash;  // lowercase hex SHA-256

  bool is_incident() const { return incident != IncidentKind::kNone; }
  bool has_action(std::string_view a) const;
};

Entry to_entry(const DecisionRecord& r);
Entry to_entry(const AdminRecord& r);

// Column names in canonical order (also the SQL, CSV and JSON field names).
inline constexpr std::array<std::string_view, 29> kColumns = {
    "seq",        "time",      "type",         "incident",   "queue_id",     "message_id",
    "direction",  "sender",    "recipients",   "auth_user",  "client_addr",  "department",
    "rule",       "actions",   "certificates", "algorithms", "verification", "reason",
    "verdict",    "os_user",   "action",       "subject",    "fingerprint",  "serial",
    "not_before", "not_after", "detail",       "prev_hash",  "hash"};

// Column values as text, in kColumns order (lists as compact JSON).
std::vector<std::string> column_values(const Entry& e);
// Inverse of column_values (lists parsed back); false if a list column is not JSON.
bool from_column_values(const std::vector<std::string>& values, Entry& e);

// Hash of `e` chained to e.prev_hash (see header comment).
std::string compute_hash(const Entry& e);
// prev_hash of the first record.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The operating system user running this process ("uid:<n>" when unnamed).
std::string current_os_user();

}  // namespace audit
