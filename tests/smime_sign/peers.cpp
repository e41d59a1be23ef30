#include "peers.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

#include "smime/x509.h"
#include "tests/common/test_support.h"

namespace signtest {

namespace fs = std::filesystem;
using testsupport::pki;
using testsupport::read_file;
using testsupport::run;
using testsupport::write_file;

namespace {

constexpr const char* kPass = "test-pass";

// A scratch directory shared by all peer runs of this process; files get unique names.
const testsupport::TempDir& scratch() {
  static const testsupport::TempDir dir;
  return dir;
}

fs::path scratch_file(std::string_view stem) {
  static std::atomic<int> counter{0};
  return scratch().path() / (std::string(stem) + "-" + std::to_string(counter++));
}

std::string base64_decode(std::string_view text) {
  std::string clean;
  for (const char c : text) {
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
      clean.push_back(c);
    }
  }
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  const int n = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()),
                                  static_cast<int>(clean.size()));
  if (n < 0) {
    return {};
  }
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = clean.size(); i > 0 && clean[i - 1] == '='; --i) {
    --len;
  }
  out.resize(len);
  return out;
}

// A throwaway GnuPG home holding the root as trusted, the intermediate, and the
// alice and erin keys (imported from PKCS#12 files re-packed by the openssl CLI with
// 3DES, because gpgsm 2.2 cannot read OpenSSL 3's PBES2/AES PKCS#12).
struct GpgHome {
  testsupport::TempDir dir;
  GpgHome() {
    const fs::path home = dir / "gnupg";
    fs::create_directories(home);
    fs::permissions(home, fs::perms::owner_all);
    write_file(home / "gpgsm.conf", "disable-crl-checks\n");
    // A cheap key-protection KDF: each decryption unprotects the key again.
    write_file(home / "gpg-agent.conf", "allow-loopback-pinentry\ns2k-calibration 5\n");
    const auto fpr = run(
        {"openssl", "x509", "-in", pki("root.crt").string(), "-noout", "-fingerprint", "-sha1"});
    write_file(home / "trustlist.txt", fpr.out.substr(fpr.out.find('=') + 1, 59) + " S relax\n");
    gpgsm({"--import", pki("root.crt").string(), pki("inter.crt").string()});
    for (const char* name : {"alice", "erin"}) {
      import_key(name);
    }
  }
  // gpgsm 2.2 now and then fails to decrypt an OpenSSL-made encrypted bag ("possibly
  // bad passphrase", depending on the random salt): leave the certificates unencrypted
  // (-certpbe NONE) and re-pack with a fresh salt if the import still fails.
  void import_key(const std::string& name) const {
    std::string log;
    for (int attempt = 0; attempt < 5; ++attempt) {
      const fs::path p12 = dir / (name + "-" + std::to_string(attempt) + ".p12");
      run({"openssl", "pkcs12", "-export", "-in", pki(name + ".crt").string(), "-inkey",
           pki(name + ".key").string(), "-keypbe", "PBE-SHA1-3DES", "-certpbe", "NONE", "-macalg",
           "sha1", "-passout", std::string("pass:") + kPass, "-out", p12.string()});
      const auto r = gpgsm(
          {"--pinentry-mode", "loopback", "--passphrase-fd", "0", "--import", p12.string()}, kPass);
      if (r.out.find("secret keys imported: 1") != std::string::npos) {
        return;
      }
      log += r.out;
    }
    throw std::runtime_error("gpgsm import failed: " + log);
  }
  ~GpgHome() {
    run({"env", "GNUPGHOME=" + (dir / "gnupg").string(), "gpgconf", "--kill", "gpg-agent"});
  }
  GpgHome(const GpgHome&) = delete;
  GpgHome& operator=(const GpgHome&) = delete;
  testsupport::CommandResult gpgsm(std::vector<std::string> args,
                                   std::string_view input = {}) const {
    std::vector<std::string> argv{"env", "GNUPGHOME=" + (dir / "gnupg").string(), "gpgsm",
                                  "--batch"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
  }
};

const GpgHome& gpg_home() {
  static const GpgHome home;
  return home;
}

// A throwaway NSS database: root trusted for e-mail, intermediate, four leaf keys.
struct NssDb {
  testsupport::TempDir dir;
  std::string db;
  NssDb() : db("sql:" + (dir / "nss").string()) {
    fs::create_directories(dir / "nss");
    run({"certutil", "-N", "-d", db, "--empty-password"});
    run({"certutil", "-A", "-d", db, "-n", "root", "-t", "C,C,C", "-i", pki("root.crt").string()});
    run({"certutil", "-A", "-d", db, "-n", "inter", "-t", ",,", "-i", pki("inter.crt").string()});
    for (const char* name : {"alice", "erin", "carol", "dave"}) {
      const auto r = run({"pk12util", "-i", pki(std::string(name) + ".p12").string(), "-d", db,
                          "-W", kPass, "-K", ""});
      if (r.out.find("SUCCESSFUL") == std::string::npos) {
        throw std::runtime_error("pk12util import failed: " + r.out);
      }
    }
  }
};

const NssDb& nss_db() {
  static const NssDb db;
  return db;
}

// The DER that carries the signature or envelope, and the detached content if any.
bool cms_parts(const std::string& message, std::string& der, std::string& content) {
  if (split_signed(message, content, der)) {
    return true;
  }
  content.clear();
  der = p7m_der(message);
  return !der.empty();
}

}  // namespace

smime::Credential credential(std::string_view name, bool with_root) {
  smime::Credential c;
  c.cert = cert(name);
  auto key = smime::parse_private_key(read_file(pki(std::string(name) + ".key")));
  if (!key) {
    throw std::runtime_error("cannot load key " + std::string(name));
  }
  c.key = std::move(key).value();
  c.chain.push_back(cert("inter"));
  if (with_root) {
    c.chain.push_back(cert("root"));
  }
  return c;
}

smime::ossl::Cert cert(std::string_view name) {
  auto c = smime::parse_cert(read_file(pki(std::string(name) + ".crt")));
  if (!c) {
    throw std::runtime_error("cannot load certificate " + std::string(name));
  }
  return std::move(c).value();
}

std::vector<smime::ossl::Cert> certs(std::initializer_list<const char*> names) {
  std::vector<smime::ossl::Cert> out;
  for (const char* n : names) {
    out.push_back(cert(n));
  }
  return out;
}

bool split_signed(const std::string& message, std::string& content, std::string& signature_der) {
  const std::string key = "boundary=\"";
  const std::size_t b = message.find(key);
  if (b == std::string::npos || message.find("multipart/signed") > b) {
    return false;
  }
  const std::string boundary =
      message.substr(b + key.size(), message.find('"', b + key.size()) - b - key.size());
  const std::string open = "--" + boundary + "\r\n";
  const std::size_t start = message.find(open);
  const std::size_t mid = message.find("\r\n--" + boundary + "\r\n", start);
  const std::size_t end = message.find("\r\n--" + boundary + "--", mid);
  if (start == std::string::npos || mid == std::string::npos || end == std::string::npos) {
    return false;
  }
  content = message.substr(start + open.size(), mid - start - open.size());
  const std::size_t sig_body = message.find("\r\n\r\n", mid + 2);
  signature_der = base64_decode(std::string_view(message).substr(sig_body + 4, end - sig_body - 4));
  return true;
}

std::string headers_of(const std::string& message) {
  const std::size_t pos = message.find("\r\n\r\n");
  return pos == std::string::npos ? message : message.substr(0, pos + 2);
}

std::string body_of(const std::string& message) {
  const std::size_t pos = message.find("\r\n\r\n");
  return pos == std::string::npos ? std::string() : message.substr(pos + 4);
}

std::string p7m_der(const std::string& message) {
  return base64_decode(body_of(message));
}

PeerResult openssl_verify(const std::string& message) {
  const fs::path in = scratch_file("ossl-in");
  const fs::path out = scratch_file("ossl-out");
  write_file(in, message);
  // Without -binary: OpenSSL 3.0's MIME splitter in binary mode keeps the CR of the
  // CRLF that belongs to the closing boundary and then fails a correct signature.
  // Our content is CRLF canonical already (mime_test checks), so text mode is exact.
  const auto r = run({"openssl", "cms", "-verify", "-inform", "SMIME", "-in", in.string(),
                      "-CAfile", pki("root.crt").string(), "-out", out.string()});
  PeerResult p{
      r.exit_code == 0 && r.out.find("Verification successful") != std::string::npos, {}, r.out};
  if (fs::exists(out)) {
    p.content = read_file(out);
  }
  return p;
}

PeerResult openssl_decrypt(const std::string& message, std::string_view recipient) {
  const fs::path in = scratch_file("ossl-in");
  const fs::path out = scratch_file("ossl-out");
  write_file(in, message);
  const auto r =
      run({"openssl", "cms", "-decrypt", "-binary", "-inform", "SMIME", "-in", in.string(),
           "-recip", pki(std::string(recipient) + ".crt").string(), "-inkey",
           pki(std::string(recipient) + ".key").string(), "-out", out.string()});
  PeerResult p{r.exit_code == 0, {}, r.out};
  if (fs::exists(out)) {
    p.content = read_file(out);
  }
  return p;
}

std::string openssl_print(const std::string& message) {
  const fs::path in = scratch_file("ossl-in");
  write_file(in, message);
  return run({"openssl", "cms", "-cmsout", "-print", "-inform", "SMIME", "-in", in.string()}).out;
}

PeerResult gpgsm_verify(const std::string& message) {
  std::string der;
  std::string content;
  if (!cms_parts(message, der, content)) {
    return {false, {}, "no CMS in message"};
  }
  const fs::path sig = scratch_file("gpg-sig");
  const fs::path data = scratch_file("gpg-data");
  const fs::path out = scratch_file("gpg-out");
  write_file(sig, der);
  std::vector<std::string> args{"--status-fd", "1", "--verify"};
  if (content.empty()) {
    args.insert(args.end(), {"--output", out.string(), sig.string()});
  } else {
    write_file(data, content);
    args.insert(args.end(), {sig.string(), data.string()});
  }
  const auto r = gpg_home().gpgsm(args);
  PeerResult p{r.out.find("[GNUPG:] GOODSIG") != std::string::npos &&
                   r.out.find("[GNUPG:] VALIDSIG") != std::string::npos &&
                   r.out.find("[GNUPG:] TRUST_FULLY") != std::string::npos,
               content, r.out};
  if (content.empty() && fs::exists(out)) {
    p.content = read_file(out);
  }
  return p;
}

PeerResult gpgsm_decrypt(const std::string& message) {
  const fs::path in = scratch_file("gpg-in");
  const fs::path out = scratch_file("gpg-out");
  write_file(in, p7m_der(message));
  // gpgsm 2.2 exits 2 when an earlier RecipientInfo is not its own: judge the output.
  const auto r = gpg_home().gpgsm({"--pinentry-mode", "loopback", "--passphrase-fd", "0",
                                   "--output", out.string(), "--decrypt", in.string()},
                                  kPass);
  PeerResult p{false, {}, r.out};
  if (fs::exists(out)) {
    p.content = read_file(out);
  }
  p.ok = !p.content.empty() && r.out.find("decryption failed") == std::string::npos;
  return p;
}

PeerResult nss_verify(const std::string& message) {
  std::string der;
  std::string content;
  if (!cms_parts(message, der, content)) {
    return {false, {}, "no CMS in message"};
  }
  const fs::path sig = scratch_file("nss-sig");
  const fs::path data = scratch_file("nss-data");
  const fs::path out = scratch_file("nss-out");
  write_file(sig, der);
  std::vector<std::string> args{"cmsutil", "-D", "-i", sig.string(), "-d", nss_db().db,
                                "-u",      "4",  "-h", "1",          "-o", out.string()};
  if (!content.empty()) {
    write_file(data, content);
    args.insert(args.end(), {"-c", data.string()});
  }
  const auto r = run(args);
  // -h writes "SMIME: ..." and tab-indented continuation lines before the content.
  std::string all = fs::exists(out) ? read_file(out) : std::string();
  std::size_t pos = 0;
  if (all.starts_with("SMIME:")) {
    pos = all.find('\n') + 1;
    while (pos < all.size() && all[pos] == '\t') {
      pos = all.find('\n', pos) + 1;
    }
  }
  PeerResult p{all.substr(0, pos).find("signer0.status=GoodSignature") != std::string::npos,
               content, r.out + all.substr(0, pos)};
  if (content.empty()) {
    p.content = all.substr(pos);
  }
  return p;
}

PeerResult nss_decrypt(const std::string& message) {
  const fs::path in = scratch_file("nss-in");
  const fs::path out = scratch_file("nss-out");
  write_file(in, p7m_der(message));
  const auto r =
      run({"cmsutil", "-D", "-i", in.string(), "-d", nss_db().db, "-p", "", "-o", out.string()});
  PeerResult p{false, {}, r.out};
  if (fs::exists(out)) {
    p.content = read_file(out);
  }
  p.ok = !p.content.empty() && r.out.find("problem") == std::string::npos;
  return p;
}

}  // namespace signtest
