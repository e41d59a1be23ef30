// verify_message() against messages signed by the openssl CLI with the test PKI.
#include <ctime>

#include <gtest/gtest.h>

#include "helpers.h"
#include "smime/verify.h"

namespace smime::testing {
namespace {

VerifyReport verify_ok(std::string_view msg, std::string_view from, FakeTrust& trust,
                       FakeRevocation& rev, std::int64_t at_time = 0) {
  VerifyOptions opt;
  opt.from_address = std::string(from);
  opt.at_time = at_time;
  auto r = verify_message(msg, trust, rev, opt);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? std::move(*r) : VerifyReport{};
}

TEST(VerifyPki, DetachedSignatureReportsSigner) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  const VerifyReport rep = verify_ok(msg, "alice@example.gov", trust, rev);
  EXPECT_EQ(auth_result_name(rep.result), "pass");
  EXPECT_EQ(rep.reason, "");
  ASSERT_EQ(rep.signers.size(), 1U);
  const SignerReport& s = rep.signers[0];
  EXPECT_NE(s.subject.find("CN=Alice"), std::string::npos) << s.subject;
  EXPECT_NE(s.issuer.find("Test Issuing CA"), std::string::npos) << s.issuer;
  EXPECT_EQ(s.emails, std::vector<std::string>{"alice@example.gov"});
  EXPECT_EQ(s.digest_alg, "SHA256");
  EXPECT_FALSE(s.serial_hex.empty());
  EXPECT_EQ(s.fingerprint.size(), 64U);
  EXPECT_NEAR(static_cast<double>(s.signing_time), static_cast<double>(std::time(nullptr)), 600.0);
  EXPECT_EQ(s.chain.size(), 3U);        // leaf, inter, root
  EXPECT_TRUE(s.capabilities.present);  // openssl cms -sign sends SMIMECapabilities
  EXPECT_TRUE(s.capabilities.aes256_cbc);
  EXPECT_FALSE(s.capabilities_der.empty());
  EXPECT_TRUE(rep.whole_message);
  EXPECT_NE(rep.content.find("Selamat pagi"), std::string::npos);
  EXPECT_EQ(rep.content.find("pkcs7-signature"), std::string::npos);
}

struct SignerCase {
  const char* name;
  std::vector<std::string> signers;
  const char* from;
  std::vector<std::string> extra;
  const char* result;
  const char* reason;
};

TEST(VerifyPki, SignerOutcomes) {
  const SignerCase cases[] = {
      {"rsa sha256", {"alice"}, "alice@example.gov", {}, "pass", ""},
      {"rsa sha384", {"alice"}, "alice@example.gov", {"-md", "sha384"}, "pass", ""},
      {"rsa sha512", {"alice"}, "alice@example.gov", {"-md", "sha512"}, "pass", ""},
      {"rsa pss", {"alice"}, "alice@example.gov", {"-keyopt", "rsa_padding_mode:pss"}, "pass", ""},
      {"opaque", {"alice"}, "alice@example.gov", {"-nodetach"}, "pass", ""},
      {"ecdsa p256", {"carol"}, "carol@example.gov", {}, "pass", ""},
      {"ecdsa p384", {"dave"}, "dave@partner.example", {"-md", "sha384"}, "pass", ""},
      {"rsa 3072", {"erin"}, "ERIN@partner.example", {}, "pass", ""},
      {"sign-only key usage", {"signonly"}, "signonly@example.gov", {}, "pass", ""},
      {"from is someone else", {"alice"}, "bob@example.gov", {}, "policy", "sender-mismatch"},
      {"no e-mail in certificate",
       {"noemail"},
       "noemail@example.gov",
       {},
       "policy",
       "sender-mismatch"},
      {"expired signer", {"expired"}, "expired@example.gov", {}, "policy", "expired"},
      {"revoked signer", {"revoked"}, "revoked@example.gov", {}, "fail", "revoked"},
      {"untrusted root", {"mallory"}, "mallory@example.gov", {}, "fail", "untrusted-chain"},
      {"root in message is no anchor",
       {"mallory"},
       "mallory@example.gov",
       {"-certfile", testsupport::pki("other-root.crt").string()},
       "fail",
       "untrusted-chain"},
      {"two signers, one fits From", {"alice", "bob"}, "bob@example.gov", {}, "pass", ""},
      {"untrusted and trusted signer", {"mallory", "alice"}, "alice@example.gov", {}, "pass", ""},
  };
  auto trust = pki_trust();
  auto rev = pki_revocation();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string msg = sign_by(c.signers, c.from, sample_entity(), c.extra);
    const VerifyReport rep = verify_ok(msg, c.from, trust, rev);
    EXPECT_EQ(auth_result_name(rep.result), c.result);
    EXPECT_EQ(rep.reason, c.reason);
    EXPECT_EQ(rep.signers.size(), c.signers.size());
    for (const auto& s : rep.signers) {
      EXPECT_EQ(s.result == AuthResult::kPass, s.reason.empty()) << s.reason;
      EXPECT_EQ(s.result == AuthResult::kPass, s.detail.empty()) << s.detail;
    }
  }
}

TEST(VerifyPki, SeveralSignersEachReported) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string msg = sign_by({"alice", "revoked"}, "alice@example.gov", sample_entity());
  const VerifyReport rep = verify_ok(msg, "alice@example.gov", trust, rev);
  ASSERT_EQ(rep.signers.size(), 2U);
  EXPECT_EQ(rep.result, AuthResult::kPass);
  EXPECT_EQ(rep.signers[0].result, AuthResult::kPass);
  EXPECT_EQ(rep.signers[1].reason, "revoked");
  EXPECT_NE(rep.signers[1].detail.find("keyCompromise"), std::string::npos)
      << rep.signers[1].detail;
}

TEST(VerifyPki, TamperedContentFails) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  for (const bool opaque : {false, true}) {
    SCOPED_TRACE(opaque ? "opaque" : "detached");
    const std::string msg = sign_by(
        {"alice"}, "alice@example.gov", sample_entity(),
        opaque ? std::vector<std::string>{"-nodetach", "-binary"} : std::vector<std::string>{});
    std::string bad;
    if (opaque) {
      // Flip one base64 character inside the body: either the DER breaks or the content changes.
      const auto body = msg.find("\n\n") + 200;
      bad = msg;
      bad[body] = bad[body] == 'A' ? 'B' : 'A';
    } else {
      bad = replace_once(msg, "Selamat pagi", "Selamat sore");
    }
    VerifyOptions opt;
    opt.from_address = "alice@example.gov";
    auto r = verify_message(bad, trust, rev, opt);
    if (r) {
      EXPECT_NE(r->result, AuthResult::kPass);
      EXPECT_TRUE(r->reason == "bad-signature" || r->reason == "malformed") << r->reason;
      for (const auto& s : r->signers) {
        EXPECT_FALSE(s.capabilities.present) << "attributes of a bad signature must not be used";
      }
    } else {
      EXPECT_EQ(r.error().code(), policy::Errc::kMalformedInput) << r.error().message();
    }
  }
}

TEST(VerifyPki, LineEndingsDoNotMatter) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  std::string crlf;
  for (const char c : msg) {
    if (c == '\n' && (crlf.empty() || crlf.back() != '\r')) {
      crlf += '\r';
    }
    crlf += c;
  }
  ASSERT_NE(crlf, msg);
  EXPECT_EQ(verify_ok(crlf, "alice@example.gov", trust, rev).result, AuthResult::kPass);
}

TEST(VerifyPki, BinaryModeSignatureOverBareLf) {
  // openssl cms -sign -binary signs the LF bytes as they are (no canonicalisation).
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string lf_entity = "Content-Type: text/plain\n\nbaris satu\nbaris dua\n";
  const std::string msg = sign_by({"alice"}, "alice@example.gov", lf_entity, {"-binary"});
  EXPECT_EQ(verify_ok(msg, "alice@example.gov", trust, rev).result, AuthResult::kPass);
  const std::string bad = replace_once(msg, "baris dua", "baris tiga");
  EXPECT_EQ(verify_ok(bad, "alice@example.gov", trust, rev).reason, "bad-signature");
}

TEST(VerifyPki, AtTimeJudgesValidity) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  // alice is valid for 730 days from PKI creation (make_pki.sh).
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_EQ(verify_ok(msg, "alice@example.gov", trust, rev, now + 86400).result, AuthResult::kPass);
  const auto later = verify_ok(msg, "alice@example.gov", trust, rev, now + 800 * 86400);
  EXPECT_EQ(later.result, AuthResult::kPolicy);
  EXPECT_EQ(later.reason, "expired");
  const auto before = verify_ok(msg, "alice@example.gov", trust, rev, now - 30 * 86400);
  EXPECT_EQ(before.reason, "expired") << "not yet valid counts as outside the validity period";
}

TEST(VerifyPki, RevocationUnknownAndUnavailableAreTempErrors) {
  auto trust = pki_trust();
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  FakeRevocation unknown;  // no CRLs at all
  unknown.no_crl = RevocationState::kUnknown;
  auto rep = verify_ok(msg, "alice@example.gov", trust, unknown);
  EXPECT_EQ(rep.result, AuthResult::kTempError);
  EXPECT_EQ(rep.reason, "revocation-unknown");
  FakeRevocation down;
  down.unavailable = true;
  rep = verify_ok(msg, "alice@example.gov", trust, down);
  EXPECT_EQ(rep.result, AuthResult::kTempError);
  EXPECT_EQ(rep.reason, "revocation-unknown");
  EXPECT_NE(rep.signers.at(0).detail.find("unavailable"), std::string::npos);
}

TEST(VerifyPki, RevokedIntermediateFailsTheSigner) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  rev.revoke_subject = "CN=Test Issuing CA";
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  const auto rep = verify_ok(msg, "alice@example.gov", trust, rev);
  EXPECT_EQ(rep.result, AuthResult::kFail);
  EXPECT_EQ(rep.reason, "revoked");
  EXPECT_NE(rep.signers.at(0).detail.find("Test Issuing CA"), std::string::npos)
      << rep.signers[0].detail;
}

TEST(VerifyPki, KeyUsageNotForEmailSigning) {
  // Leaves made here by the openssl CLI under the test issuing CA: one whose keyUsage
  // only allows key agreement, one whose extendedKeyUsage is serverAuth only.
  const testsupport::TempDir dir;
  auto trust = pki_trust();
  auto rev = pki_revocation();
  rev.no_crl = RevocationState::kGood;
  const std::pair<const char*, const char*> cases[] = {
      {"ku", "keyUsage=critical,keyAgreement\nsubjectAltName=email:odd@example.gov\n"},
      {"eku",
       "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=email:odd@"
       "example.gov\n"},
  };
  for (const auto& [name, ext] : cases) {
    SCOPED_TRACE(name);
    const std::string base = (dir / name).string();
    ASSERT_EQ(testsupport::run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key",
                                "-out", base + ".csr", "-subj", "/CN=Odd"})
                  .exit_code,
              0);
    testsupport::write_file(base + ".ext", ext);
    ASSERT_EQ(testsupport::run({"openssl", "x509", "-req", "-in", base + ".csr", "-CA",
                                testsupport::pki("inter.crt").string(), "-CAkey",
                                testsupport::pki("inter.key").string(), "-set_serial", "4242",
                                "-days", "30", "-extfile", base + ".ext", "-out", base + ".crt"})
                  .exit_code,
              0);
    const std::string msg = openssl_cms({"-sign", "-signer", base + ".crt", "-inkey", base + ".key",
                                         "-certfile", testsupport::pki("inter.crt").string()},
                                        sample_entity());
    const auto rep = verify_ok(msg, "odd@example.gov", trust, rev);
    EXPECT_EQ(rep.result, AuthResult::kFail);
    EXPECT_EQ(rep.reason, "untrusted-chain");
    EXPECT_NE(rep.signers.at(0).detail.find("purpose"), std::string::npos) << rep.signers[0].detail;
  }
}

TEST(VerifyPki, TrustStoreUnavailableIsAnError) {
  auto trust = pki_trust();
  trust.unavailable = true;
  auto rev = pki_revocation();
  const std::string msg = sign_by({"alice"}, "alice@example.gov", sample_entity());
  auto r = verify_message(msg, trust, rev, VerifyOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), policy::Errc::kUnavailable);
  EXPECT_EQ(auth_result_for_error(r.error().code()), AuthResult::kTempError);
}

TEST(VerifyPki, UnsignedMessageIsNone) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string msg = "From: a@example.gov\r\nSubject: hi\r\n\r\nplain text\r\n";
  const auto rep = verify_ok(msg, "a@example.gov", trust, rev);
  EXPECT_EQ(rep.result, AuthResult::kNone);
  EXPECT_TRUE(rep.signers.empty());
}

TEST(VerifyPki, NestedSignaturesReportEveryLayer) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string inner = sign_by({"alice"}, "", sample_entity());
  const std::string outer = sign_by({"bob"}, "bob@example.gov", inner, {"-nodetach"});
  const auto rep = verify_ok(outer, "bob@example.gov", trust, rev);
  ASSERT_EQ(rep.signers.size(), 2U);
  EXPECT_EQ(rep.result, AuthResult::kPass);  // the outermost layer decides
  EXPECT_EQ(rep.signers[0].layer, 0);
  EXPECT_NE(rep.signers[0].subject.find("CN=Bob"), std::string::npos);
  EXPECT_EQ(rep.signers[1].layer, 1);
  EXPECT_NE(rep.signers[1].subject.find("CN=Alice"), std::string::npos);
  EXPECT_EQ(rep.signers[1].reason, "sender-mismatch");  // From is Bob
}

TEST(VerifyPki, SignedPartInsideMixedIsFoundButNotWhole) {
  auto trust = pki_trust();
  auto rev = pki_revocation();
  const std::string signed_entity = sign_by({"alice"}, "", sample_entity());
  const std::string msg =
      "From: alice@example.gov\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
      "boundary=\"LIST\"\r\n\r\n"
      "--LIST\r\n" +
      signed_entity + "\r\n--LIST\r\nContent-Type: text/plain\r\n\r\nlist footer\r\n--LIST--\r\n";
  const auto rep = verify_ok(msg, "alice@example.gov", trust, rev);
  EXPECT_EQ(rep.result, AuthResult::kPass);
  EXPECT_FALSE(rep.whole_message);
  ASSERT_EQ(rep.signers.size(), 1U);
  EXPECT_EQ(rep.signers[0].part, "1");
}

}  // namespace
}  // namespace smime::testing
