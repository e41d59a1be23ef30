// decrypt_message() on messages encrypted by the openssl CLI to the test PKI.
#include <gtest/gtest.h>

#include "helpers.h"
#include "smime/decrypt.h"
#include "smime/detect.h"
#include "smime/verify.h"

namespace smime::testing {
namespace {

std::string encrypt_to(const std::vector<std::string>& recips,
                       const std::vector<std::string>& cipher_args, std::string_view entity,
                       const std::vector<std::string>& keyopt = {}) {
  std::vector<std::string> args = {
      "-encrypt", "-from", "alice@example.gov", "-to", "bob@example.gov", "-subject", "Rahasia"};
  args.insert(args.end(), cipher_args.begin(), cipher_args.end());
  for (const auto& r : recips) {
    args.insert(args.end(), {"-recip", testsupport::pki(r + ".crt").string()});
    args.insert(args.end(), keyopt.begin(), keyopt.end());
  }
  return openssl_cms(args, entity);
}

FakeKeys keys_of(const std::vector<std::string>& names) {
  FakeKeys k;
  for (const auto& n : names) {
    k.creds.push_back(pki_credential(n));
  }
  return k;
}

struct Case {
  const char* name;
  std::vector<std::string> recips;
  std::vector<std::string> cipher;
  std::vector<std::string> keyopt;
  std::vector<std::string> our_keys;
  const char* want_cipher;
  bool authenticated;
};

TEST(DecryptPki, AlgorithmsRoundTrip) {
  const Case cases[] = {
      {"rsa aes256-cbc", {"bob"}, {"-aes256"}, {}, {"bob"}, "aes-256-cbc", false},
      {"rsa aes128-cbc", {"bob"}, {"-aes128"}, {}, {"bob"}, "aes-128-cbc", false},
      {"rsa-oaep",
       {"bob"},
       {"-aes256"},
       {"-keyopt", "rsa_padding_mode:oaep"},
       {"bob"},
       "aes-256-cbc",
       false},
      {"rsa-oaep sha256",
       {"bob"},
       {"-aes256"},
       {"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"},
       {"bob"},
       "aes-256-cbc",
       false},
      {"aes256-gcm", {"bob"}, {"-aes-256-gcm"}, {}, {"bob"}, "id-aes256-gcm", true},
      {"aes128-gcm", {"bob"}, {"-aes-128-gcm"}, {}, {"bob"}, "id-aes128-gcm", true},
      {"ecdh p256", {"carol"}, {"-aes256"}, {}, {"carol"}, "aes-256-cbc", false},
      {"ecdh p384", {"dave"}, {"-aes128"}, {}, {"dave"}, "aes-128-cbc", false},
      {"rsa 3072", {"erin"}, {"-aes256"}, {}, {"erin"}, "aes-256-cbc", false},
      {"many recipients, ours last",
       {"alice", "carol", "bob"},
       {"-aes256"},
       {},
       {"bob"},
       "aes-256-cbc",
       false},
      {"many recipients, ec ours",
       {"alice", "carol", "bob"},
       {"-aes256"},
       {},
       {"carol"},
       "aes-256-cbc",
       false},
      {"several keys held",
       {"erin"},
       {"-aes256"},
       {},
       {"alice", "bob", "erin"},
       "aes-256-cbc",
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string msg = encrypt_to(c.recips, c.cipher, sample_entity(), c.keyopt);
    EXPECT_EQ(classify(msg), c.authenticated ? SmimeKind::kAuthEnveloped : SmimeKind::kEnveloped);
    for (const bool by_id : {true, false}) {
      auto keys = keys_of(c.our_keys);
      keys.find_by_id = by_id;
      auto r = decrypt_message(msg, keys);
      ASSERT_TRUE(r.has_value()) << r.error().message();
      EXPECT_EQ(r->cipher, c.want_cipher);
      EXPECT_EQ(r->authenticated, c.authenticated);
      EXPECT_TRUE(r->whole_message);
      EXPECT_NE(r->message.find("Selamat pagi"), std::string::npos);
      EXPECT_NE(r->message.find("Subject: Rahasia\r\n"), std::string::npos) << "outer headers kept";
      EXPECT_EQ(r->message.find("pkcs7-mime"), std::string::npos) << "outer Content-Type replaced";
      EXPECT_NE(r->message.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
      EXPECT_EQ(r->recipient_fingerprint.size(), 64U);
    }
  }
}

TEST(DecryptPki, NotForUsIsNoKeyNeverGarbage) {
  const std::string msg = encrypt_to({"alice", "carol"}, {"-aes256"}, sample_entity());
  auto keys = keys_of({"bob", "dave"});
  auto r = decrypt_message(msg, keys);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), policy::Errc::kNoKey);
  EXPECT_NE(r.error().detail().find("not encrypted for any key we hold"), std::string::npos);
  FakeKeys none;
  r = decrypt_message(msg, none);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), policy::Errc::kNoKey);
}

TEST(DecryptPki, KeyStoreUnavailable) {
  const std::string msg = encrypt_to({"bob"}, {"-aes256"}, sample_entity());
  auto keys = keys_of({"bob"});
  keys.unavailable = true;
  auto r = decrypt_message(msg, keys);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), policy::Errc::kUnavailable);
}

TEST(DecryptPki, TamperedCiphertext) {
  // AES-GCM (RFC 5083) detects the change; CBC has no integrity (RFC 8551 2.7: that is
  // what signing is for), so it either fails on padding or yields different bytes.
  for (const bool gcm : {true, false}) {
    SCOPED_TRACE(gcm ? "gcm" : "cbc");
    std::string msg = encrypt_to({"bob"}, {gcm ? "-aes-256-gcm" : "-aes256"}, sample_entity());
    const auto pos = msg.rfind('\n', msg.size() - 3) - 10;
    msg[pos] = msg[pos] == 'A' ? 'B' : 'A';
    auto keys = keys_of({"bob"});
    auto r = decrypt_message(msg, keys);
    if (gcm) {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().code(), policy::Errc::kCrypto) << r.error().message();
    } else if (r) {
      EXPECT_EQ(r->message.find(sample_entity()), std::string::npos);
    } else {
      EXPECT_EQ(r.error().code(), policy::Errc::kCrypto) << r.error().message();
    }
  }
}

TEST(DecryptPki, SignThenEncryptThenVerify) {
  const std::string signed_entity = sign_by({"alice"}, "", sample_entity());
  const std::string msg = encrypt_to({"bob"}, {"-aes256"}, signed_entity);
  auto keys = keys_of({"bob"});
  auto d = decrypt_message(msg, keys);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(classify(d->message), SmimeKind::kSigned);
  auto trust = pki_trust();
  auto rev = pki_revocation();
  VerifyOptions opt;
  opt.from_address = "alice@example.gov";
  auto v = verify_message(d->message, trust, rev, opt);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(v->result, AuthResult::kPass);
  // Verifying the still-encrypted message finds no signature but reports the layer.
  auto outer = verify_message(msg, trust, rev, opt);
  ASSERT_TRUE(outer.has_value());
  EXPECT_EQ(outer->result, AuthResult::kNone);
  EXPECT_EQ(outer->encrypted_parts, 1U);
}

TEST(DecryptPki, EnvelopedPartInsideMixedIsReplacedInPlace) {
  std::string inner = encrypt_to({"bob"}, {"-aes128"}, sample_entity());
  // Drop the RFC 5322 headers openssl added: keep the MIME entity only.
  inner = inner.substr(inner.find("MIME-Version"));
  const std::string msg =
      "From: alice@example.gov\r\nSubject: x\r\nContent-Type: multipart/mixed; "
      "boundary=\"B\"\r\n\r\n"
      "--B\r\nContent-Type: text/plain\r\n\r\nintro\r\n--B\r\n" +
      inner + "\r\n--B--\r\n";
  auto keys = keys_of({"bob"});
  auto r = decrypt_message(msg, keys);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->whole_message);
  EXPECT_EQ(r->layers, 1U);
  EXPECT_NE(r->message.find("intro"), std::string::npos);
  EXPECT_NE(r->message.find("Selamat pagi"), std::string::npos);
  EXPECT_NE(r->message.find("--B--"), std::string::npos);
}

TEST(DecryptPki, UnencryptedMessageIsInvalidArgument) {
  FakeKeys keys;
  auto r = decrypt_message("From: a@b\r\n\r\nhello\r\n", keys);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), policy::Errc::kInvalidArgument);
}

}  // namespace
}  // namespace smime::testing
