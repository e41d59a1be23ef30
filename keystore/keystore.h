// keystore::Keystore: the staff certificate directory in one SQLite file (schema in
// schema.cpp). It answers the S/MIME engine's lookups (smime::KeyProvider, TrustStore,
// RevocationChecker) and carries the admin operations smimectl runs (trust anchors,
// import, revoke, CRL import, listings).
//
// Lookups have three outcomes: found, not found, unavailable (Errc::kUnavailable when
// the database is locked, missing or corrupt; never reported as "not found"). Every
// lookup re-queries the database, so a revocation committed by another process is
// seen by the next lookup. Revoked and not-yet-valid certificates are never returned;
// expired ones only as decryption keys (see decryption_key). Unwrapped private keys are cached in
// memory; the cache is dropped whenever another connection commits a change (PRAGMA data_version)
// and on our own writes. Every admin change runs in one transaction: on error nothing is written.
// Thread-safety: all methods may be called from several threads (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keystore/db.h"
#include "keystore/kek.h"
#include "policy/result.h"
#include "smime/interfaces.h"
#include "smime/ossl.h"
#include "smime/x509.h"

namespace keystore {

// individual: a person; role: a position/authority/organisation mailbox; system: an
// electronic system.
enum class CertType { kIndividual, kRole, kSystem };
std::string_view cert_type_name(CertType t);
std::optional<CertType> parse_cert_type(std::string_view s);

// RFC 5280 5.3.1 reason names ("keyCompromise", ...); true when `s` is one of them.
bool is_revocation_reason(std::string_view s);

struct OpenOptions {
  bool read_only = false;
  bool create = false;      // create and migrate a new database (smimectl init)
  std::string secret_file;  // key-encryption secret; "" = no private-key access
  bool allow_unsafe_permissions = false;
};

// Recipient capabilities learnt from SMIMECapabilities; nullopt = unknown.
struct Capabilities {
  std::optional<bool> aes_gcm;
};

struct RecipientCert {
  smime::ossl::Cert cert;
  std::string fingerprint;
  CertType type = CertType::kIndividual;
  Capabilities caps;
  std::int64_t not_after = 0;
};

// One certificate as listed by `smimectl list/show`.
struct CertRecord {
  std::string fingerprint, subject, issuer, serial, key_type, owner, department, origin;
  std::vector<std::string> emails;
  std::int64_t not_before = 0, not_after = 0;
  int key_bits = 0;
  CertType type = CertType::kIndividual;
  bool has_key = false, fit_sign = false, fit_encrypt = false;
  std::string revoked_reason;  // "" when not revoked
  std::int64_t revoked_at = 0;
  std::string der;
};

struct CaRecord {
  std::string fingerprint, subject, issuer, role;  // role: anchor | intermediate
  std::int64_t not_after = 0;
};

struct ImportRequest {
  std::vector<smime::ossl::Cert> certs;  // the end-entity certificate and any chain
  smime::ossl::PKey key;                 // optional private key
  CertType type = CertType::kIndividual;
  std::string owner, department, employee_no;
  bool allow_expired = false;
  bool harvested = false;  // origin: harvested from signed mail instead of an admin
  std::string actor = "admin";
};

struct ImportOutcome {
  std::string fingerprint, subject;
  std::vector<std::string> emails;
  bool changed = false;  // false: the same thing was already held
  bool key_stored = false;
  std::string serial;  // lowercase hex
  std::int64_t not_before = 0, not_after = 0;
};

// A held certificate a CRL import newly found revoked.
struct CrlRevocation {
  std::string fingerprint, serial, reason;
};

struct CrlOutcome {
  std::string issuer, crl_number;
  std::size_t revoked_entries = 0;
  bool changed = false;
  std::vector<CrlRevocation> newly_revoked;  // held certificates not revoked before
};

// A staff member (staff.cpp). status: "active" or "inactive".
struct StaffRecord {
  std::string name, employee_no, department, status = "active";
  std::vector<std::string> emails;        // lowercase
  std::vector<std::string> fingerprints;  // certificates owned (read only)
};

// Fields to change; nullopt / empty leaves them as they are.
struct StaffChange {
  std::optional<std::string> employee_no, department, status;
  std::vector<std::string> add_emails, remove_emails;
};

// One lifecycle event. `subject` is a certificate fingerprint, or "staff:NAME".
struct HistoryEntry {
  std::int64_t at = 0;
  std::string subject, event, detail, actor;
};

class Keystore final : public smime::KeyProvider,
                       public smime::TrustStore,
                       public smime::RevocationChecker {
 public:
  static policy::Result<std::unique_ptr<Keystore>> open(const std::string& path,
                                                        const OpenOptions& opts);

  // --- lookups used by the milter ---
  // Newest valid, unrevoked, signing-fit certificate with a held key whose addresses
  // include `sender`; `preference` orders the acceptable types (empty = any type).
  smime::Lookup<smime::Credential> signing_credential(std::string_view sender,
                                                      std::span<const CertType> preference);
  // Valid, unrevoked, encryption-fit certificates for `recipient` (empty = none known).
  policy::Result<std::vector<RecipientCert>> encryption_certs(std::string_view recipient);

  // Held keys of unrevoked certificates that were valid once. The key of an *expired*
  // certificate still opens mail encrypted to it while it was valid (Perwal 84/2017
  // Art. 1(15): the private key opens messages; Art. 3: availability), so the
  // certificate's notAfter is not checked here, nor its chain's; a revocation, of any
  // reason, ends every use (Art. 16(1)). Signing and encryption never use an expired
  // certificate.
  smime::Lookup<smime::Credential> decryption_key(const smime::CertId& id) override;
  policy::Result<std::vector<smime::Credential>> all_decryption_keys() override;
  policy::Result<std::vector<smime::ossl::Cert>> anchors() override;
  policy::Result<std::vector<smime::ossl::Cert>> intermediates() override;
  policy::Result<smime::Revocation> status(const X509& cert, const X509& issuer) override;

  // --- administration (smimectl) ---
  // Adds a trust anchor; changed=false when already held. Returns the fingerprint.
  policy::Result<ImportOutcome> add_anchor(const X509& cert, std::string_view actor);
  policy::Status remove_anchor(std::string_view fingerprint, std::string_view actor);
  policy::Result<std::vector<CaRecord>> list_ca_certs();
  policy::Result<ImportOutcome> import(const ImportRequest& req);
  policy::Result<std::vector<CertRecord>> list_certs();
  // By address (contains '@'), SHA-256 fingerprint (64 hex) or serial (hex).
  policy::Result<std::vector<CertRecord>> find_certs(std::string_view query);
  // Revokes every certificate `query` names; returns their fingerprints.
  policy::Result<std::vector<std::string>> revoke(std::string_view query, std::string_view reason,
                                                  std::string_view actor);
  // Verifies the CRL against its issuer in the directory and records its entries.
  policy::Result<CrlOutcome> import_crl(const X509_CRL& crl, std::string_view actor);
  // Certificates (not revoked) whose notAfter falls within `seconds` from now.
  policy::Result<std::vector<CertRecord>> expiring(std::int64_t seconds);
  // Records recipient capabilities (e.g. from a verified signature's SMIMECapabilities).
  policy::Status set_capabilities(std::string_view fingerprint, const Capabilities& caps);

  // --- harvesting (harvest.cpp) ---
  // Stores an external correspondent's certificate taken from a verified signature,
  // origin "harvested", with its capabilities. The chain must lead to an anchor and the
  // certificate be valid now; a certificate already held only gets its capabilities
  // updated (changed=false). Needs a writable handle (open with read_only=false).
  policy::Result<ImportOutcome> harvest(const X509& cert,
                                        const std::vector<smime::ossl::Cert>& chain,
                                        const Capabilities& caps);

  // --- staff (staff.cpp) ---
  // kConflict when the name exists, kInvalidArgument for an empty name, bad status or
  // address.
  policy::Result<StaffRecord> add_staff(const StaffRecord& staff, std::string_view actor);
  // kNotFound when no such staff member.
  policy::Result<StaffRecord> update_staff(std::string_view name, const StaffChange& change,
                                           std::string_view actor);
  // kConflict while certificates still name them as owner (set status inactive instead).
  policy::Status remove_staff(std::string_view name, std::string_view actor);
  policy::Result<std::vector<StaffRecord>> list_staff();
  policy::Result<StaffRecord> find_staff(std::string_view name);  // kNotFound
  // Lifecycle history, oldest first: by fingerprint (64 hex), address (contains '@';
  // its certificates and staff members), staff name, or everything for "".
  policy::Result<std::vector<HistoryEntry>> history(std::string_view query);

 private:
  struct CachedKey {
    smime::ossl::PKey key;
    std::vector<smime::ossl::Cert> chain;
  };
  // A certificate row with a held key; any_time: no validity-period check (decryption).
  struct KeyRow {
    std::int64_t id = 0;
    std::string fingerprint, der;
    bool any_time = false;
  };
  Keystore(Db db, std::optional<Kek> kek) : db_(std::move(db)), kek_(std::move(kek)) {}

  // Callers hold mu_.
  void refresh_cache_locked();
  // Drops certs_ when the database changed since it was filled: another connection's
  // commit (PRAGMA data_version) or this handle's own writes (sqlite3_total_changes).
  void refresh_certs_locked();
  // The parsed certificate of a certs row (cached by fingerprint).
  policy::Result<smime::ossl::Cert> row_cert_locked(const std::string& fingerprint,
                                                    std::string_view der);
  // Harvest of a signer already held, valid, trusted and with these capabilities: the
  // outcome (changed=false) without writing; nullopt when harvest must import.
  policy::Result<std::optional<ImportOutcome>> harvest_held_locked(
      const X509& cert, const std::vector<smime::ossl::Cert>& chain, const Capabilities& caps);
  policy::Result<smime::Credential> credential_locked(const KeyRow& row);
  policy::Result<std::vector<smime::Credential>> key_rows_locked(std::string_view issuer_der,
                                                                 std::string_view serial,
                                                                 std::string_view ski, bool all);
  policy::Result<bool> revoked_locked(const X509& cert);
  policy::Result<std::vector<smime::ossl::Cert>> ca_certs_locked(std::string_view role);
  policy::Result<std::vector<smime::ossl::Cert>> verified_chain_locked(
      const X509& leaf, const std::vector<smime::ossl::Cert>& extra, bool allow_expired);
  // verified_chain_locked(leaf, {}, false) of the certificate row `fingerprint`, kept in
  // certs_ until the database changes or the first certificate of the path (anchors
  // included) expires.
  policy::Result<std::vector<smime::ossl::Cert>> cached_chain_locked(const std::string& fingerprint,
                                                                     const X509& leaf);
  // `where_sql` is one of the literal filters in admin.cpp; ?1 text, ?2/?3 integers.
  policy::Result<std::vector<CertRecord>> records_locked(const char* where_sql,
                                                         std::string_view arg, std::int64_t lo,
                                                         std::int64_t hi);
  policy::Status history_locked(std::string_view fingerprint, std::string_view event,
                                std::string_view detail, std::string_view actor);
  policy::Result<std::int64_t> upsert_staff_locked(const ImportRequest& req,
                                                   const std::vector<std::string>& emails);
  policy::Status record_import_history_locked(std::int64_t cert_id, const smime::CertInfo& info,
                                              std::string_view actor);
  // role "anchor" or "intermediate"; true when a row was added or became an anchor.
  policy::Result<bool> store_ca_locked(const X509& cert, std::string_view role);
  policy::Result<std::int64_t> insert_cert_locked(const ImportRequest& req, const X509& leaf,
                                                  const smime::CertInfo& info);
  policy::Status store_key_locked(std::int64_t cert_id, const std::string& fingerprint,
                                  const EVP_PKEY& key, std::string_view actor);
  policy::Result<StaffRecord> staff_locked(std::string_view name);
  policy::Result<std::int64_t> set_staff_fields_locked(std::string_view name,
                                                       const StaffChange& change);
  policy::Status staff_emails_locked(std::int64_t id, const std::vector<std::string>& add,
                                     const std::vector<std::string>& remove);
  // Held certificates from `issuer_der` with any revocation recorded.
  policy::Result<std::vector<CrlRevocation>> crl_revoked_locked(std::string_view issuer_der);
  policy::Status record_newly_revoked_locked(std::string_view issuer_der,
                                             const std::vector<CrlRevocation>& before,
                                             std::string_view actor, CrlOutcome& out);
  policy::Result<ImportOutcome> import_locked(const ImportRequest& req, const X509& leaf,
                                              const EVP_PKEY* key);

  std::mutex mu_;
  Db db_;
  std::optional<Kek> kek_;
  std::int64_t data_version_ = -1;
  // By (fingerprint, any_time): a chain built without the time check is never handed
  // out for signing.
  std::map<std::pair<std::string, bool>, CachedKey> cache_;
  // Parsed certificates (d2i_X509 costs about 1.5 M instructions on OpenSSL 3.0), shared
  // read-only with callers; dropped with any change to the database (refresh_certs_locked).
  struct CertCache {
    std::int64_t data_version = -1;
    std::int64_t total_changes = -1;
    std::optional<std::vector<smime::ossl::Cert>> anchors, intermediates;
    std::map<std::string, smime::ossl::Cert, std::less<>> by_fingerprint;
    struct Chain {
      std::vector<smime::ossl::Cert> intermediates;
      std::int64_t valid_until = 0;  // unix time: the earliest notAfter on the path
    };
    std::map<std::string, Chain, std::less<>> chains;  // by leaf fingerprint
  };
  CertCache certs_;
};

}  // namespace keystore
