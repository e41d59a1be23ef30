// Our output through the engine's own reading half (smime/verify.h, smime/decrypt.h,
// written by another engineer): what we sign verifies as pass with the facts we put in,
// and what we encrypt decrypts with the key the KeyProvider holds.
#include <string>

#include <gtest/gtest.h>

#include "peers.h"
#include "samples.h"
#include "smime/decrypt.h"
#include "smime/encrypt.h"
#include "smime/mime.h"
#include "smime/sign.h"
#include "smime/verify.h"
#include "smime/x509.h"

namespace {

class Anchors : public smime::TrustStore {
 public:
  policy::Result<std::vector<smime::ossl::Cert>> anchors() override {
    std::vector<smime::ossl::Cert> out;
    out.push_back(signtest::cert("root"));
    return out;
  }
  policy::Result<std::vector<smime::ossl::Cert>> intermediates() override {
    return std::vector<smime::ossl::Cert>{};
  }
};

class AllGood : public smime::RevocationChecker {
 public:
  policy::Result<smime::Revocation> status(const X509& /*cert*/, const X509& /*issuer*/) override {
    smime::Revocation r;
    r.state = smime::RevocationState::kGood;
    return r;
  }
};

class Keys : public smime::KeyProvider {
 public:
  explicit Keys(std::vector<std::string> names) : names_(std::move(names)) {}
  smime::Lookup<smime::Credential> decryption_key(const smime::CertId& id) override {
    for (const auto& n : names_) {
      auto c = signtest::credential(n);
      if (smime::inspect(*c.cert).serial_hex == id.serial_hex ||
          (!id.ski_hex.empty() && smime::inspect(*c.cert).ski_hex == id.ski_hex)) {
        return std::optional<smime::Credential>(std::move(c));
      }
    }
    return std::optional<smime::Credential>();
  }
  policy::Result<std::vector<smime::Credential>> all_decryption_keys() override {
    std::vector<smime::Credential> out;
    for (const auto& n : names_) {
      out.push_back(signtest::credential(n));
    }
    return out;
  }

 private:
  std::vector<std::string> names_;
};

TEST(EngineRoundTrip, WhatWeSignVerifiesAsPass) {
  Anchors anchors;
  AllGood good;
  for (const char* who : {"alice", "carol", "dave", "erin"}) {
    for (const bool opaque : {false, true}) {
      for (const auto& sample : signtest::tricky_samples()) {
        SCOPED_TRACE(std::string(who) + (opaque ? " opaque " : " detached ") + sample.name);
        smime::SignOptions opt;
        opt.opaque = opaque;
        opt.digest = who[0] == 'd' ? smime::Digest::kSha384 : smime::Digest::kSha256;
        auto s = smime::sign_message(sample.message, signtest::credential(who), opt);
        ASSERT_TRUE(s) << s.error().message();
        smime::VerifyOptions vo;
        vo.from_address = smime::inspect(*signtest::cert(who)).emails.at(0);
        auto report = smime::verify_message(*s, anchors, good, vo);
        ASSERT_TRUE(report) << report.error().message();
        EXPECT_EQ(report->result, smime::AuthResult::kPass) << report->reason;
        ASSERT_EQ(report->signers.size(), 1U);
        const auto& signer = report->signers[0];
        EXPECT_EQ(signer.fingerprint, smime::inspect(*signtest::cert(who)).fingerprint_sha256);
        EXPECT_NE(signer.signing_time, 0);
        EXPECT_TRUE(signer.capabilities.present);
        EXPECT_TRUE(signer.capabilities.aes256_gcm);
        EXPECT_NE(report->content.find(sample.marker), std::string::npos);
      }
    }
  }
}

TEST(EngineRoundTrip, WrongSenderIsNotAPass) {
  Anchors anchors;
  AllGood good;
  auto s = smime::sign_message(signtest::simple_message(), signtest::credential("alice"));
  ASSERT_TRUE(s);
  smime::VerifyOptions vo;
  vo.from_address = "mallory@example.gov";
  auto report = smime::verify_message(*s, anchors, good, vo);
  ASSERT_TRUE(report);
  EXPECT_NE(report->result, smime::AuthResult::kPass);
}

TEST(EngineRoundTrip, WhatWeEncryptDecrypts) {
  const std::string msg = signtest::simple_message();
  auto split = smime::split_message(msg, {});
  const std::string entity = smime::plain_entity(*split);
  for (const smime::Cipher c : {smime::Cipher::kAes256Cbc, smime::Cipher::kAes128Cbc,
                                smime::Cipher::kAes256Gcm, smime::Cipher::kAes128Gcm}) {
    for (const smime::KeyTransport kt :
         {smime::KeyTransport::kRsaPkcs1v15, smime::KeyTransport::kRsaOaep}) {
      for (const char* who : {"alice", "carol", "dave"}) {
        SCOPED_TRACE(std::string(smime::cipher_name(c)) + " " + who);
        smime::EncryptOptions opt;
        opt.cipher = c;
        opt.rsa = kt;
        std::vector<smime::ossl::Cert> to;
        to.push_back(signtest::cert("bob"));
        to.push_back(signtest::cert(who));
        auto e = smime::encrypt_message(msg, to, opt);
        ASSERT_TRUE(e) << e.error().message();
        Keys keys({who});
        auto d = smime::decrypt_message(*e, keys);
        ASSERT_TRUE(d) << d.error().message();
        EXPECT_EQ(d->message, split->outer_headers + entity);
        EXPECT_EQ(d->authenticated,
                  c == smime::Cipher::kAes256Gcm || c == smime::Cipher::kAes128Gcm);
      }
    }
  }
  auto e = smime::encrypt_message(msg, {});
  EXPECT_FALSE(e);
  std::vector<smime::ossl::Cert> to;
  to.push_back(signtest::cert("alice"));
  auto for_alice = smime::encrypt_message(msg, to);
  ASSERT_TRUE(for_alice);
  Keys erin_only({"erin"});
  auto none = smime::decrypt_message(*for_alice, erin_only);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), policy::Errc::kNoKey);
}

}  // namespace
