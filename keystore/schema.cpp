#include "keystore/schema.h"

#include <array>
#include <string>

namespace keystore {
using policy::Errc;
using policy::unexpected;

namespace {

// Migration N brings user_version from N to N+1. Append only; never edit a shipped one.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE staff(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  employee_no TEXT,
  department TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK(status IN ('active','inactive')));
CREATE TABLE staff_emails(
  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  PRIMARY KEY(staff_id, email));
CREATE TABLE ca_certs(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  der BLOB NOT NULL,
  subject TEXT NOT NULL,
  subject_der BLOB NOT NULL,
  issuer TEXT NOT NULL,
  not_after INTEGER NOT NULL,
  role TEXT NOT NULL CHECK(role IN ('anchor','intermediate')),
  added_at INTEGER NOT NULL);
CREATE INDEX ca_certs_subject ON ca_certs(subject_der);
CREATE TABLE certs(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  der BLOB NOT NULL,
  subject TEXT NOT NULL,
  issuer TEXT NOT NULL,
  issuer_der BLOB NOT NULL,
  serial TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  key_bits INTEGER NOT NULL,
  key_usage INTEGER NOT NULL,
  has_key_usage INTEGER NOT NULL,
  eku_email INTEGER NOT NULL,
  ski TEXT NOT NULL,
  fit_sign INTEGER NOT NULL,
  fit_encrypt INTEGER NOT NULL,
  type TEXT NOT NULL CHECK(type IN ('individual','role','system')),
  owner_id INTEGER REFERENCES staff(id),
  department TEXT NOT NULL DEFAULT '',
  origin TEXT NOT NULL CHECK(origin IN ('admin','harvested')),
  caps_aes_gcm INTEGER,
  added_at INTEGER NOT NULL);
CREATE INDEX certs_issuer_serial ON certs(issuer_der, serial);
CREATE TABLE cert_emails(
  cert_id INTEGER NOT NULL REFERENCES certs(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  PRIMARY KEY(cert_id, email));
CREATE INDEX cert_emails_email ON cert_emails(email);
CREATE TABLE private_keys(
  cert_id INTEGER PRIMARY KEY REFERENCES certs(id) ON DELETE CASCADE,
  nonce BLOB NOT NULL,
  wrapped BLOB NOT NULL,
  added_at INTEGER NOT NULL);
CREATE TABLE crls(
  issuer_der BLOB PRIMARY KEY,
  issuer TEXT NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  crl_number TEXT NOT NULL,
  der BLOB NOT NULL,
  imported_at INTEGER NOT NULL);
CREATE TABLE revocations(
  id INTEGER PRIMARY KEY,
  issuer_der BLOB NOT NULL,
  serial TEXT NOT NULL,
  reason TEXT NOT NULL,
  revoked_at INTEGER NOT NULL,
  source TEXT NOT NULL CHECK(source IN ('crl','manual')),
  by_whom TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE(issuer_der, serial, source));
CREATE TABLE history(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL,
  actor TEXT NOT NULL);
)sql",
};

}  // namespace

std::int64_t schema_version_known() {
  return static_cast<std::int64_t>(kMigrations.size());
}

policy::Status prepare_schema(Db& db, bool may_migrate) {
  auto version = db.query_int("PRAGMA user_version");
  if (!version) {
    return std::move(version).error();
  }
  if (*version > schema_version_known()) {
    return unexpected(Errc::kUnavailable, "keystore schema version " + std::to_string(*version) +
                                              " is newer than this program knows (" +
                                              std::to_string(schema_version_known()) +
                                              "); upgrade smime-milter");
  }
  if (auto s = db.exec("PRAGMA foreign_keys=ON"); !s) {
    return s;
  }
  if (*version == schema_version_known()) {
    return {};
  }
  if (!may_migrate) {
    return unexpected(Errc::kUnavailable,
                      *version == 0 ? "keystore is not initialised (run `smimectl init`)"
                                    : "keystore schema is out of date (run `smimectl init`)");
  }
  if (auto s = db.exec("PRAGMA journal_mode=WAL"); !s) {
    return s;
  }
  for (auto v = *version; v < schema_version_known(); ++v) {
    auto tx = Transaction::begin(db);
    if (!tx) {
      return std::move(tx).error();
    }
    if (auto s = db.exec(kMigrations[static_cast<std::size_t>(v)]); !s) {
      return s;
    }
    const std::string set = "PRAGMA user_version=" + std::to_string(v + 1);
    if (auto s = db.exec(set.c_str()); !s) {
      return s;
    }
    if (auto s = tx->commit(); !s) {
      return s;
    }
  }
  return {};
}

}  // namespace keystore
