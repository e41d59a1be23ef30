// Keystore administration: trust anchors, certificate import, listings, revocation.
// CRL import is in crl.cpp. Each change runs in one transaction.
#include <algorithm>
#include <string>

#include "keystore/keystore.h"
#include "keystore/util.h"
#include "smime/x509.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;
namespace ossl = smime::ossl;

namespace {

constexpr const char* kRecordSql =
    "SELECT c.fingerprint, c.subject, c.issuer, c.serial, c.key_type, c.key_bits, c.not_before, "
    "c.not_after, "
    "c.type, c.origin, c.fit_sign, c.fit_encrypt, c.der, COALESCE(s.name,''), "
    "CASE WHEN c.department<>'' THEN c.department ELSE COALESCE(s.department,'') END, "
    "EXISTS(SELECT 1 FROM private_keys k WHERE k.cert_id=c.id), "
    "COALESCE((SELECT group_concat(email, ',') FROM cert_emails WHERE cert_id=c.id), ''), "
    "(SELECT reason FROM revocations r WHERE r.issuer_der=c.issuer_der AND r.serial=c.serial "
    " ORDER BY revoked_at LIMIT 1), "
    "(SELECT min(revoked_at) FROM revocations r WHERE r.issuer_der=c.issuer_der AND "
    "r.serial=c.serial) "
    "FROM certs c LEFT JOIN staff s ON s.id=c.owner_id WHERE ";

constexpr const char* kWhereAll = "?1 IS NOT NULL OR ?1 IS NULL";
constexpr const char* kWhereFingerprint = "c.fingerprint=?1";
constexpr const char* kWhereSerial = "c.serial=?1";
constexpr const char* kWhereEmail = "c.id IN (SELECT cert_id FROM cert_emails WHERE email=?1)";
constexpr const char* kWhereExpiring =
    "c.not_after>?2 AND c.not_after<=?3 AND NOT EXISTS (SELECT 1 FROM revocations r "
    "WHERE r.issuer_der=c.issuer_der AND r.serial=c.serial)";

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto end = s.find(',', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return out;
}

// One row of kRecordSql.
CertRecord cert_record(const Stmt& st) {
  CertRecord r;
  r.fingerprint = st.col_text(0);
  r.subject = st.col_text(1);
  r.issuer = st.col_text(2);
  r.serial = st.col_text(3);
  r.key_type = st.col_text(4);
  r.key_bits = static_cast<int>(st.col_int(5));
  r.not_before = st.col_int(6);
  r.not_after = st.col_int(7);
  r.type = parse_cert_type(st.col_text(8)).value_or(CertType::kIndividual);
  r.origin = st.col_text(9);
  r.fit_sign = st.col_int(10) != 0;
  r.fit_encrypt = st.col_int(11) != 0;
  r.der = st.col_blob(12);
  r.owner = st.col_text(13);
  r.department = st.col_text(14);
  r.has_key = st.col_int(15) != 0;
  r.emails = split_csv(st.col_text(16));
  if (!st.col_null(17)) {
    r.revoked_reason = st.col_text(17);
    r.revoked_at = st.col_int(18);
  }
  return r;
}

}  // namespace

policy::Status Keystore::history_locked(std::string_view fingerprint, std::string_view event,
                                        std::string_view detail_text, std::string_view actor) {
  return db_.execute(
      "INSERT INTO history(at, fingerprint, event, detail, actor) VALUES(?1,?2,?3,?4,?5)",
      detail::now_unix(), fingerprint, event, detail_text, actor);
}

policy::Result<std::vector<CertRecord>> Keystore::records_locked(const char* where_sql,
                                                                 std::string_view arg,
                                                                 std::int64_t lo, std::int64_t hi) {
  return db_.rows<CertRecord>(std::string(kRecordSql) + where_sql + " ORDER BY c.not_after, c.id",
                              cert_record, arg, lo, hi);
}

policy::Result<std::vector<CertRecord>> Keystore::list_certs() {
  const std::lock_guard lock(mu_);
  return records_locked(kWhereAll, "", 0, 0);
}

policy::Result<std::vector<CertRecord>> Keystore::find_certs(std::string_view query) {
  std::string q = detail::lower(query);
  const std::lock_guard lock(mu_);
  if (q.find('@') != std::string::npos) {
    return records_locked(kWhereEmail, q, 0, 0);
  }
  q.erase(std::remove(q.begin(), q.end(), ':'), q.end());
  if (!detail::is_hex(q)) {
    return unexpected(Errc::kInvalidArgument,
                      "'" + std::string(query) +
                          "' is neither an e-mail address, a SHA-256 fingerprint nor a serial");
  }
  if (q.size() == 64) {
    auto by_fp = records_locked(kWhereFingerprint, q, 0, 0);
    if (!by_fp || !by_fp->empty()) {
      return by_fp;
    }
  }
  return records_locked(kWhereSerial, detail::norm_serial(q), 0, 0);
}

policy::Result<std::vector<CertRecord>> Keystore::expiring(std::int64_t seconds) {
  const std::int64_t now = detail::now_unix();
  const std::lock_guard lock(mu_);
  return records_locked(kWhereExpiring, "", now, now + seconds);
}

policy::Result<ImportOutcome> Keystore::add_anchor(const X509& cert, std::string_view actor) {
  const smime::CertInfo info = smime::inspect(cert);
  if (!info.is_ca && !info.self_signed) {
    return unexpected(Errc::kInvalidArgument,
                      "certificate " + info.subject + " is not a CA certificate");
  }
  if (info.not_after <= detail::now_unix()) {
    return unexpected(Errc::kExpired, "CA certificate " + info.subject + " has expired");
  }
  const std::lock_guard lock(mu_);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  auto changed = store_ca_locked(cert, "anchor");
  if (!changed) {
    return std::move(changed).error();
  }
  ImportOutcome out;
  out.fingerprint = info.fingerprint_sha256;
  out.subject = info.subject;
  out.serial = detail::norm_serial(info.serial_hex);
  out.not_before = info.not_before;
  out.not_after = info.not_after;
  out.changed = *changed;
  if (out.changed) {
    if (auto s = history_locked(out.fingerprint, "anchor-added", info.subject, actor); !s) {
      return s.error();
    }
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  cache_.clear();
  return out;
}

policy::Status Keystore::remove_anchor(std::string_view fingerprint, std::string_view actor) {
  std::string fp = detail::lower(fingerprint);
  fp.erase(std::remove(fp.begin(), fp.end(), ':'), fp.end());
  const std::lock_guard lock(mu_);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  if (auto s = db_.execute("DELETE FROM ca_certs WHERE fingerprint=?1 AND role='anchor'", fp); !s) {
    return s;
  }
  if (db_.changes() == 0) {
    return unexpected(Errc::kNotFound, "no trust anchor with fingerprint " + fp);
  }
  if (auto s = history_locked(fp, "anchor-removed", "", actor); !s) {
    return s;
  }
  cache_.clear();
  return tx->commit();
}

policy::Result<std::vector<CaRecord>> Keystore::list_ca_certs() {
  const std::lock_guard lock(mu_);
  return db_.rows<CaRecord>(
      "SELECT fingerprint, subject, issuer, role, not_after FROM ca_certs ORDER BY role, id",
      [](const Stmt& r) {
        return CaRecord{r.col_text(0), r.col_text(1), r.col_text(2), r.col_text(3), r.col_int(4)};
      });
}

policy::Result<std::vector<std::string>> Keystore::revoke(std::string_view query,
                                                          std::string_view reason,
                                                          std::string_view actor) {
  if (!is_revocation_reason(reason)) {
    return unexpected(Errc::kInvalidArgument,
                      "unknown revocation reason '" + std::string(reason) +
                          "' (RFC 5280 names, e.g. keyCompromise, superseded)");
  }
  auto found = find_certs(query);
  if (!found) {
    return std::move(found).error();
  }
  if (found->empty()) {
    return unexpected(Errc::kNotFound, "no certificate matches '" + std::string(query) + "'");
  }
  const std::lock_guard lock(mu_);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  std::vector<std::string> out;
  for (const auto& rec : *found) {
    if (auto s = db_.execute(
            "INSERT OR IGNORE INTO revocations(issuer_der, serial, reason, revoked_at, source, "
            "by_whom, recorded_at) "
            "SELECT issuer_der, serial, ?2, ?3, 'manual', ?4, ?3 FROM certs WHERE fingerprint=?1",
            rec.fingerprint, reason, detail::now_unix(), actor);
        !s) {
      return s.error();
    }
    if (auto s = history_locked(rec.fingerprint, "revoked", reason, actor); !s) {
      return s.error();
    }
    out.push_back(rec.fingerprint);
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  cache_.clear();
  return out;
}

policy::Status Keystore::set_capabilities(std::string_view fingerprint, const Capabilities& caps) {
  constexpr const char* kSql = "UPDATE certs SET caps_aes_gcm=?2 WHERE fingerprint=?1";
  const std::string fp = detail::lower(fingerprint);
  const std::lock_guard lock(mu_);
  auto s =
      caps.aes_gcm ? db_.execute(kSql, fp, *caps.aes_gcm ? 1 : 0) : db_.execute(kSql, fp, nullptr);
  if (!s) {
    return s;
  }
  if (db_.changes() == 0) {
    return unexpected(Errc::kNotFound,
                      "no certificate with fingerprint " + std::string(fingerprint));
  }
  return {};
}

}  // namespace keystore
