// Bad input and limits: every case ends in a clear error code (or a failing result),
// never a crash, hang or leak (the ASan build runs these too).
#include <chrono>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "helpers.h"
#include "smime/decrypt.h"
#include "smime/verify.h"

namespace smime::testing {
namespace {

using policy::Errc;

std::string b64(std::string_view der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(der.data()),
                                  static_cast<int>(der.size()));
  out.resize(static_cast<std::size_t>(n));
  std::string wrapped;
  for (std::size_t i = 0; i < out.size(); i += 64) {
    wrapped += out.substr(i, 64) + "\r\n";
  }
  return wrapped;
}

std::string detached_with_signature_body(std::string_view sig_body) {
  return "From: alice@example.gov\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
         "micalg=sha-256; boundary=\"S\"\r\n\r\n"
         "--S\r\nContent-Type: text/plain\r\n\r\nhello\r\n--S\r\n"
         "Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: "
         "base64\r\n\r\n" +
         std::string(sig_body) + "\r\n--S--\r\n";
}

std::string nested_mixed(int depth) {
  std::string msg = "From: a@example.gov\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  std::string tail;
  for (int i = 0; i < depth; ++i) {
    const std::string b = "b" + std::to_string(i);
    const std::string inner = "b" + std::to_string(i + 1);
    msg += "--" + b + "\r\nContent-Type: multipart/mixed; boundary=\"" + inner + "\"\r\n\r\n";
    tail = "\r\n--" + b + "--\r\n" + tail;
  }
  msg += "--b" + std::to_string(depth) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b" +
         std::to_string(depth) + "--\r\n" + tail;
  return msg;
}

std::string many_parts(int n) {
  std::string msg = "From: a@example.gov\r\nContent-Type: multipart/mixed; boundary=\"P\"\r\n\r\n";
  for (int i = 0; i < n; ++i) {
    msg += "--P\r\nContent-Type: text/plain\r\n\r\npart " + std::to_string(i) + "\r\n";
  }
  return msg + "--P--\r\n";
}

struct Case {
  const char* name;
  std::string message;
  Limits limits;
  Errc verify_error;   // kOk: verify returns a report (checked below)
  Errc decrypt_error;  // what decrypt_message says
};

Limits with(std::size_t bytes, std::size_t depth, std::size_t parts, std::size_t header) {
  Limits l;
  l.max_message_bytes = bytes;
  l.max_mime_depth = depth;
  l.max_mime_parts = parts;
  l.max_header_bytes = header;
  return l;
}

TEST(BadInput, ErrorsAndLimits) {
  const Limits def;
  const std::string signed_msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  const std::string sig_b64 = signed_msg.substr(signed_msg.find("MII"));
  const std::string truncated_sig = sig_b64.substr(0, sig_b64.size() / 2);
  const std::string enc = openssl_cms(
      {"-encrypt", "-aes256", "-recip", testsupport::pki("bob.crt").string()}, sample_entity());
  const Case cases[] = {
      {"empty message", "", def, Errc::kMalformedInput, Errc::kMalformedInput},
      {"over the size limit", signed_msg, with(1000, 64, 2000, 1 << 20), Errc::kLimitExceeded,
       Errc::kLimitExceeded},
      {"over the depth limit", nested_mixed(12), with(1 << 20, 8, 2000, 1 << 20),
       Errc::kLimitExceeded, Errc::kLimitExceeded},
      {"absurd nesting, default limits", nested_mixed(200), def, Errc::kLimitExceeded,
       Errc::kLimitExceeded},
      {"too many parts", many_parts(40), with(1 << 20, 64, 30, 1 << 20), Errc::kLimitExceeded,
       Errc::kLimitExceeded},
      {"header block too large",
       "From: a@b\r\nX-Big: " + std::string(5000, 'x') + "\r\n\r\nbody\r\n",
       with(1 << 20, 64, 2000, 1024), Errc::kLimitExceeded, Errc::kLimitExceeded},
      {"multipart without boundary",
       "Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\na\r\n--x--\r\n", def, Errc::kMalformedInput,
       Errc::kMalformedInput},
      {"boundary never used", "Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here\r\n",
       def, Errc::kMalformedInput, Errc::kMalformedInput},
      {"bad base64 signature", detached_with_signature_body("MII!!!###"), def,
       Errc::kMalformedInput, Errc::kInvalidArgument},
      {"empty signature part", detached_with_signature_body(""), def, Errc::kMalformedInput,
       Errc::kInvalidArgument},
      {"truncated signature", detached_with_signature_body(truncated_sig), def,
       Errc::kMalformedInput, Errc::kInvalidArgument},
      {"garbage signature", detached_with_signature_body(b64(std::string(300, '\x5a'))), def,
       Errc::kMalformedInput, Errc::kInvalidArgument},
      {"truncated enveloped-data", enc.substr(0, enc.size() * 2 / 3), def, Errc::kMalformedInput,
       Errc::kMalformedInput},
      {"garbage bare DER", std::string("\x30\x82\x01\x00garbage", 11), def, Errc::kMalformedInput,
       Errc::kMalformedInput},
  };
  auto trust = pki_trust();
  auto rev = pki_revocation();
  auto keys = FakeKeys{};
  keys.creds.push_back(pki_credential("bob"));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    VerifyOptions vo;
    vo.limits = c.limits;
    auto v = verify_message(c.message, trust, rev, vo);
    ASSERT_FALSE(v.has_value()) << "result " << auth_result_name(v->result);
    EXPECT_EQ(policy::errc_name(v.error().code()), policy::errc_name(c.verify_error))
        << v.error().message();
    EXPECT_FALSE(v.error().detail().empty());
    EXPECT_EQ(auth_result_for_error(v.error().code()), AuthResult::kPermError);
    auto d = decrypt_message(c.message, keys, DecryptOptions{c.limits});
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(policy::errc_name(d.error().code()), policy::errc_name(c.decrypt_error))
        << d.error().message();
  }
}

TEST(BadInput, LimitsAreInclusiveBounds) {
  // Exactly at each limit passes; one over fails (each limit has a test that exceeds it).
  auto trust = pki_trust();
  auto rev = pki_revocation();
  VerifyOptions vo;
  vo.limits.max_mime_parts = 41;  // top-level entity + 40 parts
  EXPECT_TRUE(verify_message(many_parts(40), trust, rev, vo).has_value());
  vo.limits.max_mime_parts = 40;
  EXPECT_FALSE(verify_message(many_parts(40), trust, rev, vo).has_value());
  vo = VerifyOptions{};
  vo.limits.max_mime_depth = 12;  // nested_mixed(12) reaches depth 12 at the text leaf
  EXPECT_TRUE(verify_message(nested_mixed(11), trust, rev, vo).has_value());
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  vo = VerifyOptions{};
  vo.limits.max_message_bytes = msg.size();
  EXPECT_TRUE(verify_message(msg, trust, rev, vo).has_value());
  vo.limits.max_message_bytes = msg.size() - 1;
  EXPECT_FALSE(verify_message(msg, trust, rev, vo).has_value());
}

TEST(BadInput, OpaqueSignatureWithoutContentIsMalformed) {
  const std::string der =
      openssl_cms({"-sign", "-signer", testsupport::pki("alice.crt").string(), "-inkey",
                   testsupport::pki("alice.key").string(), "-outform", "DER"},
                  sample_entity());  // detached: no eContent
  const std::string msg =
      "From: alice@example.gov\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      b64(der);
  auto trust = pki_trust();
  auto rev = pki_revocation();
  auto v = verify_message(msg, trust, rev, VerifyOptions{});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), Errc::kMalformedInput);
  EXPECT_NE(v.error().detail().find("no content"), std::string::npos) << v.error().detail();
}

TEST(BadInput, LargeMessageIsLinear) {
  // 8 MB of short lines and a signature part: must finish quickly (no quadratic scans).
  std::string body;
  for (int i = 0; i < 400000; ++i) {
    body += "baris teks nomor " + std::to_string(i) + "\r\n";
  }
  const std::string msg =
      "From: a@example.gov\r\nContent-Type: multipart/mixed; boundary=\"L\"\r\n\r\n--L\r\n\r\n" +
      body + "--L\r\nContent-Type: text/plain\r\n\r\nx\r\n--L--\r\n";
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const auto start = std::chrono::steady_clock::now();
  auto v = verify_message(msg, trust, rev, VerifyOptions{});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->result, AuthResult::kNone);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace smime::testing

namespace smime::testing {
namespace {

TEST(BadInput, CertificateInMessageThatDoesNotParse) {
  const std::string der = openssl_cms(
      {"-sign", "-nodetach", "-outform", "DER", "-signer", testsupport::pki("alice.crt").string(),
       "-inkey", testsupport::pki("alice.key").string()},
      sample_entity());
  const auto alice = load_cert(testsupport::pki("alice.crt"));
  unsigned char* raw = nullptr;
  const int len = ::i2d_X509(alice.get(), &raw);
  ASSERT_GT(len, 0);
  const std::string alice_der(reinterpret_cast<const char*>(raw), static_cast<std::size_t>(len));
  ::OPENSSL_free(raw);
  const auto at = der.find(alice_der);
  ASSERT_NE(at, std::string::npos);
  auto trust = pki_trust();
  auto rev = pki_revocation();
  // Broken length inside the certificate: the CMS no longer parses.
  std::string broken = der;
  broken[at + 2] = static_cast<char>(broken[at + 2] + 1);
  auto r = verify_message(broken, trust, rev, VerifyOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::kMalformedInput);
  // A flipped bit inside the certificate's key: it parses, but no signature verifies.
  std::string flipped = der;
  flipped[at + static_cast<std::size_t>(len) - 300] ^= 0x01;
  r = verify_message(flipped, trust, rev, VerifyOptions{});
  if (r) {
    ASSERT_EQ(r->signers.size(), 1U);
    EXPECT_NE(r->result, AuthResult::kPass);
    EXPECT_TRUE(r->reason == "bad-signature" || r->reason == "untrusted-chain") << r->reason;
  } else {
    EXPECT_EQ(r.error().code(), Errc::kMalformedInput);
  }
}

}  // namespace
}  // namespace smime::testing
