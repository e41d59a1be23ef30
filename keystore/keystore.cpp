// Keystore: opening, the key-encryption key, and the lookups the milter uses.
// Administration (import, trust, revoke, CRL) is in admin.cpp.
#include "keystore/keystore.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

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
  auto st = db.prepare("SELECT value FROM meta WHERE key=?1");
  if (!st) {
    return std::move(st).error();
  }
  st->bind(1, key);
  auto row = st->step();
  if (!row) {
    return std::move(row).error();
  }
  if (!*row) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(st->col_blob(0));
}

policy::Status meta_put(Db& db, std::string_view key, std::string_view value) {
  auto st = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
  if (!st) {
    return std::move(st).error();
  }
  return st->bind(1, key).bind_blob(2, value).run();
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

policy::Result<std::vector<ossl::Cert>> Keystore::ca_certs_locked(std::string_view role) {
  auto st = db_.prepare("SELECT der FROM ca_certs WHERE role=?1 ORDER BY id");
  if (!st) {
    return std::move(st).error();
  }
  st->bind(1, role);
  std::vector<ossl::Cert> out;
  for (;;) {
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      return out;
    }
    auto cert = smime::parse_cert(st->col_blob(0));
    if (!cert) {
      return unexpected(Errc::kUnavailable,
                        "corrupt CA certificate record: " + cert.error().detail());
    }
    out.push_back(std::move(*cert));
  }
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

policy::Result<bool> Keystore::revoked_locked(const X509& cert) {
  auto st = db_.prepare("SELECT 1 FROM revocations WHERE issuer_der=?1 AND serial=?2");
  if (!st) {
    return std::move(st).error();
  }
  st->bind_blob(1, detail::name_der(::X509_get_issuer_name(&cert)));
  st->bind(2, detail::norm_serial(smime::inspect(cert).serial_hex));
  return st->step();
}

policy::Result<smime::Credential> Keystore::credential_locked(std::int64_t cert_id,
                                                              const std::string& fingerprint,
                                                              const std::string& der) {
  auto cert = smime::parse_cert(der);
  if (!cert) {
    return unexpected(Errc::kUnavailable, "corrupt certificate record " + fingerprint);
  }
  auto it = cache_.find(fingerprint);
  if (it == cache_.end()) {
    if (!kek_) {
      return unexpected(Errc::kUnavailable,
                        "private keys are not accessible: no key-encryption secret configured");
    }
    auto st = db_.prepare("SELECT nonce, wrapped FROM private_keys WHERE cert_id=?1");
    if (!st) {
      return std::move(st).error();
    }
    st->bind(1, cert_id);
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      return unexpected(Errc::kNoKey, "no private key held for " + fingerprint);
    }
    auto key = kek_->unwrap(Wrapped{st->col_blob(0), st->col_blob(1)}, fingerprint);
    if (!key) {
      return std::move(key).error();
    }
    auto chain = verified_chain_locked(**cert, {}, false);
    if (!chain) {
      return std::move(chain).error();
    }
    it = cache_.emplace(fingerprint, CachedKey{std::move(*key), std::move(*chain)}).first;
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
constexpr const char* kDecryptionSql =
    "SELECT c.id, c.fingerprint, c.der FROM certs c JOIN private_keys k ON k.cert_id=c.id "
    "WHERE ((c.issuer_der=?2 AND c.serial=?3) OR (?4<>'' AND c.ski=?4) OR ?5=1) "
    "AND c.not_before<=?1 AND c.not_after>?1 "
    "AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.issuer_der=c.issuer_der AND "
    "r.serial=c.serial) "
    "ORDER BY c.not_before DESC, c.id DESC";
}  // namespace

smime::Lookup<smime::Credential> Keystore::signing_credential(
    std::string_view sender, std::span<const CertType> preference) {
  const std::lock_guard lock(mu_);
  refresh_cache_locked();
  auto st = db_.prepare(kSigningSql);
  if (!st) {
    return std::move(st).error();
  }
  st->bind(1, detail::now_unix()).bind(2, detail::lower(sender));
  struct Row {
    std::int64_t id;
    std::string fp, der;
    std::size_t rank;
  };
  std::vector<Row> rows;
  for (;;) {
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      break;
    }
    const auto type = parse_cert_type(st->col_text(3)).value_or(CertType::kIndividual);
    const auto pos = std::find(preference.begin(), preference.end(), type);
    if (!preference.empty() && pos == preference.end()) {
      continue;
    }
    rows.push_back({st->col_int(0), st->col_text(1), st->col_blob(2),
                    static_cast<std::size_t>(pos - preference.begin())});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.rank < b.rank; });
  for (const auto& r : rows) {
    auto cred = credential_locked(r.id, r.fp, r.der);
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
  auto st = db_.prepare(kEncryptionSql);
  if (!st) {
    return std::move(st).error();
  }
  st->bind(1, detail::now_unix()).bind(2, detail::lower(recipient));
  std::vector<RecipientCert> out;
  for (;;) {
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      return out;
    }
    auto cert = smime::parse_cert(st->col_blob(2));
    if (!cert) {
      return unexpected(Errc::kUnavailable, "corrupt certificate record " + st->col_text(1));
    }
    auto chain = verified_chain_locked(**cert, {}, false);
    if (!chain) {
      if (chain.error().code() == Errc::kUntrustedChain) {
        continue;  // its anchor was removed: no longer usable
      }
      return std::move(chain).error();
    }
    RecipientCert rc;
    rc.cert = std::move(*cert);
    rc.fingerprint = st->col_text(1);
    rc.type = parse_cert_type(st->col_text(3)).value_or(CertType::kIndividual);
    if (!st->col_null(4)) {
      rc.caps.aes_gcm = st->col_int(4) != 0;
    }
    rc.not_after = st->col_int(5);
    out.push_back(std::move(rc));
  }
}

policy::Result<std::vector<smime::Credential>> Keystore::key_rows_locked(
    std::string_view issuer_der, std::string_view serial, std::string_view ski, bool all) {
  refresh_cache_locked();
  auto st = db_.prepare(kDecryptionSql);
  if (!st) {
    return std::move(st).error();
  }
  st->bind(1, detail::now_unix()).bind_blob(2, issuer_der).bind(3, detail::norm_serial(serial));
  st->bind(4, detail::lower(ski)).bind(5, all ? 1 : 0);
  std::vector<smime::Credential> out;
  for (;;) {
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      return out;
    }
    auto cred = credential_locked(st->col_int(0), st->col_text(1), st->col_blob(2));
    if (cred) {
      out.push_back(std::move(*cred));
    } else if (cred.error().code() != Errc::kUntrustedChain) {
      return std::move(cred).error();
    }
  }
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
  const std::string serial = detail::norm_serial(smime::inspect(cert).serial_hex);
  const std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT reason, revoked_at FROM revocations WHERE issuer_der=?1 AND serial=?2 ORDER BY "
      "revoked_at LIMIT 1");
  if (!st) {
    return std::move(st).error();
  }
  st->bind_blob(1, issuer_der).bind(2, serial);
  auto row = st->step();
  if (!row) {
    return std::move(row).error();
  }
  smime::Revocation rev;
  if (*row) {
    rev.state = smime::RevocationState::kRevoked;
    rev.reason = st->col_text(0);
    rev.revoked_at = st->col_int(1);
    return rev;
  }
  auto crl = db_.prepare("SELECT next_update FROM crls WHERE issuer_der=?1");
  if (!crl) {
    return std::move(crl).error();
  }
  crl->bind_blob(1, issuer_der);
  auto crow = crl->step();
  if (!crow) {
    return std::move(crow).error();
  }
  if (!*crow) {
    rev.detail = "no CRL held from the issuer";
  } else if (crl->col_int(0) <= detail::now_unix()) {
    rev.detail = "the issuer's CRL is past its nextUpdate";
  } else {
    rev.state = smime::RevocationState::kGood;
  }
  return rev;
}

}  // namespace keystore
