// Keystore: opening, the key-encryption key, and the lookups the milter uses.
// Administration (import, trust, revoke, CRL) is in admin.cpp.
#include "keystore/keystore.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <sqlite3.h>

#include "keystore/schema.h"
#include "keystore/util.h"
#include "smime/x509.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;
namespace ossl = smime::ossl;

namespace {

constexpr std::array<std::string_view, 3> kTypeNames = {"individual", "role", "system"};
constexpr std::array<std::string_view, 10> kReasons = {
    "unspecified",        "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",         "cessationOfOperation", "certificateHold", "removeFromCRL",
    "privilegeWithdrawn", "aACompromise"};

policy::Result<std::optional<std::string>> meta_get(Db& db, std::string_view key) {
  auto row = db.first_row("SELECT value FROM meta WHERE key=?1", key);
  if (!row) {
    return std::move(row).error();
  }
  return *row ? std::optional<std::string>((*row)->col_blob(0)) : std::nullopt;
}

policy::Status meta_put(Db& db, std::string_view key, std::string_view value) {
  return db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", key, Blob{value});
}

// Derives the KEK from the stored parameters, or creates them on first use.
policy::Result<Kek> load_kek(Db& db, const std::string& secret, bool may_write) {
  auto salt = meta_get(db, "kek_salt");
  auto check = meta_get(db, "kek_check");
  if (!salt || !check) {
    return !salt ? std::move(salt).error() : std::move(check).error();
  }
  if (salt->has_value() && check->has_value()) {
    KekParams p;
    p.salt = **salt;
    p.check = **check;
    return Kek::derive(secret, p);
  }
  if (!may_write) {
    return unexpected(Errc::kUnavailable,
                      "keystore has no key-encryption key yet (open it read-write once)");
  }
  auto created = Kek::create(secret);
  if (!created) {
    return std::move(created).error();
  }
  auto tx = Transaction::begin(db);
  if (!tx) {
    return std::move(tx).error();
  }
  if (auto s = meta_put(db, "kek_salt", created->second.salt); !s) {
    return s.error();
  }
  if (auto s = meta_put(db, "kek_check", created->second.check); !s) {
    return s.error();
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  return std::move(created->first);
}

}  // namespace

std::string_view cert_type_name(CertType t) {
  return kTypeNames[static_cast<std::size_t>(t)];
}

std::optional<CertType> parse_cert_type(std::string_view s) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == s) {
      return static_cast<CertType>(i);
    }
  }
  return std::nullopt;
}

bool is_revocation_reason(std::string_view s) {
  return std::find(kReasons.begin(), kReasons.end(), s) != kReasons.end();
}

policy::Result<std::unique_ptr<Keystore>> Keystore::open(const std::string& path,
                                                         const OpenOptions& opts) {
  const bool exists = std::filesystem::exists(path);
  if (!exists && !opts.create) {
    return unexpected(Errc::kUnavailable,
                      "keystore " + path + " does not exist (run `smimectl init`)");
  }
  if (exists) {
    if (auto s = check_private_file(path, "keystore database", opts.allow_unsafe_permissions); !s) {
      return s.error();
    }
  }
  Db::Options dbo;
  dbo.create = opts.create;
  dbo.read_only = opts.read_only && !opts.create;
  auto db = Db::open(path, dbo);
  if (!db) {
    return std::move(db).error();
  }
  if (!exists) {
    ::chmod(path.c_str(), 0600);
  }
  auto version = db->query_int("PRAGMA user_version");
  if (!version) {
    return unexpected(Errc::kUnavailable, path + ": " + version.error().detail());
  }
  if (*version == 0 && !opts.create) {
    return unexpected(Errc::kUnavailable,
                      "keystore " + path + " is not initialised (run `smimectl init`)");
  }
  if (auto s = prepare_schema(*db, !dbo.read_only); !s) {
    return unexpected(s.error().code(), path + ": " + s.error().detail());
  }
  std::optional<Kek> kek;
  if (!opts.secret_file.empty()) {
    auto secret = read_secret_file(opts.secret_file, opts.allow_unsafe_permissions);
    if (!secret) {
      return std::move(secret).error();
    }
    auto k = load_kek(*db, *secret, !dbo.read_only);
    ::OPENSSL_cleanse(secret->data(), secret->size());
    if (!k) {
      return std::move(k).error();
    }
    kek.emplace(std::move(*k));
  }
  return std::unique_ptr<Keystore>(new Keystore(std::move(*db), std::move(kek)));
}

void Keystore::refresh_cache_locked() {
  auto v = db_.query_int("PRAGMA data_version");
  if (!v || *v != data_version_) {
    cache_.clear();
    data_version_ = v ? *v : -1;
  }
}

void Keystore::refresh_certs_locked() {
  auto v = db_.query_int("PRAGMA data_version");
  const std::int64_t changes = ::sqlite3_total_changes(db_.raw());
  if (!v || *v != certs_.data_version || changes != certs_.total_changes) {
    certs_ = CertCache{};
    certs_.data_version = v ? *v : -1;  // -1 never matches: nothing is kept on error
    certs_.total_changes = changes;
  }
}

policy::Result<ossl::Cert> Keystore::row_cert_locked(const std::string& fingerprint,
                                                     std::string_view der) {
  refresh_certs_locked();
  if (auto it = certs_.by_fingerprint.find(fingerprint); it != certs_.by_fingerprint.end()) {
    return ossl::share(it->second.get());
  }
  auto cert = smime::parse_cert(der);
  if (!cert) {
    return unexpected(Errc::kUnavailable, "corrupt certificate record " + fingerprint);
  }
  if (certs_.data_version != -1) {
    certs_.by_fingerprint.emplace(fingerprint, ossl::share(cert->get()));
  }
  return std::move(*cert);
}

policy::Result<std::vector<ossl::Cert>> Keystore::ca_certs_locked(std::string_view role) {
  refresh_certs_locked();
  auto& cached = role == "anchor" ? certs_.anchors : certs_.intermediates;
  if (!cached) {
    auto st = db_.query("SELECT der FROM ca_certs WHERE role=?1 ORDER BY id", role);
    if (!st) {
      return std::move(st).error();
    }
    std::vector<ossl::Cert> parsed;
    auto s = st->each_row([&](const Stmt& r) -> policy::Status {
      auto cert = smime::parse_cert(r.col_blob(0));
      if (!cert) {
        return unexpected(Errc::kUnavailable,
                          "corrupt CA certificate record: " + cert.error().detail());
      }
      parsed.push_back(std::move(*cert));
      return {};
    });
    if (!s) {
      return s.error();
    }
    if (certs_.data_version == -1) {
      return parsed;
    }
    cached = std::move(parsed);
  }
  std::vector<ossl::Cert> out;
  out.reserve(cached->size());
  for (const auto& c : *cached) {
    out.push_back(ossl::share(c.get()));
  }
  return out;
}

// Path from `leaf` to a held trust anchor; returns the intermediates (leaf's issuer
// first, without the anchor). kUntrustedChain when there is no such path.
policy::Result<std::vector<ossl::Cert>> Keystore::verified_chain_locked(
    const X509& leaf, const std::vector<ossl::Cert>& extra, bool allow_expired) {
  auto anchors = ca_certs_locked("anchor");
  auto inters = ca_certs_locked("intermediate");
  if (!anchors || !inters) {
    return !anchors ? std::move(anchors).error() : std::move(inters).error();
  }
  ossl::Store store(::X509_STORE_new());
  for (auto& a : *anchors) {
    ::X509_STORE_add_cert(store.get(), a.get());
  }
  std::vector<ossl::Cert> untrusted;
  for (auto& c : *inters) {
    untrusted.push_back(ossl::share(c.get()));
  }
  for (const auto& c : extra) {
    untrusted.push_back(ossl::share(c.get()));
  }
  ossl::CertStack stack = ossl::make_stack(untrusted);
  ossl::StoreCtx ctx(::X509_STORE_CTX_new());
  if (!store || !ctx ||
      ::X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(&leaf), stack.get()) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot set up chain verification"));
  }
  if (allow_expired) {
    ::X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  }
  if (::X509_verify_cert(ctx.get()) != 1) {
    const int err = ::X509_STORE_CTX_get_error(ctx.get());
    ::ERR_clear_error();
    return unexpected(Errc::kUntrustedChain,
                      std::string("chain does not lead to a trust anchor in the directory: ") +
                          ::X509_verify_cert_error_string(err));
  }
  STACK_OF(X509)* chain = ::X509_STORE_CTX_get0_chain(ctx.get());  // borrowed from ctx
  std::vector<ossl::Cert> out;
  const int n = sk_X509_num(chain);
  for (int i = 1; i + 1 < n; ++i) {
    out.push_back(ossl::share(sk_X509_value(chain, i)));
  }
  for (const auto& ca : out) {  // a revoked intermediate breaks the chain (RFC 5280 6.3)
    auto revoked = revoked_locked(*ca);
    if (!revoked) {
      return std::move(revoked).error();
    }
    if (*revoked) {
      return unexpected(Errc::kUntrustedChain,
                        "intermediate " + smime::inspect(*ca).subject + " is revoked");
    }
  }
  return out;
}

policy::Result<std::vector<ossl::Cert>> Keystore::cached_chain_locked(
    const std::string& fingerprint, const X509& leaf) {
  refresh_certs_locked();
  const std::int64_t now = detail::now_unix();
  if (auto it = certs_.chains.find(fingerprint);
      it != certs_.chains.end() && now < it->second.valid_until) {
    std::vector<ossl::Cert> out;
    for (const auto& c : it->second.intermediates) {
      out.push_back(ossl::share(c.get()));
    }
    return out;
  }
  auto chain = verified_chain_locked(leaf, {}, false);
  if (!chain || certs_.data_version == -1) {
    return chain;
  }
  std::int64_t until = smime::to_unix(::X509_get0_notAfter(&leaf));
  for (const auto& c : *chain) {
    until = std::min(until, smime::to_unix(::X509_get0_notAfter(c.get())));
  }
  if (auto anchors = ca_certs_locked("anchor"); anchors) {
    for (const auto& a : *anchors) {  // which anchor ended the path is not returned
      until = std::min(until, smime::to_unix(::X509_get0_notAfter(a.get())));
    }
  } else {
    return chain;
  }
  CertCache::Chain kept{{}, until};
  for (const auto& c : *chain) {
    kept.intermediates.push_back(ossl::share(c.get()));
  }
  certs_.chains.insert_or_assign(fingerprint, std::move(kept));
  return chain;
}

policy::Result<bool> Keystore::revoked_locked(const X509& cert) {
  auto row = db_.first_row("SELECT 1 FROM revocations WHERE issuer_der=?1 AND serial=?2",
                           Blob{detail::name_der(::X509_get_issuer_name(&cert))},
                           detail::norm_serial(smime::serial_hex(cert)));
  if (!row) {
    return std::move(row).error();
  }
  return row->has_value();
}

policy::Result<smime::Credential> Keystore::credential_locked(const KeyRow& k) {
  auto cert = row_cert_locked(k.fingerprint, k.der);
  if (!cert) {
    return std::move(cert).error();
  }
  auto it = cache_.find({k.fingerprint, k.any_time});
  if (it == cache_.end()) {
    if (!kek_) {
      return unexpected(Errc::kUnavailable,
                        "private keys are not accessible: no key-encryption secret configured");
    }
    auto row = db_.first_row("SELECT nonce, wrapped FROM private_keys WHERE cert_id=?1", k.id);
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      return unexpected(Errc::kNoKey, "no private key held for " + k.fingerprint);
    }
    auto key = kek_->unwrap(Wrapped{(*row)->col_blob(0), (*row)->col_blob(1)}, k.fingerprint);
    if (!key) {
      return std::move(key).error();
    }
    auto chain = verified_chain_locked(**cert, {}, k.any_time);
    if (!chain) {
      return std::move(chain).error();
    }
    it = cache_
             .emplace(std::pair{k.fingerprint, k.any_time},
                      CachedKey{std::move(*key), std::move(*chain)})
             .first;
  }
  smime::Credential cred;
  cred.cert = std::move(*cert);
  cred.key = ossl::share(it->second.key.get());
  for (const auto& c : it->second.chain) {
    cred.chain.push_back(ossl::share(c.get()));
  }
  return cred;
}

namespace {
// Columns: id, fingerprint, der, type. Validity and revocation filters are common to
// every lookup; ?1 is "now".
constexpr const char* kSigningSql =
    "SELECT c.id, c.fingerprint, c.der, c.type FROM certs c "
    "JOIN cert_emails e ON e.cert_id=c.id JOIN private_keys k ON k.cert_id=c.id "
    "WHERE e.email=?2 AND c.fit_sign=1 AND c.not_before<=?1 AND c.not_after>?1 "
    "AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.issuer_der=c.issuer_der AND "
    "r.serial=c.serial) "
    "ORDER BY c.not_before DESC, c.id DESC";
constexpr const char* kEncryptionSql =
    "SELECT c.id, c.fingerprint, c.der, c.type, c.caps_aes_gcm, c.not_after FROM certs c "
    "JOIN cert_emails e ON e.cert_id=c.id "
    "WHERE e.email=?2 AND c.fit_encrypt=1 AND c.not_before<=?1 AND c.not_after>?1 "
    "AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.issuer_der=c.issuer_der AND "
    "r.serial=c.serial) "
    "ORDER BY c.not_before DESC, c.id DESC";
// No notAfter filter: mail encrypted to a key while its certificate was valid stays
// readable after the certificate expired (see decryption_key in keystore.h).
constexpr const char* kDecryptionSql =
    "SELECT c.id, c.fingerprint, c.der FROM certs c JOIN private_keys k ON k.cert_id=c.id "
    "WHERE ((c.issuer_der=?2 AND c.serial=?3) OR (?4<>'' AND c.ski=?4) OR ?5=1) "
    "AND c.not_before<=?1 "
    "AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.issuer_der=c.issuer_der AND "
    "r.serial=c.serial) "
    "ORDER BY c.not_before DESC, c.id DESC";
}  // namespace

smime::Lookup<smime::Credential> Keystore::signing_credential(
    std::string_view sender, std::span<const CertType> preference) {
  const std::lock_guard lock(mu_);
  refresh_cache_locked();
  auto st = db_.query(kSigningSql, detail::now_unix(), detail::lower(sender));
  if (!st) {
    return std::move(st).error();
  }
  std::vector<std::pair<std::size_t, KeyRow>> rows;  // (rank in preference, row)
  auto s = st->each_row([&](const Stmt& r) {
    const auto type = parse_cert_type(r.col_text(3)).value_or(CertType::kIndividual);
    const auto pos = std::find(preference.begin(), preference.end(), type);
    if (preference.empty() || pos != preference.end()) {
      rows.emplace_back(static_cast<std::size_t>(pos - preference.begin()),
                        KeyRow{r.col_int(0), r.col_text(1), r.col_blob(2), false});
    }
  });
  if (!s) {
    return s.error();
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [rank, r] : rows) {
    auto cred = credential_locked(r);
    if (cred) {
      return std::optional<smime::Credential>(std::move(*cred));
    }
    if (cred.error().code() != Errc::kUntrustedChain) {
      return std::move(cred).error();
    }
  }
  return std::optional<smime::Credential>();
}

policy::Result<std::vector<RecipientCert>> Keystore::encryption_certs(std::string_view recipient) {
  const std::lock_guard lock(mu_);
  auto st = db_.query(kEncryptionSql, detail::now_unix(), detail::lower(recipient));
  if (!st) {
    return std::move(st).error();
  }
  std::vector<RecipientCert> out;
  auto s = st->each_row([&](const Stmt& r) -> policy::Status {
    auto cert = row_cert_locked(r.col_text(1), r.col_blob(2));
    if (!cert) {
      return std::move(cert).error();
    }
    auto chain = cached_chain_locked(r.col_text(1), **cert);
    if (!chain) {  // kUntrustedChain: its anchor was removed, no longer usable
      return chain.error().code() == Errc::kUntrustedChain ? policy::Status()
                                                           : std::move(chain).error();
    }
    RecipientCert rc{std::move(*cert),
                     r.col_text(1),
                     parse_cert_type(r.col_text(3)).value_or(CertType::kIndividual),
                     {},
                     r.col_int(5)};
    if (!r.col_null(4)) {
      rc.caps.aes_gcm = r.col_int(4) != 0;
    }
    out.push_back(std::move(rc));
    return {};
  });
  if (!s) {
    return s.error();
  }
  return out;
}

policy::Result<std::vector<smime::Credential>> Keystore::key_rows_locked(
    std::string_view issuer_der, std::string_view serial, std::string_view ski, bool all) {
  refresh_cache_locked();
  auto st = db_.query(kDecryptionSql, detail::now_unix(), Blob{issuer_der},
                      detail::norm_serial(serial), detail::lower(ski), all ? 1 : 0);
  if (!st) {
    return std::move(st).error();
  }
  std::vector<smime::Credential> out;
  auto s = st->each_row([&](const Stmt& r) -> policy::Status {
    auto cred = credential_locked(KeyRow{r.col_int(0), r.col_text(1), r.col_blob(2), true});
    if (cred) {
      out.push_back(std::move(*cred));
    } else if (cred.error().code() != Errc::kUntrustedChain) {
      return std::move(cred).error();
    }
    return {};
  });
  if (!s) {
    return s.error();
  }
  return out;
}

smime::Lookup<smime::Credential> Keystore::decryption_key(const smime::CertId& id) {
  const std::lock_guard lock(mu_);
  auto creds = key_rows_locked(id.issuer_der, id.serial_hex.empty() ? "-" : id.serial_hex,
                               id.ski_hex, false);
  if (!creds) {
    return std::move(creds).error();
  }
  if (creds->empty()) {
    return std::optional<smime::Credential>();
  }
  return std::optional<smime::Credential>(std::move(creds->front()));
}

policy::Result<std::vector<smime::Credential>> Keystore::all_decryption_keys() {
  const std::lock_guard lock(mu_);
  return key_rows_locked({}, "-", {}, true);
}

policy::Result<std::vector<ossl::Cert>> Keystore::anchors() {
  const std::lock_guard lock(mu_);
  return ca_certs_locked("anchor");
}

policy::Result<std::vector<ossl::Cert>> Keystore::intermediates() {
  const std::lock_guard lock(mu_);
  return ca_certs_locked("intermediate");
}

policy::Result<smime::Revocation> Keystore::status(const X509& cert, const X509& issuer) {
  (void)issuer;  // the CRL we hold was verified against the issuer in the directory
  const std::string issuer_der = detail::name_der(::X509_get_issuer_name(&cert));
  const std::string serial = detail::norm_serial(smime::serial_hex(cert));
  const std::lock_guard lock(mu_);
  auto row = db_.first_row(
      "SELECT reason, revoked_at FROM revocations WHERE issuer_der=?1 AND serial=?2 ORDER BY "
      "revoked_at LIMIT 1",
      Blob{issuer_der}, serial);
  if (!row) {
    return std::move(row).error();
  }
  smime::Revocation rev;
  if (*row) {
    rev.state = smime::RevocationState::kRevoked;
    rev.reason = (*row)->col_text(0);
    rev.revoked_at = (*row)->col_int(1);
    return rev;
  }
  auto crl = db_.first_row("SELECT next_update FROM crls WHERE issuer_der=?1", Blob{issuer_der});
  if (!crl) {
    return std::move(crl).error();
  }
  if (!*crl) {
    rev.detail = "no CRL held from the issuer";
  } else if ((*crl)->col_int(0) <= detail::now_unix()) {
    rev.detail = "the issuer's CRL is past its nextUpdate";
  } else {
    rev.state = smime::RevocationState::kGood;
  }
  return rev;
}

}  // namespace keystore
