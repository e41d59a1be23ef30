// Keystore C++ API: opening (three outcomes, permissions, schema), import rules,
// lookups, revocation (manual and CRL).
#include <array>
#include <filesystem>
#include <sys/stat.h>

#include <sqlite3.h>

#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {
using policy::Errc;
using testsupport::pki;
using testsupport::read_file;

constexpr std::array<CertType, 0> kAnyType{};

TEST_F(KeystoreTest, SigningCredentialForImportedP12) {
  import_ok(p12_request("alice"));
  auto cred = ks_->signing_credential("Alice@Example.gov", kAnyType);
  ASSERT_TRUE(cred.has_value()) << cred.error().message();
  ASSERT_TRUE(cred->has_value());
  const auto& c = **cred;
  EXPECT_TRUE(smime::has_email(smime::inspect(*c.cert), "alice@example.gov"));
  EXPECT_TRUE(smime::key_matches(*c.cert, *c.key));
  ASSERT_EQ(c.chain.size(), 1U);  // the issuing CA, never the root
  EXPECT_EQ(smime::inspect(*c.chain[0]).subject, smime::inspect(*load_cert("inter.crt")).subject);
  auto none = ks_->signing_credential("nobody@example.gov", kAnyType);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST_F(KeystoreTest, KeyCacheSurvivesReopenAndWrongSecretIsNamed) {
  import_ok(p12_request("alice"));
  ks_.reset();
  auto again = open_store();
  ASSERT_TRUE(again);
  auto cred = again->signing_credential("alice@example.gov", kAnyType);
  ASSERT_TRUE(cred.has_value() && cred->has_value());
  testsupport::write_file(dir_ / "wrong", "another-secret-of-enough-length\n", 0600);
  OpenOptions o;
  o.secret_file = (dir_ / "wrong").string();
  auto bad = Keystore::open(db_path(), o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::kWrongPassphrase);
  EXPECT_NE(bad.error().detail().find("key-encryption secret"), std::string::npos);
}

TEST_F(KeystoreTest, ImportIsIdempotent) {
  auto first = ks_->import(p12_request("alice"));
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->changed);
  EXPECT_TRUE(first->key_stored);
  auto second = ks_->import(p12_request("alice"));
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->changed);
  EXPECT_EQ(first->fingerprint, second->fingerprint);
  auto all = ks_->list_certs();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 1U);
}

struct BadImport {
  const char* name;
  bool p12;
  Errc want;
};

TEST_F(KeystoreTest, BadImportsLeaveTheDirectoryAsItWas) {
  const BadImport cases[] = {
      {"mallory", true, Errc::kUntrustedChain},
      {"noemail", true, Errc::kMalformedInput},
      {"expired", true, Errc::kExpired},
      {"inter", false, Errc::kInvalidArgument},  // a CA is not a staff certificate
  };
  for (const auto& c : cases) {
    auto r = ks_->import(c.p12 ? p12_request(c.name) : cert_request(c.name));
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code(), c.want) << c.name << ": " << r.error().message();
  }
  auto all = ks_->list_certs();
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->empty());
  auto cas = ks_->list_ca_certs();
  ASSERT_TRUE(cas.has_value());
  EXPECT_EQ(cas->size(), 1U);  // only the root: no intermediate from the failed imports
}

TEST_F(KeystoreTest, ExpiredImportedOnlyWithFlagAndNeverUsed) {
  auto req = p12_request("expired");
  req.allow_expired = true;
  import_ok(req);
  auto cred = ks_->signing_credential("expired@example.gov", kAnyType);
  ASSERT_TRUE(cred.has_value());
  EXPECT_FALSE(cred->has_value());
  auto enc = ks_->encryption_certs("expired@example.gov");
  ASSERT_TRUE(enc.has_value());
  EXPECT_TRUE(enc->empty());
}

TEST_F(KeystoreTest, EncryptionCertsAndFitness) {
  import_ok(cert_request("bob"));
  import_ok(cert_request("signonly"));
  auto bob = ks_->encryption_certs("bob@example.gov");
  ASSERT_TRUE(bob.has_value());
  ASSERT_EQ(bob->size(), 1U);
  EXPECT_FALSE((*bob)[0].caps.aes_gcm.has_value());
  ASSERT_TRUE(ks_->set_capabilities((*bob)[0].fingerprint, Capabilities{true}).has_value());
  bob = ks_->encryption_certs("bob@example.gov");
  ASSERT_TRUE(bob.has_value() && bob->size() == 1U);
  EXPECT_EQ((*bob)[0].caps.aes_gcm, std::optional<bool>(true));
  auto so = ks_->encryption_certs("signonly@example.gov");
  ASSERT_TRUE(so.has_value());
  EXPECT_TRUE(so->empty());
  // A certificate without the key cannot sign for its owner.
  auto sign = ks_->signing_credential("bob@example.gov", kAnyType);
  ASSERT_TRUE(sign.has_value());
  EXPECT_FALSE(sign->has_value());
}

TEST_F(KeystoreTest, TypePreference) {
  auto req = p12_request("kepala", CertType::kRole);
  import_ok(req);
  const std::array<CertType, 1> role{CertType::kRole};
  const std::array<CertType, 1> individual{CertType::kIndividual};
  auto r = ks_->signing_credential("kepala@example.gov", role);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->has_value());
  auto i = ks_->signing_credential("kepala@example.gov", individual);
  ASSERT_TRUE(i.has_value());
  EXPECT_FALSE(i->has_value());
}

TEST_F(KeystoreTest, ManualRevocationIsImmediateForOtherReaders) {
  import_ok(p12_request("alice"));
  auto reader = open_store();
  ASSERT_TRUE(reader);
  auto before = reader->signing_credential("alice@example.gov", kAnyType);
  ASSERT_TRUE(before.has_value() && before->has_value());  // key now cached in the reader
  auto bad_reason = ks_->revoke("alice@example.gov", "lostIt", "test");
  ASSERT_FALSE(bad_reason.has_value());
  EXPECT_EQ(bad_reason.error().code(), Errc::kInvalidArgument);
  auto rev = ks_->revoke("alice@example.gov", "keyCompromise", "test");
  ASSERT_TRUE(rev.has_value()) << rev.error().message();
  EXPECT_EQ(rev->size(), 1U);
  auto after = reader->signing_credential("alice@example.gov", kAnyType);
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->has_value());
  auto dec = reader->all_decryption_keys();
  ASSERT_TRUE(dec.has_value());
  EXPECT_TRUE(dec->empty());
  auto st = reader->status(*before->value().cert, *load_cert("inter.crt"));
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->state, smime::RevocationState::kRevoked);
  EXPECT_EQ(st->reason, "keyCompromise");
  auto missing = ks_->revoke("nobody@example.gov", "superseded", "test");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

TEST_F(KeystoreTest, CrlImportAndStatus) {
  import_ok(cert_request("alice"));  // brings the issuing CA in as an intermediate
  const auto alice = load_cert("alice.crt");
  const auto revoked = load_cert("revoked.crt");
  const auto inter = load_cert("inter.crt");
  auto unknown = ks_->status(*alice, *inter);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->state, smime::RevocationState::kUnknown);
  auto crl = smime::parse_crl(read_file(pki("inter.crl")));
  ASSERT_TRUE(crl.has_value());
  auto r = ks_->import_crl(**crl, "test");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->revoked_entries, 1U);
  auto good = ks_->status(*alice, *inter);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->state, smime::RevocationState::kGood);
  auto bad = ks_->status(*revoked, *inter);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->state, smime::RevocationState::kRevoked);
  EXPECT_EQ(bad->reason, "keyCompromise");
  auto same = ks_->import_crl(**crl, "test");
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->changed);
  auto older = smime::parse_crl(read_file(pki("inter-empty.crl")));
  ASSERT_TRUE(older.has_value());
  auto refused = ks_->import_crl(**older, "test");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Errc::kConflict);
  auto still = ks_->status(*revoked, *inter);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->state, smime::RevocationState::kRevoked);
}

TEST_F(KeystoreTest, CrlWithBadSignatureOrUnknownIssuer) {
  import_ok(cert_request("alice"));
  std::string der = read_file(pki("inter.crl.der"));
  der[der.size() - 5] = static_cast<char>(der[der.size() - 5] ^ 0x55);  // inside the signature
  auto forged = smime::parse_crl(der);
  ASSERT_TRUE(forged.has_value());
  auto r = ks_->import_crl(**forged, "test");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::kBadSignature);
  auto other = smime::parse_crl(read_file(pki("root.crl")));
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(ks_->import_crl(**other, "test").has_value());  // root is an anchor
  // A keystore that never saw the issuing CA refuses its CRL.
  testsupport::TempDir d2;
  OpenOptions o;
  o.create = true;
  auto ks2 = Keystore::open((d2 / "k.db").string(), o);
  ASSERT_TRUE(ks2.has_value());
  auto crl = smime::parse_crl(read_file(pki("inter.crl")));
  auto unknown = (*ks2)->import_crl(**crl, "test");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Errc::kUntrustedChain);
}

TEST_F(KeystoreTest, DecryptionKeyByIssuerAndSerial) {
  import_ok(p12_request("bob"));
  const auto bob = load_cert("bob.crt");
  const auto info = smime::inspect(*bob);
  smime::CertId id;
  unsigned char* der = nullptr;
  const int n = ::i2d_X509_NAME(::X509_get_issuer_name(bob.get()), &der);
  id.issuer_der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  ::OPENSSL_free(der);
  id.serial_hex = info.serial_hex;
  auto k = ks_->decryption_key(id);
  ASSERT_TRUE(k.has_value()) << k.error().message();
  ASSERT_TRUE(k->has_value());
  EXPECT_TRUE(smime::key_matches(*(*k)->cert, *(*k)->key));
  smime::CertId by_ski;
  by_ski.ski_hex = info.ski_hex;
  auto k2 = ks_->decryption_key(by_ski);
  ASSERT_TRUE(k2.has_value() && k2->has_value());
  smime::CertId other = id;
  other.serial_hex = "7fffffff";
  auto none = ks_->decryption_key(other);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  auto all = ks_->all_decryption_keys();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 1U);
}

TEST_F(KeystoreTest, KeyImportNeedsTheSecret) {
  OpenOptions o;  // no secret file
  auto ks = Keystore::open(db_path(), o);
  ASSERT_TRUE(ks.has_value());
  auto r = (*ks)->import(p12_request("alice"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::kConfig);
}

TEST(KeystoreOpen, MissingCorruptTooNewAndUnsafe) {
  testsupport::TempDir d;
  OpenOptions o;
  auto missing = Keystore::open((d / "none.db").string(), o);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kUnavailable);

  testsupport::write_file(d / "junk.db", std::string(4096, 'x'), 0600);
  auto junk = Keystore::open((d / "junk.db").string(), o);
  ASSERT_FALSE(junk.has_value());
  EXPECT_EQ(junk.error().code(), Errc::kUnavailable);
  EXPECT_EQ(read_file(d / "junk.db"), std::string(4096, 'x'));  // left as it was

  OpenOptions create;
  create.create = true;
  ASSERT_TRUE(Keystore::open((d / "new.db").string(), create).has_value());
  sqlite3* raw = nullptr;
  ASSERT_EQ(::sqlite3_open((d / "new.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(::sqlite3_exec(raw, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  ::sqlite3_close(raw);
  auto too_new = Keystore::open((d / "new.db").string(), o);
  ASSERT_FALSE(too_new.has_value());
  EXPECT_EQ(too_new.error().code(), Errc::kUnavailable);
  EXPECT_NE(too_new.error().detail().find("newer"), std::string::npos);

  ASSERT_TRUE(Keystore::open((d / "perm.db").string(), create).has_value());
  ::chmod((d / "perm.db").c_str(), 0644);
  auto unsafe = Keystore::open((d / "perm.db").string(), o);
  ASSERT_FALSE(unsafe.has_value());
  EXPECT_EQ(unsafe.error().code(), Errc::kPermission);
  OpenOptions allow;
  allow.allow_unsafe_permissions = true;
  EXPECT_TRUE(Keystore::open((d / "perm.db").string(), allow).has_value());

  testsupport::write_file(d / "secret", "0123456789abcdef-secret\n", 0640);
  OpenOptions with_secret;
  with_secret.secret_file = (d / "secret").string();
  ::chmod((d / "perm.db").c_str(), 0600);
  auto secret_unsafe = Keystore::open((d / "perm.db").string(), with_secret);
  ASSERT_FALSE(secret_unsafe.has_value());
  EXPECT_EQ(secret_unsafe.error().code(), Errc::kPermission);
}

TEST(KeystoreOpen, LockedDatabaseIsUnavailable) {
  testsupport::TempDir d;
  OpenOptions create;
  create.create = true;
  ASSERT_TRUE(Keystore::open((d / "k.db").string(), create).has_value());
  sqlite3* raw = nullptr;
  ASSERT_EQ(::sqlite3_open((d / "k.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(::sqlite3_exec(raw,
                           "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; "
                           "INSERT INTO meta(key, value) VALUES('x', 'y');",
                           nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto r = Keystore::open((d / "k.db").string(), OpenOptions{});
  ::sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
  ::sqlite3_close(raw);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::kUnavailable);
  EXPECT_NE(r.error().detail().find("locked"), std::string::npos) << r.error().detail();
}

// A running reader whose database becomes corrupt answers "unavailable", never
// "not found".
TEST_F(KeystoreTest, CorruptDatabaseIsUnavailableNotNotFound) {
  import_ok(cert_request("bob"));
  ks_.reset();  // last connection: the WAL is checkpointed into the main file
  auto reader = Keystore::open(db_path(), OpenOptions{});
  ASSERT_TRUE(reader.has_value());
  const std::string db = read_file(db_path());
  ASSERT_GT(db.size(), 8192U);
  std::string garbled = db.substr(0, 4096) + std::string(db.size() - 4096, '\xff');
  testsupport::write_file(db_path(), garbled, 0600);
  auto r = (*reader)->encryption_certs("bob@example.gov");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::kUnavailable);
  auto s = (*reader)->signing_credential("bob@example.gov", kAnyType);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Errc::kUnavailable);
}

}  // namespace
}  // namespace keystore::test
