// Lifecycle cases that need certificates issued at test time (by the openssl CLI, with
// a private CA database in a temp dir so the shared test PKI is never modified):
// renewal overlap picks the newest certificate; a CRL from the root revoking the
// issuing CA makes every certificate below it unusable.
#include <ctime>
#include <string>

#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {
using testsupport::pki;
using testsupport::read_file;
using testsupport::run;

std::string asn1_time(std::int64_t t) {
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

// A throw-away `openssl ca` database for the CA `ca` (root or inter) of the test PKI.
class TempCa {
 public:
  TempCa(const testsupport::TempDir& dir, const std::string& ca) : dir_(dir.path() / ("ca-" + ca)) {
    std::filesystem::create_directories(dir_);
    testsupport::write_file(dir_ / "index.txt", "");
    testsupport::write_file(dir_ / "serial", "7001\n");
    testsupport::write_file(dir_ / "crlnumber", "5000\n");
    testsupport::write_file(
        dir_ / "ca.cnf",
        "[ ca ]\ndefault_ca = this\n[ this ]\ndir = " + dir_.string() +
            "\ndatabase = $dir/index.txt\nnew_certs_dir = $dir\ncertificate = " +
            pki(ca + ".crt").string() + "\nprivate_key = " + pki(ca + ".key").string() +
            "\nserial = $dir/serial\ncrlnumber = $dir/crlnumber\ndefault_md = sha256\n"
            "default_crl_days = 30\npolicy = any\nunique_subject = no\ncopy_extensions = none\n"
            "[ any ]\ncommonName = supplied\nemailAddress = optional\n"
            "organizationName = optional\ncountryName = optional\n");
  }
  // Issues a leaf for `email` valid from `not_before`; writes NAME.key / NAME.crt.
  void issue(const std::string& name, const std::string& email, std::int64_t not_before) {
    const auto key = dir_ / (name + ".key");
    const auto csr = dir_ / (name + ".csr");
    const auto ext = dir_ / (name + ".ext");
    ASSERT_EQ(openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                       key.string()}),
              0);
    ASSERT_EQ(openssl({"req", "-new", "-key", key.string(), "-out", csr.string(), "-subj",
                       "/C=ID/O=Pemerintah Kota Contoh/CN=" + name + "/emailAddress=" + email}),
              0);
    testsupport::write_file(ext,
                            "basicConstraints=critical,CA:FALSE\n"
                            "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment\n"
                            "extendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\n"
                            "authorityKeyIdentifier=keyid\nsubjectAltName=email:" +
                                email + "\n");
    ASSERT_EQ(
        openssl({"ca", "-batch", "-config", (dir_ / "ca.cnf").string(), "-in", csr.string(), "-out",
                 (dir_ / (name + ".crt")).string(), "-startdate", asn1_time(not_before), "-enddate",
                 asn1_time(not_before + 400 * 86400), "-extfile", ext.string(), "-notext"}),
        0);
  }
  // Revokes `cert` and writes a CRL to `out`.
  void revoke_and_gencrl(const std::filesystem::path& cert, const std::filesystem::path& out) {
    // `openssl ca -revoke` needs the certificate in its database; -valid adds it.
    ASSERT_EQ(openssl({"ca", "-config", (dir_ / "ca.cnf").string(), "-valid", cert.string()}), 0);
    ASSERT_EQ(openssl({"ca", "-config", (dir_ / "ca.cnf").string(), "-revoke", cert.string(),
                       "-crl_reason", "cACompromise"}),
              0);
    ASSERT_EQ(
        openssl({"ca", "-config", (dir_ / "ca.cnf").string(), "-gencrl", "-out", out.string()}), 0);
  }
  std::filesystem::path operator/(const std::string& n) const { return dir_ / n; }

 private:
  static int openssl(std::vector<std::string> args) {
    args.insert(args.begin(), {"env", "OPENSSL_CONF=/dev/null", "openssl"});
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return r.exit_code;
  }
  std::filesystem::path dir_;
};

TEST_F(KeystoreTest, RenewalOverlapPicksTheNewestCertificate) {
  import_ok(p12_request("alice"));
  const auto old_info = smime::inspect(*load_cert("alice.crt"));
  TempCa ca(dir_, "inter");
  ca.issue("alice-renewed", "alice@example.gov", old_info.not_before + 1);
  ImportRequest req;
  req.certs.push_back(smime::parse_cert(read_file(ca / "alice-renewed.crt")).value());
  req.key = smime::parse_private_key(read_file(ca / "alice-renewed.key")).value();
  import_ok(req);
  const std::string new_fp = smime::inspect(*req.certs[0]).fingerprint_sha256;
  auto cred = ks_->signing_credential("alice@example.gov", {});
  ASSERT_TRUE(cred.has_value() && cred->has_value());
  EXPECT_EQ(smime::inspect(*(*cred)->cert).fingerprint_sha256, new_fp);
  auto enc = ks_->encryption_certs("alice@example.gov");
  ASSERT_TRUE(enc.has_value());
  ASSERT_EQ(enc->size(), 2U);
  EXPECT_EQ((*enc)[0].fingerprint, new_fp);  // newest first
  // Revoking the renewal falls back to the older, still valid certificate.
  ASSERT_TRUE(ks_->revoke(new_fp, "superseded", "test").has_value());
  cred = ks_->signing_credential("alice@example.gov", {});
  ASSERT_TRUE(cred.has_value() && cred->has_value());
  EXPECT_EQ(smime::inspect(*(*cred)->cert).fingerprint_sha256, old_info.fingerprint_sha256);
}

TEST_F(KeystoreTest, RevokedIssuingCaMakesItsLeavesUnusable) {
  import_ok(p12_request("alice"));
  TempCa root(dir_, "root");
  root.revoke_and_gencrl(pki("inter.crt"), root / "root.crl");
  auto crl = smime::parse_crl(read_file(root / "root.crl"));
  ASSERT_TRUE(crl.has_value());
  auto r = ks_->import_crl(**crl, "test");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  auto st = ks_->status(*load_cert("inter.crt"), *load_cert("root.crt"));
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->state, smime::RevocationState::kRevoked);
  EXPECT_EQ(st->reason, "cACompromise");
  auto cred = ks_->signing_credential("alice@example.gov", {});
  ASSERT_TRUE(cred.has_value());
  EXPECT_FALSE(cred->has_value());
  auto enc = ks_->encryption_certs("alice@example.gov");
  ASSERT_TRUE(enc.has_value());
  EXPECT_TRUE(enc->empty());
  auto again = ks_->import(cert_request("bob"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), policy::Errc::kUntrustedChain);
}

}  // namespace
}  // namespace keystore::test
