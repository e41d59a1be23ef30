// Independent implementations on our output: GnuPG gpgsm 2.2 and NSS cmsutil (3.87 on
// Debian 12), next to the openssl CLI. Each algorithm combination has an expected
// outcome per peer (the interoperability matrix in smime/README.sign.md); a change in
// either direction fails, so the README cannot drift from what the tools really do.
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "peers.h"
#include "samples.h"
#include "smime/encrypt.h"
#include "smime/mime.h"
#include "smime/sign.h"

namespace {

using smime::Cipher;
using smime::Digest;
using smime::KeyTransport;
using smime::RsaPadding;

using signtest::certs;

bool is_ec(const std::string& who) {
  return who == "carol" || who == "dave";
}

std::string entity_of(const std::string& message) {
  auto split = smime::split_message(message, {});
  return *smime::canonical_entity(*split, {});
}

std::string plain_of(const std::string& message) {
  auto split = smime::split_message(message, {});
  return smime::plain_entity(*split);
}

void print_row(const std::string& cell, const std::map<std::string, bool>& got) {
  std::cout << "| " << cell;
  for (const auto& [peer, ok] : got) {
    std::cout << " | " << peer << ": " << (ok ? "yes" : "NO");
  }
  std::cout << " |\n";
}

// --- signing ----------------------------------------------------------------------

// What each peer accepts (measured on Debian 12: gpgsm 2.2.40, NSS 3.87): every
// combination, RSASSA-PSS included.
bool gpgsm_verifies(const std::string& /*who*/, Digest /*d*/, RsaPadding /*pad*/) {
  return true;
}
bool nss_verifies(const std::string& /*who*/, Digest /*d*/, RsaPadding /*pad*/) {
  return true;
}

TEST(Interop, SignatureMatrix) {
  const std::string msg = signtest::simple_message();
  const std::string want = entity_of(msg);
  for (const char* who : {"alice", "erin", "carol", "dave"}) {
    const auto cred = signtest::credential(who);
    for (const Digest d : {Digest::kSha256, Digest::kSha384, Digest::kSha512}) {
      for (const RsaPadding pad : {RsaPadding::kPkcs1v15, RsaPadding::kPss}) {
        if (pad == RsaPadding::kPss && is_ec(who)) {
          continue;
        }
        for (const bool opaque : {false, true}) {
          const std::string cell = std::string(who) + " " + std::string(smime::micalg_name(d)) +
                                   (pad == RsaPadding::kPss ? " pss" : "") +
                                   (opaque ? " opaque" : " detached");
          SCOPED_TRACE(cell);
          smime::SignOptions opt;
          opt.digest = d;
          opt.rsa_padding = pad;
          opt.opaque = opaque;
          auto s = smime::sign_message(msg, cred, opt);
          ASSERT_TRUE(s) << s.error().message();
          const auto o = signtest::openssl_verify(*s);
          const auto g = signtest::gpgsm_verify(*s);
          const auto n = signtest::nss_verify(*s);
          print_row(cell, {{"openssl", o.ok}, {"gpgsm", g.ok}, {"nss", n.ok}});
          EXPECT_TRUE(o.ok) << o.log;
          EXPECT_EQ(g.ok, gpgsm_verifies(who, d, pad)) << g.log;
          EXPECT_EQ(n.ok, nss_verifies(who, d, pad)) << n.log;
          if (g.ok) {
            EXPECT_EQ(g.content, want);
          }
          if (n.ok) {
            EXPECT_EQ(n.content, want);
          }
        }
      }
    }
  }
}

TEST(Interop, TamperedSignatureIsRejectedByEveryPeer) {
  auto s = smime::sign_message(signtest::simple_message(), signtest::credential("alice"));
  ASSERT_TRUE(s);
  std::string tampered = *s;
  tampered.replace(tampered.find("Hello Bob."), 10, "Hello Eve.");
  EXPECT_FALSE(signtest::openssl_verify(tampered).ok);
  EXPECT_FALSE(signtest::gpgsm_verify(tampered).ok);
  EXPECT_FALSE(signtest::nss_verify(tampered).ok);
}

// --- encryption -------------------------------------------------------------------

struct Recipient {
  const char* who;
  KeyTransport kt;
};

// gpgsm 2.2.40 decrypts AES-CBC with RSA PKCS#1 v1.5 only: no RSAES-OAEP ("error
// getting encrypted session key"), no AES-GCM ("error getting IV: Buffer too short"),
// and it cannot import an EC PKCS#12 (segfaults), so ECDH is untestable with it.
bool gpgsm_decrypts(Cipher c, const Recipient& r) {
  return !is_ec(r.who) && r.kt == KeyTransport::kRsaPkcs1v15 &&
         (c == Cipher::kAes256Cbc || c == Cipher::kAes128Cbc);
}
// NSS 3.87 cmsutil: no AuthEnvelopedData (unknown OID), no KARI (bad DER), and no
// RSAES-OAEP key transport.
bool nss_decrypts(Cipher c, const Recipient& r) {
  return !is_ec(r.who) && r.kt == KeyTransport::kRsaPkcs1v15 &&
         (c == Cipher::kAes256Cbc || c == Cipher::kAes128Cbc);
}

TEST(Interop, EncryptionMatrix) {
  const std::string msg = signtest::simple_message();
  const std::string want = plain_of(msg);
  const Recipient recipients[] = {
      {"alice", KeyTransport::kRsaPkcs1v15}, {"alice", KeyTransport::kRsaOaep},
      {"erin", KeyTransport::kRsaPkcs1v15},  {"erin", KeyTransport::kRsaOaep},
      {"carol", KeyTransport::kRsaPkcs1v15}, {"dave", KeyTransport::kRsaPkcs1v15}};
  for (const Cipher c :
       {Cipher::kAes256Cbc, Cipher::kAes128Cbc, Cipher::kAes256Gcm, Cipher::kAes128Gcm}) {
    for (const auto& r : recipients) {
      const std::string cell = std::string(smime::cipher_name(c)) + " " + r.who +
                               (is_ec(r.who)                     ? " ecdh"
                                : r.kt == KeyTransport::kRsaOaep ? " oaep"
                                                                 : " pkcs1");
      SCOPED_TRACE(cell);
      smime::EncryptOptions opt;
      opt.cipher = c;
      opt.rsa = r.kt;
      auto e = smime::encrypt_message(msg, certs({r.who}), opt);
      ASSERT_TRUE(e) << e.error().message();
      const auto o = signtest::openssl_decrypt(*e, r.who);
      const auto g = signtest::gpgsm_decrypt(*e);
      const auto n = signtest::nss_decrypt(*e);
      print_row(cell, {{"openssl", o.ok}, {"gpgsm", g.ok}, {"nss", n.ok}});
      EXPECT_TRUE(o.ok) << o.log;
      EXPECT_EQ(o.content, want);
      EXPECT_EQ(g.ok, gpgsm_decrypts(c, r)) << g.log;
      EXPECT_EQ(n.ok, nss_decrypts(c, r)) << n.log;
      if (g.ok) {
        EXPECT_EQ(g.content, want);
      }
      if (n.ok) {
        EXPECT_EQ(n.content, want);
      }
    }
  }
}

TEST(Interop, MultiRecipientFacts) {
  const std::string msg = signtest::simple_message();
  const std::string want = plain_of(msg);
  // RSA-only: every peer reads it, also when its key is not the first RecipientInfo
  // (gpgsm then exits 2 but writes the plaintext: judged by output).
  auto rsa_only = smime::encrypt_message(msg, certs({"bob", "alice"}));
  ASSERT_TRUE(rsa_only);
  EXPECT_EQ(signtest::gpgsm_decrypt(*rsa_only).content, want);
  EXPECT_EQ(signtest::nss_decrypt(*rsa_only).content, want);
  // One EC recipient locks NSS 3.87 out, even for its RSA key (FIELD-NOTES).
  auto with_ec = smime::encrypt_message(msg, certs({"alice", "carol"}));
  ASSERT_TRUE(with_ec);
  EXPECT_FALSE(signtest::nss_decrypt(*with_ec).ok);
  EXPECT_EQ(signtest::gpgsm_decrypt(*with_ec).content, want);
  EXPECT_EQ(signtest::openssl_decrypt(*with_ec, "carol").content, want);
}

// --- tricky MIME ------------------------------------------------------------------

TEST(Interop, TrickyMimeSurvivesSigningForEveryPeer) {
  for (const auto& sample : signtest::tricky_samples()) {
    for (const bool opaque : {false, true}) {
      SCOPED_TRACE(sample.name + (opaque ? " opaque" : " detached"));
      smime::SignOptions opt;
      opt.opaque = opaque;
      auto s = smime::sign_message(sample.message, signtest::credential("alice"), opt);
      ASSERT_TRUE(s) << s.error().message();
      const std::string want = entity_of(sample.message);
      for (const auto& [peer, result] :
           std::map<std::string, signtest::PeerResult>{{"openssl", signtest::openssl_verify(*s)},
                                                       {"gpgsm", signtest::gpgsm_verify(*s)},
                                                       {"nss", signtest::nss_verify(*s)}}) {
        EXPECT_TRUE(result.ok) << peer << ": " << result.log;
        EXPECT_EQ(result.content, want) << peer;
        EXPECT_NE(result.content.find(sample.marker), std::string::npos) << peer;
      }
      // The outer headers (folded, RFC 2047) are byte for byte those of the input.
      auto split = smime::split_message(sample.message, {});
      EXPECT_TRUE(s->starts_with(split->outer_headers));
    }
  }
}

TEST(Interop, TrickyMimeSurvivesEncryptionForEveryPeer) {
  for (const auto& sample : signtest::tricky_samples()) {
    SCOPED_TRACE(sample.name);
    auto e = smime::encrypt_message(sample.message, certs({"alice"}));
    ASSERT_TRUE(e) << e.error().message();
    const std::string want = plain_of(sample.message);
    EXPECT_EQ(signtest::openssl_decrypt(*e, "alice").content, want);
    EXPECT_EQ(signtest::gpgsm_decrypt(*e).content, want);
    EXPECT_EQ(signtest::nss_decrypt(*e).content, want);
  }
}

TEST(Interop, SignThenEncryptForEveryPeer) {
  auto s =
      smime::sign_message(signtest::tricky_samples()[0].message, signtest::credential("alice"));
  ASSERT_TRUE(s);
  auto e = smime::encrypt_message(*s, certs({"alice"}));
  ASSERT_TRUE(e);
  for (const auto& [peer, inner] : std::map<std::string, signtest::PeerResult>{
           {"gpgsm", signtest::gpgsm_decrypt(*e)}, {"nss", signtest::nss_decrypt(*e)}}) {
    ASSERT_TRUE(inner.ok) << peer << ": " << inner.log;
    // The decrypted entity is a complete multipart/signed that the same peer verifies.
    const auto v = peer == "gpgsm" ? signtest::gpgsm_verify(inner.content)
                                   : signtest::nss_verify(inner.content);
    EXPECT_TRUE(v.ok) << peer << ": " << v.log;
  }
}

}  // namespace
