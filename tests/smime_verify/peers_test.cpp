// Input made by the other S/MIME implementations on this system: NSS cmsutil (the
// library of Thunderbird and Evolution) and GnuPG gpgsm sign and encrypt with the test
// PKI; we must verify and decrypt what they produce. Their exit codes are checked and
// their outputs judged by our code (plus openssl for sanity where needed).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "helpers.h"
#include "smime/decrypt.h"
#include "smime/verify.h"

namespace smime::testing {
namespace {

std::string b64_lines(std::string_view der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(der.data()),
                                  static_cast<int>(der.size()));
  out.resize(static_cast<std::size_t>(n));
  std::string wrapped;
  for (std::size_t i = 0; i < out.size(); i += 76) {
    wrapped += out.substr(i, 76) + "\r\n";
  }
  return wrapped;
}

std::string multipart_signed(std::string_view entity, std::string_view sig_der,
                             std::string_view from) {
  return "From: " + std::string(from) +
         "\r\nTo: bob@example.gov\r\nSubject: peer\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;"
         " boundary=\"peer-b\"\r\n\r\nThis is an S/MIME signed message\r\n\r\n--peer-b\r\n" +
         std::string(entity) +
         "\r\n--peer-b\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         b64_lines(sig_der) + "\r\n--peer-b--\r\n";
}

std::string enveloped(std::string_view der) {
  return "From: alice@example.gov\r\nTo: bob@example.gov\r\nSubject: peer\r\nMIME-Version: 1.0\r\n"
         "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         b64_lines(der);
}

void must(const testsupport::CommandResult& r, std::string_view what) {
  ASSERT_EQ(r.exit_code, 0) << what << ": " << r.out;
}

struct Produced {
  std::string signature;  // detached SignedData over sample_entity(), by alice
  std::string envelope;   // EnvelopedData to bob
};

Produced by_nss(const testsupport::TempDir& dir) {
  const std::string db = "sql:" + dir.path().string();
  must(testsupport::run({"certutil", "-N", "-d", db, "--empty-password"}), "certutil -N");
  must(testsupport::run({"pk12util", "-i", testsupport::pki("alice.p12").string(), "-d", db, "-W",
                         "test-pass", "-K", ""}),
       "pk12util");
  must(testsupport::run({"certutil", "-A", "-d", db, "-n", "root", "-t", "C,C,C", "-i",
                         testsupport::pki("root.crt").string()}),
       "certutil root");
  must(testsupport::run({"certutil", "-A", "-d", db, "-n", "bob", "-t", ",,", "-i",
                         testsupport::pki("bob.crt").string()}),
       "certutil bob");
  testsupport::write_file(dir / "in", sample_entity());
  must(testsupport::run({"cmsutil", "-S", "-N", "alice", "-H", "SHA256", "-T", "-d", db, "-i",
                         (dir / "in").string(), "-o", (dir / "sig").string()}),
       "cmsutil -S");
  must(testsupport::run({"cmsutil", "-E", "-r", "bob@example.gov", "-d", db, "-i",
                         (dir / "in").string(), "-o", (dir / "env").string()}),
       "cmsutil -E");
  return {testsupport::read_file(dir / "sig"), testsupport::read_file(dir / "env")};
}

Produced by_gpgsm(const testsupport::TempDir& dir) {
  const std::string home = (dir / "gnupg").string();
  const std::vector<std::string> gpgsm = {"gpgsm",   "--homedir",       home,
                                          "--batch", "--pinentry-mode", "loopback"};
  std::filesystem::create_directory(home);
  std::filesystem::permissions(home, std::filesystem::perms::owner_all);
  testsupport::write_file(dir / "gnupg/gpg-agent.conf", "allow-loopback-pinentry\n");
  testsupport::write_file(dir / "gnupg/gpgsm.conf", "disable-crl-checks\n");
  auto cmd = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = gpgsm;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  // gpgsm 2.2 cannot read OpenSSL 3's default PKCS#12 (PBES2/AES), and now and then fails
  // on a 3DES bag depending on the random salt (seen by the sign tests too): certificates
  // unencrypted, key in PBE-SHA1-3DES, re-packed with a fresh salt if the import fails.
  std::string log;
  bool imported = false;
  for (int attempt = 0; attempt < 5 && !imported; ++attempt) {
    const std::string p12 = (dir / ("alice-" + std::to_string(attempt) + ".p12")).string();
    must(testsupport::run(
             {"openssl", "pkcs12", "-export", "-inkey", testsupport::pki("alice.key").string(),
              "-in", testsupport::pki("alice.crt").string(), "-keypbe", "PBE-SHA1-3DES", "-certpbe",
              "NONE", "-macalg", "sha1", "-out", p12, "-passout", "pass:test-pass"}),
         "openssl pkcs12 -export");
    const auto r = testsupport::run(cmd({"--passphrase-fd", "0", "--import", p12}), "test-pass\n");
    imported = r.out.find("secret keys imported: 1") != std::string::npos;
    log += r.out;
  }
  EXPECT_TRUE(imported) << "gpgsm import failed: " << log;
  must(testsupport::run(
           cmd({"--import", testsupport::pki("root.crt").string(),
                testsupport::pki("inter.crt").string(), testsupport::pki("bob.crt").string()})),
       "gpgsm --import certs");
  const auto fpr =
      testsupport::run({"openssl", "x509", "-in", testsupport::pki("root.crt").string(), "-noout",
                        "-fingerprint", "-sha1"});
  std::string hex = fpr.out.substr(fpr.out.find('=') + 1);
  std::erase(hex, ':');
  std::erase(hex, '\n');
  testsupport::write_file(dir / "gnupg/trustlist.txt", hex + " S\n");
  testsupport::write_file(dir / "in", sample_entity());
  must(testsupport::run(cmd({"--passphrase-fd", "0", "-u", "alice@example.gov", "--detach-sign",
                             "-o", (dir / "sig").string(), (dir / "in").string()}),
                        "test-pass\n"),
       "gpgsm --detach-sign");
  must(testsupport::run(cmd({"-r", "bob@example.gov", "-o", (dir / "env").string(), "--encrypt",
                             (dir / "in").string()})),
       "gpgsm --encrypt");
  testsupport::run({"gpgconf", "--homedir", home, "--kill", "all"});
  return {testsupport::read_file(dir / "sig"), testsupport::read_file(dir / "env")};
}

void check(const Produced& p) {
  ASSERT_FALSE(p.signature.empty());
  ASSERT_FALSE(p.envelope.empty());
  auto trust = pki_trust();
  auto rev = pki_revocation();
  VerifyOptions opt;
  opt.from_address = "alice@example.gov";
  auto v = verify_message(multipart_signed(sample_entity(), p.signature, "alice@example.gov"),
                          trust, rev, opt);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(auth_result_name(v->result), "pass")
      << (v->signers.empty() ? "" : v->signers[0].detail);
  auto tampered = verify_message(multipart_signed(replace_once(sample_entity(), "pagi", "sore"),
                                                  p.signature, "alice@example.gov"),
                                 trust, rev, opt);
  ASSERT_TRUE(tampered.has_value());
  EXPECT_EQ(tampered->reason, "bad-signature");
  FakeKeys keys;
  keys.creds.push_back(pki_credential("bob"));
  auto d = decrypt_message(enveloped(p.envelope), keys);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_NE(d->message.find("Selamat pagi"), std::string::npos);
  FakeKeys wrong;
  wrong.creds.push_back(pki_credential("alice"));
  auto n = decrypt_message(enveloped(p.envelope), wrong);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().code(), policy::Errc::kNoKey);
}

TEST(Peers, NssCmsutilOutputVerifiesAndDecrypts) {
  const testsupport::TempDir dir;
  check(by_nss(dir));
}

TEST(Peers, GpgsmOutputVerifiesAndDecrypts) {
  const testsupport::TempDir dir;
  check(by_gpgsm(dir));
}

}  // namespace
}  // namespace smime::testing
