// sign_message: round trips through the openssl CLI for every key/digest/padding
// combination, the signed attributes and certificates we promise, and the errors.
#include "smime/sign.h"

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/cms.h>

#include "peers.h"
#include "samples.h"
#include "smime/capabilities.h"
#include "smime/encrypt.h"
#include "smime/mime.h"
#include "smime/x509.h"

namespace {

using policy::Errc;
using smime::Digest;
using smime::RsaPadding;

struct SignCase {
  const char* signer;
  Digest digest;
  RsaPadding padding;
  bool opaque;
};

std::string case_name(const SignCase& c) {
  return std::string(c.signer) + "/" + std::string(smime::micalg_name(c.digest)) +
         (c.padding == RsaPadding::kPss ? "/pss" : "/pkcs1") + (c.opaque ? "/opaque" : "/detached");
}

std::vector<SignCase> all_sign_cases() {
  std::vector<SignCase> cases;
  for (const char* signer : {"alice", "erin", "carol", "dave"}) {
    const bool rsa = std::string(signer) == "alice" || std::string(signer) == "erin";
    for (const Digest d : {Digest::kSha256, Digest::kSha384, Digest::kSha512}) {
      for (const bool opaque : {false, true}) {
        cases.push_back({signer, d, RsaPadding::kPkcs1v15, opaque});
        if (rsa) {
          cases.push_back({signer, d, RsaPadding::kPss, opaque});
        }
      }
    }
  }
  return cases;
}

// The canonical entity our signer puts under the signature, for comparison.
std::string entity_of(const std::string& message) {
  auto split = smime::split_message(message, {});
  auto entity = smime::canonical_entity(*split, {});
  return *entity;
}

TEST(Sign, EveryCombinationVerifiesWithOpenssl) {
  const std::string msg = signtest::simple_message();
  const std::string want = entity_of(msg);
  for (const auto& c : all_sign_cases()) {
    SCOPED_TRACE(case_name(c));
    const auto cred = signtest::credential(c.signer);
    smime::SignOptions opt;
    opt.digest = c.digest;
    opt.rsa_padding = c.padding;
    opt.opaque = c.opaque;
    auto signed_msg = smime::sign_message(msg, cred, opt);
    ASSERT_TRUE(signed_msg) << signed_msg.error().message();
    const auto v = signtest::openssl_verify(*signed_msg);
    EXPECT_TRUE(v.ok) << v.log;
    EXPECT_EQ(v.content, want);
    const std::string headers = signtest::headers_of(*signed_msg);
    if (c.opaque) {
      EXPECT_NE(headers.find("application/pkcs7-mime; smime-type=signed-data"), std::string::npos)
          << headers;
    } else {
      EXPECT_NE(headers.find("micalg=" + std::string(smime::micalg_name(c.digest)) + ";"),
                std::string::npos)
          << headers;
    }
    const std::string printed = signtest::openssl_print(*signed_msg);
    EXPECT_NE(printed.find(c.padding == RsaPadding::kPss && c.signer[0] != 'c' && c.signer[0] != 'd'
                               ? "rsassaPss"
                           : (c.signer[0] == 'c' || c.signer[0] == 'd') ? "ecdsa-with-SHA"
                                                                        : "rsaEncryption"),
              std::string::npos);
  }
}

TEST(Sign, OuterHeadersStayOutsideAndVerbatim) {
  const std::string msg = signtest::simple_message();
  auto signed_msg = smime::sign_message(msg, signtest::credential("alice"));
  ASSERT_TRUE(signed_msg) << signed_msg.error().message();
  EXPECT_TRUE(
      signed_msg->starts_with("From: Alice <alice@example.gov>\r\nTo: Bob <bob@example.gov>\r\n"));
  const std::string headers = signtest::headers_of(*signed_msg);
  EXPECT_NE(
      headers.find("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\""),
      std::string::npos);
  EXPECT_EQ(headers.find("charset=us-ascii"), std::string::npos) << "Content-* header left outside";
  std::string content;
  std::string sig;
  ASSERT_TRUE(signtest::split_signed(*signed_msg, content, sig));
  EXPECT_TRUE(content.starts_with("Content-Type: text/plain; charset=us-ascii\r\n")) << content;
  EXPECT_EQ(content.find("Subject:"), std::string::npos);
  // The headers we write are short (Outlook breaks on re-folded long Content-Type lines).
  for (const auto& m : {*signed_msg, *smime::encrypt_message(msg, signtest::certs({"bob"}))}) {
    const std::string ours =
        signtest::headers_of(m).substr(signtest::headers_of(m).find("MIME-Version"));
    for (std::size_t pos = 0, eol = 0; (eol = ours.find("\r\n", pos)) != std::string::npos;
         pos = eol + 2) {
      EXPECT_LE(eol - pos, 78U) << ours.substr(pos, eol - pos);
    }
  }
  // Exactly one MIME-Version, on the outside.
  EXPECT_EQ(signed_msg->find("MIME-Version"), signed_msg->rfind("MIME-Version"));
}

TEST(Sign, SignedAttributesCapabilitiesAndPreference) {
  auto signed_msg = smime::sign_message(signtest::simple_message(), signtest::credential("alice"));
  ASSERT_TRUE(signed_msg);
  // Third-party view: openssl's printer names every signed attribute.
  const std::string printed = signtest::openssl_print(*signed_msg);
  for (const char* want :
       {"contentType", "signingTime", "messageDigest", "S/MIME Capabilities",
        "id-smime-aa-encrypKeyPref", "aes-256-gcm", "aes-256-cbc", "rsaesOaep"}) {
    EXPECT_NE(printed.find(want), std::string::npos) << want << "\n" << printed;
  }
  // Our parser reads the same attributes back (what verify and keystore call).
  std::string content;
  std::string der;
  ASSERT_TRUE(signtest::split_signed(*signed_msg, content, der));
  smime::ossl::Bio bio = smime::ossl::mem_view(der);
  smime::ossl::Cms cms(::d2i_CMS_bio(bio.get(), nullptr));
  ASSERT_TRUE(cms);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(::CMS_get0_SignerInfos(cms.get()), 0);
  ASSERT_NE(si, nullptr);
  const smime::Capabilities caps = smime::parse_capabilities(*si);
  EXPECT_TRUE(caps.present);
  EXPECT_TRUE(caps.aes256_gcm && caps.aes128_gcm && caps.aes256_cbc && caps.aes128_cbc &&
              caps.rsa_oaep);
  ASSERT_GE(caps.oids.size(), 5U);
  EXPECT_EQ(caps.oids[0], "2.16.840.1.101.3.4.1.46");  // aes256-GCM first: strongest first
  const auto again = smime::parse_capabilities_der(smime::capabilities_der(*si));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->oids, caps.oids);
  const smime::KeyPreference pref = smime::parse_encryption_key_preference(*si);
  const smime::CertInfo info = smime::inspect(*signtest::cert("alice"));
  EXPECT_EQ(pref.serial_hex, info.serial_hex);
  EXPECT_FALSE(pref.issuer_der.empty());
}

TEST(Sign, ChainTravelsButNeverTheRoot) {
  auto signed_msg =
      smime::sign_message(signtest::simple_message(), signtest::credential("carol", true));
  ASSERT_TRUE(signed_msg) << signed_msg.error().message();
  const std::string printed = signtest::openssl_print(*signed_msg);
  EXPECT_NE(printed.find("CN=Carol"), std::string::npos);
  EXPECT_NE(printed.find("Test Issuing CA"), std::string::npos);
  // The root appears only as the issuer of the intermediate, never as a subject.
  EXPECT_EQ(printed.find("subject: CN=Test Root CA"), std::string::npos) << printed;
  // Verification needs only the root as anchor: the intermediate came along.
  EXPECT_TRUE(signtest::openssl_verify(*signed_msg).ok);
}

TEST(Sign, Ed25519IsAClearUnsupportedAlgorithm) {
  auto r = smime::sign_message(signtest::simple_message(), signtest::credential("edward"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kUnsupportedAlgorithm) << r.error().message();
  EXPECT_NE(r.error().detail().find("ED25519"), std::string::npos) << r.error().detail();
}

TEST(Sign, RefusesToWrapSmimeAgain) {
  const auto alice = signtest::credential("alice");
  auto once = smime::sign_message(signtest::simple_message(), alice);
  ASSERT_TRUE(once);
  auto twice = smime::sign_message(*once, alice);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), Errc::kConflict);
  smime::SignOptions opaque;
  opaque.opaque = true;
  auto opaque_once = smime::sign_message(signtest::simple_message(), alice, opaque);
  ASSERT_TRUE(opaque_once);
  auto opaque_twice = smime::sign_message(*opaque_once, alice);
  ASSERT_FALSE(opaque_twice);
  EXPECT_EQ(opaque_twice.error().code(), Errc::kConflict);
}

TEST(Sign, RejectsUnusableSigners) {
  struct Case {
    const char* name;
    smime::Credential cred;
    Errc want;
  };
  std::vector<Case> cases;
  cases.push_back({"key of another cert", signtest::credential("alice"), Errc::kInvalidArgument});
  cases.back().cred.key = signtest::credential("bob").key;
  cases.push_back({"no key", signtest::credential("alice"), Errc::kInvalidArgument});
  cases.back().cred.key.reset();
  cases.push_back({"expired", signtest::credential("expired"), Errc::kExpired});
  for (const auto& c : cases) {
    auto r = smime::sign_message(signtest::simple_message(), c.cred);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code(), c.want) << c.name << ": " << r.error().message();
  }
}

TEST(Sign, BadMessagesAreErrorsNotCrashes) {
  const auto alice = signtest::credential("alice");
  smime::SignOptions small;
  small.limits.max_message_bytes = 100;
  struct Case {
    const char* name;
    std::string message;
    smime::SignOptions opt;
    Errc want;
  };
  const Case cases[] = {
      {"empty", "", {}, Errc::kMalformedInput},
      {"garbage header", "no colon here\n\nbody\n", {}, Errc::kMalformedInput},
      {"over size", signtest::simple_message(), small, Errc::kLimitExceeded},
  };
  for (const auto& c : cases) {
    auto r = smime::sign_message(c.message, alice, c.opt);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code(), c.want) << c.name << ": " << r.error().message();
  }
  // Broken MIME inside (missing closing boundary, empty parts) still signs: it is the
  // sender's content, and the signature covers it as canonicalised.
  auto odd = smime::sign_message(
      "Subject: x\nContent-Type: multipart/mixed; boundary=\"q\"\n\n--q\n\n--q\nContent-Type: "
      "text/plain\n\nnever closed\n",
      alice);
  ASSERT_TRUE(odd) << odd.error().message();
  EXPECT_TRUE(signtest::openssl_verify(*odd).ok);
  auto headers_only = smime::sign_message("Subject: only headers\n", alice);
  ASSERT_TRUE(headers_only) << headers_only.error().message();
  EXPECT_TRUE(signtest::openssl_verify(*headers_only).ok);
}

}  // namespace

namespace {

// The milter signs on several threads at once: GMime is initialised once and every
// call owns its objects.
TEST(Sign, ConcurrentSigningAndEncryption) {
  const auto samples = signtest::tricky_samples();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const auto cred = signtest::credential(t % 2 == 0 ? "alice" : "carol");
      for (int i = 0; i < 8; ++i) {
        const auto& sample = samples[static_cast<std::size_t>(i) % samples.size()];
        auto s = smime::sign_message(sample.message, cred);
        if (!s) {
          continue;
        }
        std::vector<smime::ossl::Cert> to;
        to.push_back(signtest::cert("bob"));
        auto e = smime::encrypt_message(*s, to);
        if (e && e->find("smime-type=enveloped-data") != std::string::npos) {
          ++good;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(good.load(), 32);
  // One of them, checked by a third party.
  auto s = smime::sign_message(samples[3].message, signtest::credential("alice"));
  ASSERT_TRUE(s);
  EXPECT_TRUE(signtest::openssl_verify(*s).ok);
}

}  // namespace

namespace {

TEST(Sign, LargeAttachmentSignsAndEncryptsQuickly) {
  std::string blob;
  blob.reserve(4U << 20U);
  std::uint32_t x = 12345;
  while (blob.size() < (4U << 20U)) {
    x = x * 1103515245U + 12345U;
    blob.push_back(static_cast<char>(x >> 24U));
  }
  const std::string msg =
      "From: alice@example.gov\r\nSubject: big\r\n"
      "Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n"
      "--big\r\nContent-Type: text/plain\r\n\r\nSurat Keputusan Walikota\r\n"
      "--big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: "
      "binary\r\n\r\n" +
      blob + "\r\n--big--\r\n";
  const auto start = std::chrono::steady_clock::now();
  auto s = smime::sign_message(msg, signtest::credential("alice"));
  ASSERT_TRUE(s) << s.error().message();
  std::vector<smime::ossl::Cert> to;
  to.push_back(signtest::cert("bob"));
  auto e = smime::encrypt_message(*s, to);
  ASSERT_TRUE(e) << e.error().message();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_LT(ms, 30000) << "4 MiB sign+encrypt took " << ms << " ms";
  std::cout << "4 MiB sign+encrypt: " << ms << " ms\n";
  EXPECT_TRUE(signtest::openssl_verify(*s).ok);
}

}  // namespace
