// encrypt_message: every cipher x key transport x recipient type decrypts with the
// openssl CLI; labels, multi-recipient, sign-then-encrypt, cipher choice and errors.
#include "smime/encrypt.h"

#include <string>

#include <gtest/gtest.h>

#include "peers.h"
#include "samples.h"
#include "smime/mime.h"
#include "smime/sign.h"

namespace {

using policy::Errc;
using smime::Cipher;
using smime::KeyTransport;

const Cipher kCiphers[] = {Cipher::kAes256Cbc, Cipher::kAes128Cbc, Cipher::kAes256Gcm,
                           Cipher::kAes128Gcm};

bool is_gcm(Cipher c) {
  return c == Cipher::kAes256Gcm || c == Cipher::kAes128Gcm;
}

using signtest::certs;

// What encryption must carry: the Content-* headers and body, CRLF, unchanged.
std::string plain_of(const std::string& message) {
  auto split = smime::split_message(message, {});
  return smime::plain_entity(*split);
}

TEST(Encrypt, EveryCipherTransportAndRecipientDecryptsWithOpenssl) {
  const std::string msg = signtest::simple_message();
  const std::string want = plain_of(msg);
  for (const Cipher cipher : kCiphers) {
    for (const KeyTransport kt : {KeyTransport::kRsaPkcs1v15, KeyTransport::kRsaOaep}) {
      for (const char* who : {"alice", "erin", "carol", "dave"}) {
        SCOPED_TRACE(std::string(smime::cipher_name(cipher)) + "/" +
                     (kt == KeyTransport::kRsaOaep ? "oaep/" : "pkcs1/") + who);
        smime::EncryptOptions opt;
        opt.cipher = cipher;
        opt.rsa = kt;
        auto enc = smime::encrypt_message(msg, certs({who}), opt);
        ASSERT_TRUE(enc) << enc.error().message();
        const std::string headers = signtest::headers_of(*enc);
        EXPECT_NE(headers.find(is_gcm(cipher) ? "smime-type=authEnveloped-data"
                                              : "smime-type=enveloped-data"),
                  std::string::npos)
            << headers;
        EXPECT_NE(headers.find("filename=\"smime.p7m\""), std::string::npos);
        EXPECT_NE(headers.find("Content-Transfer-Encoding: base64"), std::string::npos);
        EXPECT_EQ(signtest::body_of(*enc).find("Surat"), std::string::npos) << "plaintext leaked";
        const auto d = signtest::openssl_decrypt(*enc, who);
        EXPECT_TRUE(d.ok) << d.log;
        EXPECT_EQ(d.content, want);
        const std::string printed = signtest::openssl_print(*enc);
        EXPECT_NE(printed.find(smime::cipher_name(cipher)), std::string::npos) << printed;
        const bool ec = who[0] == 'c' || who[0] == 'd';
        const bool oaep = kt == KeyTransport::kRsaOaep && !ec;
        EXPECT_EQ(printed.find("rsaesOaep") != std::string::npos, oaep) << printed;
        EXPECT_EQ(printed.find("dhSinglePass-stdDH") != std::string::npos, ec) << printed;
      }
    }
  }
}

TEST(Encrypt, OneMessageManyRecipients) {
  const std::string msg = signtest::simple_message();
  for (const Cipher cipher : {Cipher::kAes256Cbc, Cipher::kAes256Gcm}) {
    smime::EncryptOptions opt;
    opt.cipher = cipher;
    auto enc = smime::encrypt_message(msg, certs({"alice", "carol", "erin", "dave"}), opt);
    ASSERT_TRUE(enc) << enc.error().message();
    for (const char* who : {"alice", "carol", "erin", "dave"}) {
      const auto d = signtest::openssl_decrypt(*enc, who);
      EXPECT_TRUE(d.ok) << who << ": " << d.log;
      EXPECT_EQ(d.content, plain_of(msg)) << who;
    }
    EXPECT_FALSE(signtest::openssl_decrypt(*enc, "bob").ok) << "bob is not a recipient";
  }
}

TEST(Encrypt, SignThenEncrypt) {
  for (const auto& sample : signtest::tricky_samples()) {
    SCOPED_TRACE(sample.name);
    auto signed_msg = smime::sign_message(sample.message, signtest::credential("carol"));
    ASSERT_TRUE(signed_msg) << signed_msg.error().message();
    auto enc = smime::encrypt_message(*signed_msg, certs({"alice", "dave"}));
    ASSERT_TRUE(enc) << enc.error().message();
    EXPECT_TRUE(enc->starts_with(sample.message.substr(0, 20)) ||
                sample.name == "folded_rfc2047_headers");
    for (const char* who : {"alice", "dave"}) {
      const auto d = signtest::openssl_decrypt(*enc, who);
      ASSERT_TRUE(d.ok) << d.log;
      // The decrypted entity is the signed entity, byte for byte (RFC 8551 3.7).
      EXPECT_EQ(d.content, plain_of(*signed_msg));
      const auto v = signtest::openssl_verify(d.content);
      EXPECT_TRUE(v.ok) << v.log;
      EXPECT_NE(v.content.find(sample.marker), std::string::npos);
    }
  }
}

TEST(Encrypt, EcRecipientsCanBeRefused) {
  smime::EncryptOptions no_kari;
  no_kari.allow_key_agreement = false;
  auto r = smime::encrypt_message(signtest::simple_message(), certs({"alice", "carol"}), no_kari);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kUnsupportedAlgorithm);
  EXPECT_NE(r.error().detail().find("Carol"), std::string::npos) << r.error().detail();
  EXPECT_TRUE(
      smime::encrypt_message(signtest::simple_message(), certs({"alice", "erin"}), no_kari));
}

TEST(Encrypt, Errors) {
  const std::string msg = signtest::simple_message();
  struct Case {
    const char* name;
    std::vector<smime::ossl::Cert> recipients;
    std::string message;
    Errc want;
  };
  std::vector<Case> cases;
  cases.push_back({"no recipients", {}, msg, Errc::kInvalidArgument});
  cases.push_back({"sign-only certificate", certs({"signonly"}), msg, Errc::kInvalidArgument});
  cases.push_back({"Ed25519 recipient", certs({"edward"}), msg, Errc::kUnsupportedAlgorithm});
  cases.push_back({"expired", certs({"expired"}), msg, Errc::kExpired});
  cases.push_back({"empty message", certs({"alice"}), "", Errc::kMalformedInput});
  std::vector<smime::ossl::Cert> with_null = certs({"alice"});
  with_null.emplace_back();
  cases.push_back({"null certificate", std::move(with_null), msg, Errc::kInvalidArgument});
  auto enc = smime::encrypt_message(msg, certs({"alice"}));
  ASSERT_TRUE(enc);
  cases.push_back({"already encrypted", certs({"alice"}), *enc, Errc::kConflict});
  for (const auto& c : cases) {
    auto r = smime::encrypt_message(c.message, c.recipients);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code(), c.want) << c.name << ": " << r.error().message();
  }
  smime::EncryptOptions small;
  small.limits.max_message_bytes = 64;
  auto big = smime::encrypt_message(msg, certs({"alice"}), small);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), Errc::kLimitExceeded);
}

TEST(Encrypt, ChooseCipherFollowsAnnouncedCapabilities) {
  smime::Capabilities gcm;
  gcm.present = gcm.aes256_gcm = gcm.aes128_gcm = gcm.aes256_cbc = gcm.aes128_cbc = true;
  smime::Capabilities gcm128;
  gcm128.present = gcm128.aes128_gcm = gcm128.aes128_cbc = true;
  smime::Capabilities cbc128;
  cbc128.present = cbc128.aes128_cbc = true;
  const smime::Capabilities unknown;
  struct Case {
    const char* name;
    std::vector<smime::Capabilities> peers;
    bool allow_gcm;
    Cipher want;
  };
  const Case cases[] = {
      {"nobody", {}, true, Cipher::kAes256Cbc},
      {"all gcm", {gcm, gcm}, true, Cipher::kAes256Gcm},
      {"gcm not allowed", {gcm}, false, Cipher::kAes256Cbc},
      {"one unknown", {gcm, unknown}, true, Cipher::kAes256Cbc},
      {"gcm128 common", {gcm, gcm128}, true, Cipher::kAes128Gcm},
      {"only aes128 cbc", {cbc128}, true, Cipher::kAes128Cbc},
      {"mixed cbc", {cbc128, gcm}, false, Cipher::kAes128Cbc},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(smime::choose_cipher(c.peers, c.allow_gcm), c.want) << c.name;
  }
}

}  // namespace
