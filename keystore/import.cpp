// Keystore::import: one end-entity certificate (with optional private key and chain)
// into the directory. The chain must lead to a held trust anchor; intermediates on
// the verified path are kept. Importing the same thing twice changes nothing.
#include <string>

#include "keystore/keystore.h"
#include "keystore/util.h"
#include "smime/x509.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;
namespace ossl = smime::ossl;

namespace {

// The end-entity certificate of a bundle: the one matching the key, else the first
// certificate that is not a CA.
const X509* pick_leaf(const ImportRequest& req) {
  for (const auto& c : req.certs) {
    if (req.key && smime::key_matches(*c, *req.key)) {
      return c.get();
    }
  }
  if (req.key) {
    return nullptr;
  }
  for (const auto& c : req.certs) {
    if (!smime::inspect(*c).is_ca) {
      return c.get();
    }
  }
  return nullptr;
}

policy::Status check_leaf(const smime::CertInfo& info, const ImportRequest& req) {
  if (info.is_ca) {
    return unexpected(
        Errc::kInvalidArgument,
        "certificate " + info.subject + " is a CA certificate (use `smimectl trust add`)");
  }
  if (info.emails.empty()) {
    return unexpected(Errc::kMalformedInput,
                      "certificate " + info.subject + " has no e-mail address");
  }
  const std::int64_t now = detail::now_unix();
  if (!req.allow_expired && info.not_after <= now) {
    return unexpected(Errc::kExpired,
                      "certificate " + info.subject + " expired on " +
                          detail::utc_date(info.not_after) +
                          " (import it with --allow-expired; it will never be used)");
  }
  if (!req.allow_expired && info.not_before > now) {
    return unexpected(Errc::kExpired, "certificate " + info.subject + " is not valid before " +
                                          detail::utc_date(info.not_before));
  }
  return {};
}

}  // namespace

policy::Result<ImportOutcome> Keystore::import(const ImportRequest& req) {
  if (req.certs.empty()) {
    return unexpected(Errc::kMalformedInput, "no certificate to import");
  }
  const X509* leaf = pick_leaf(req);
  if (leaf == nullptr) {
    return unexpected(Errc::kInvalidArgument,
                      req.key ? "the private key matches none of the certificates"
                              : "no end-entity certificate among the certificates");
  }
  if (req.key && !kek_) {
    return unexpected(Errc::kConfig,
                      "importing a private key needs the key-encryption secret "
                      "(keystore.secret_file / --secret-file)");
  }
  const std::lock_guard lock(mu_);
  return import_locked(req, *leaf, req.key.get());
}

policy::Result<std::int64_t> Keystore::upsert_staff_locked(const ImportRequest& req,
                                                           const std::vector<std::string>& emails) {
  if (auto s =
          db_.execute("INSERT INTO staff(name, employee_no, department) VALUES(?1, NULLIF(?2,''), "
                      "NULLIF(?3,'')) ON CONFLICT(name) DO UPDATE SET "
                      "employee_no=COALESCE(excluded.employee_no, employee_no), "
                      "department=COALESCE(excluded.department, department)",
                      req.owner, req.employee_no, req.department);
      !s) {
    return s.error();
  }
  auto row = db_.first_row("SELECT id FROM staff WHERE name=?1", req.owner);
  if (!row || !*row) {
    return row ? unexpected(Errc::kInternal, "staff row vanished") : std::move(row).error();
  }
  const std::int64_t staff_id = (*row)->col_int(0);
  for (const auto& e : emails) {
    if (auto s = db_.execute("INSERT OR IGNORE INTO staff_emails(staff_id, email) VALUES(?1, ?2)",
                             staff_id, e);
        !s) {
      return s.error();
    }
  }
  return staff_id;
}

policy::Result<std::int64_t> Keystore::insert_cert_locked(const ImportRequest& req,
                                                          const X509& leaf,
                                                          const smime::CertInfo& info) {
  std::optional<std::int64_t> owner;
  if (!req.owner.empty()) {
    auto id = upsert_staff_locked(req, info.emails);
    if (!id) {
      return std::move(id).error();
    }
    owner = *id;
  }
  auto ins = db_.prepare(
      "INSERT INTO certs(fingerprint, der, subject, issuer, issuer_der, serial, not_before, "
      "not_after, key_type, key_bits, key_usage, has_key_usage, eku_email, ski, fit_sign, "
      "fit_encrypt, type, owner_id, department, origin, added_at) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)");
  if (!ins) {
    return std::move(ins).error();
  }
  ins->bind(1, info.fingerprint_sha256).bind_blob(2, smime::to_der(leaf)).bind(3, info.subject);
  ins->bind(4, info.issuer).bind_blob(5, detail::name_der(::X509_get_issuer_name(&leaf)));
  ins->bind(6, detail::norm_serial(info.serial_hex)).bind(7, info.not_before);
  ins->bind(8, info.not_after).bind(9, info.key_type).bind(10, info.key_bits);
  ins->bind(11, static_cast<std::int64_t>(info.key_usage)).bind(12, info.has_key_usage ? 1 : 0);
  ins->bind(13, (!info.has_ext_key_usage || info.eku_email_protection) ? 1 : 0);
  ins->bind(14, info.ski_hex).bind(15, smime::fit_for_signing(info) ? 1 : 0);
  ins->bind(16, smime::fit_for_encryption(info) ? 1 : 0).bind(17, cert_type_name(req.type));
  if (owner) {
    ins->bind(18, *owner);
  } else {
    ins->bind_null(18);
  }
  ins->bind(19, req.department).bind(20, req.harvested ? "harvested" : "admin");
  ins->bind(21, detail::now_unix());
  if (auto s = ins->run(); !s) {
    return s.error();
  }
  const std::int64_t cert_id = db_.last_insert_rowid();
  for (const auto& e : info.emails) {
    if (auto s = db_.execute("INSERT OR IGNORE INTO cert_emails(cert_id, email) VALUES(?1, ?2)",
                             cert_id, e);
        !s) {
      return s.error();
    }
  }
  if (auto s = record_import_history_locked(cert_id, info, req.actor); !s) {
    return s.error();
  }
  return cert_id;
}

policy::Status Keystore::store_key_locked(std::int64_t cert_id, const std::string& fingerprint,
                                          const EVP_PKEY& key, std::string_view actor) {
  auto w = kek_->wrap(key, fingerprint);
  if (!w) {
    return std::move(w).error();
  }
  if (auto s = db_.execute(
          "INSERT INTO private_keys(cert_id, nonce, wrapped, added_at) VALUES(?1,?2,?3,?4)",
          cert_id, Blob{w->nonce}, Blob{w->data}, detail::now_unix());
      !s) {
    return s;
  }
  return history_locked(fingerprint, "key-stored", "", actor);
}

policy::Result<ImportOutcome> Keystore::import_locked(const ImportRequest& req, const X509& leaf,
                                                      const EVP_PKEY* key) {
  const smime::CertInfo info = smime::inspect(leaf);
  if (auto s = check_leaf(info, req); !s) {
    return s.error();
  }
  auto chain = verified_chain_locked(leaf, req.certs, req.allow_expired);
  if (!chain) {
    return unexpected(chain.error().code(),
                      "certificate " + info.subject + ": " + chain.error().detail());
  }
  ImportOutcome out{info.fingerprint_sha256,
                    info.subject,
                    info.emails,
                    false,
                    false,
                    detail::norm_serial(info.serial_hex),
                    info.not_before,
                    info.not_after};
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  auto row = db_.first_row(
      "SELECT id, EXISTS(SELECT 1 FROM private_keys WHERE cert_id=certs.id) FROM certs "
      "WHERE fingerprint=?1",
      info.fingerprint_sha256);
  if (!row) {
    return std::move(row).error();
  }
  std::int64_t cert_id = *row ? (*row)->col_int(0) : 0;
  const bool had_key = *row && (*row)->col_int(1) != 0;
  if (cert_id == 0) {
    auto id = insert_cert_locked(req, leaf, info);
    if (!id) {
      return std::move(id).error();
    }
    cert_id = *id;
    out.changed = true;
  }
  if (key != nullptr && !had_key) {
    if (auto s = store_key_locked(cert_id, info.fingerprint_sha256, *key, req.actor); !s) {
      return s.error();
    }
    out.changed = out.key_stored = true;
  }
  for (const auto& c : *chain) {
    auto changed = store_ca_locked(*c, "intermediate");
    if (!changed) {
      return std::move(changed).error();
    }
    out.changed = out.changed || *changed;
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  return out;
}

// "imported", or "renewed" when an earlier certificate shares an address.
policy::Status Keystore::record_import_history_locked(std::int64_t cert_id,
                                                      const smime::CertInfo& info,
                                                      std::string_view actor) {
  auto row = db_.first_row(
      "SELECT c.fingerprint FROM certs c JOIN cert_emails e ON e.cert_id=c.id "
      "WHERE c.id<>?1 AND e.email IN (SELECT email FROM cert_emails WHERE cert_id=?1) "
      "AND c.not_before<?2 ORDER BY c.not_before DESC LIMIT 1",
      cert_id, info.not_before);
  if (!row) {
    return std::move(row).error();
  }
  if (*row) {
    return history_locked(info.fingerprint_sha256, "renewed", "supersedes " + (*row)->col_text(0),
                          actor);
  }
  return history_locked(info.fingerprint_sha256, "imported", info.subject, actor);
}

// A CA certificate already held keeps its row; an intermediate becomes an anchor when
// added as one, an anchor never turns back into an intermediate.
policy::Result<bool> Keystore::store_ca_locked(const X509& cert, std::string_view role) {
  const smime::CertInfo info = smime::inspect(cert);
  if (auto s = db_.execute(
          "INSERT INTO ca_certs(fingerprint, der, subject, subject_der, issuer, not_after, role, "
          "added_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(fingerprint) DO UPDATE SET "
          "role=excluded.role WHERE excluded.role='anchor' AND role<>'anchor'",
          info.fingerprint_sha256, Blob{smime::to_der(cert)}, info.subject,
          Blob{detail::name_der(::X509_get_subject_name(&cert))}, info.issuer, info.not_after, role,
          detail::now_unix());
      !s) {
    return s.error();
  }
  return db_.changes() > 0;
}

}  // namespace keystore
