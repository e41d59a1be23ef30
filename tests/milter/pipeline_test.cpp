// SmimePipeline through Session with a real keystore (test PKI imported through the
// keystore API) and a real policy; outputs are checked with the openssl CLI.
#include <gtest/gtest.h>

#include "keystore/keystore.h"
#include "milter/header_text.h"
#include "milter/smime_pipeline.h"
#include "tests/common/test_support.h"
#include "tests/milter/smime_fixture.h"

namespace milter {
namespace {

namespace fs = std::filesystem;
using testsupport::pki;

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testsupport::TempDir();
    auto ks = fixture::make_keystore(dir_->path(), {{"alice", ""}, {"bob", ""}, {"revoked", ""}});
    ASSERT_TRUE(ks);
    // The Thunderbird corpus CA: its certificates verify, but we hold no CRL of it.
    fixture::add_anchor(*ks,
                        testsupport::corpus_dir() / "thunderbird-comm-central/smime/TestCA.pem");
    ks_ = new std::shared_ptr<keystore::Keystore>(std::move(ks));
  }
  static void TearDownTestSuite() {
    delete ks_;
    delete dir_;
  }

  Outcome run(const std::string& config_toml, const std::string& message, const std::string& auth,
              const std::string& client_ip, const std::vector<std::string>& rcpts,
              std::string* delivered = nullptr) {
    fixture::Submission sub;
    sub.sender = sender_;
    sub.rcpts = rcpts;
    sub.auth = auth;
    sub.client_ip = client_ip;
    auto d = fixture::run_message(
        fixture::snapshot(config_toml, dir_->path(), std::make_shared<SmimePipeline>(*ks_)), sub,
        message);
    if (delivered != nullptr) {
      *delivered = std::move(d.delivered);
    }
    return std::move(d.outcome);
  }

  // openssl cms on a file; returns (exit code, output).
  static testsupport::CommandResult openssl(std::vector<std::string> args, const std::string& in) {
    const fs::path f = *dir_ / "in.eml";
    testsupport::write_file(f, in);
    args.insert(args.begin(), "openssl");
    args.push_back("-in");
    args.push_back(f.string());
    return testsupport::run(args);
  }

  std::string sender_ = "<alice@example.gov>";
  static testsupport::TempDir* dir_;
  static std::shared_ptr<keystore::Keystore>* ks_;
};
testsupport::TempDir* PipelineTest::dir_ = nullptr;
std::shared_ptr<keystore::Keystore>* PipelineTest::ks_ = nullptr;

const std::string kPlain =
    "From: Alice <alice@example.gov>\nTo: bob@example.gov\nSubject: official\n"
    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nHello Bob.\n";

TEST_F(PipelineTest, OutboundSignedAndEncryptedDecryptsAndVerifiesWithOpenssl) {
  std::string out;
  const Outcome o = run("", kPlain, "alice", "198.51.100.20", {"bob@example.gov"}, &out);
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary << " " << o.reply.text;
  ASSERT_TRUE(o.new_body.has_value()) << o.summary;
  EXPECT_NE(out.find("application/pkcs7-mime"), std::string::npos) << out.substr(0, 400);
  EXPECT_NE(out.find("Subject: official"), std::string::npos);
  EXPECT_EQ(out.find("Hello Bob."), std::string::npos) << "no plaintext leaves";
  EXPECT_NE(o.summary.find("direction=outbound"), std::string::npos) << o.summary;
  const auto dec = openssl(
      {"cms", "-decrypt", "-recip", pki("bob.crt").string(), "-inkey", pki("bob.key").string()},
      out);
  ASSERT_EQ(dec.exit_code, 0) << dec.out;
  EXPECT_NE(dec.out.find("multipart/signed"), std::string::npos) << dec.out.substr(0, 300);
  const auto ver = openssl({"cms", "-verify", "-CAfile", pki("root.crt").string()}, dec.out);
  EXPECT_EQ(ver.exit_code, 0) << ver.out;
  EXPECT_NE(ver.out.find("Hello Bob."), std::string::npos) << ver.out;
}

TEST_F(PipelineTest, OutboundToRecipientWithoutCertificateIsSignedOnly) {
  std::string out;
  const Outcome o = run("", kPlain, "alice", "198.51.100.20", {"x@elsewhere.example"}, &out);
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_NE(out.find("multipart/signed"), std::string::npos) << out.substr(0, 400);
  const auto ver = openssl({"cms", "-verify", "-CAfile", pki("root.crt").string()}, out);
  EXPECT_EQ(ver.exit_code, 0) << ver.out;
}

TEST_F(PipelineTest, EncryptionRequiredButRecipientWithoutCertificateIsRefused) {
  std::string out;
  const Outcome o = run("[default]\nencrypt = \"required\"\n", kPlain, "alice", "198.51.100.20",
                        {"bob@example.gov", "x@elsewhere.example"}, &out);
  EXPECT_TRUE(o.verdict == Verdict::kReject || o.verdict == Verdict::kTempfail) << o.summary;
  EXPECT_FALSE(o.reply.code.empty());
  EXPECT_FALSE(o.new_body.has_value());
}

TEST_F(PipelineTest, AuthenticatedUserMustOwnTheSenderAddress) {
  const Outcome o = run("[default]\nsign = \"required\"\n", kPlain, "bob", "198.51.100.20",
                        {"x@elsewhere.example"});
  EXPECT_EQ(o.verdict, Verdict::kReject) << o.summary;
  EXPECT_EQ(o.reply.code.substr(0, 1), "5") << o.reply.code;
  EXPECT_NE(o.summary.find("auth-mismatch"), std::string::npos) << o.summary;
  EXPECT_FALSE(o.new_body.has_value());
}

TEST_F(PipelineTest, RevokedSenderCertificateIsNeverUsed) {
  sender_ = "<revoked@example.gov>";
  const std::string msg =
      "From: revoked@example.gov\nTo: x@elsewhere.example\nSubject: s\n\nbody\n";
  const Outcome o = run("[default]\nsign = \"required\"\n", msg, "revoked", "198.51.100.20",
                        {"x@elsewhere.example"});
  EXPECT_NE(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_NE(o.verdict, Verdict::kAccept);
  EXPECT_FALSE(o.new_body.has_value());
}

std::string signed_by_carol(const testsupport::TempDir& d, std::string_view from) {
  return fixture::openssl_signed(d.path(), "carol", from, "Signed by Carol.",
                                 "Authentication-Results: mx.example.gov; smime=pass (forged)\n");
}

TEST_F(PipelineTest, InboundSignedGetsAuthenticationResultsAndForgedOneRemoved) {
  testsupport::TempDir d;
  sender_ = "<carol@example.gov>";
  const Outcome o =
      run("", signed_by_carol(d, "carol@example.gov"), "", "203.0.113.5", {"alice@example.gov"});
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  bool deleted = false;
  std::string ar;
  for (const auto& e : o.header_edits) {
    deleted =
        deleted || (e.kind == HeaderEdit::Kind::kDelete && e.name == "Authentication-Results");
    if (e.kind == HeaderEdit::Kind::kAdd && e.name == "Authentication-Results") {
      ar = e.value;
    }
  }
  EXPECT_TRUE(deleted);
  EXPECT_EQ(ar.rfind("mx.example.gov; smime=pass", 0), 0U) << ar;
  EXPECT_NE(ar.find("body.smime-identifier=carol@example.gov"), std::string::npos) << ar;
  EXPECT_NE(ar.find("body.smime-issuer="), std::string::npos) << ar;
  EXPECT_NE(o.summary.find("direction=inbound"), std::string::npos);
}

TEST_F(PipelineTest, InboundTamperedIsSmimeFail) {
  testsupport::TempDir d;
  sender_ = "<carol@example.gov>";
  std::string msg = signed_by_carol(d, "carol@example.gov");
  const auto pos = msg.find("Signed by Carol.");
  ASSERT_NE(pos, std::string::npos);
  msg.replace(pos, 6, "Forged");
  const Outcome o = run("", msg, "", "203.0.113.5", {"alice@example.gov"});
  std::string ar;
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kAdd && e.name == "Authentication-Results") {
      ar = e.value;
    }
  }
  EXPECT_EQ(ar.rfind("mx.example.gov; smime=fail", 0), 0U) << ar << " / " << o.summary;
}

TEST_F(PipelineTest, InboundEncryptedForUsIsDecryptedAndVerified) {
  testsupport::TempDir d;
  sender_ = "<carol@example.gov>";
  const std::string signed_msg = signed_by_carol(d, "carol@example.gov");
  // Encrypt the signed entity (from MIME-Version on) to Bob, as Carol's client would.
  const auto entity = signed_msg.substr(signed_msg.find("MIME-Version"));
  testsupport::write_file(d / "signed.eml", entity);
  const auto enc = testsupport::run({"openssl", "cms", "-encrypt", "-aes256", "-in",
                                     (d / "signed.eml").string(), pki("bob.crt").string()});
  ASSERT_EQ(enc.exit_code, 0) << enc.out;
  const std::string msg =
      "From: carol@example.gov\nTo: bob@example.gov\nSubject: secret\n" + enc.out;
  std::string out;
  const Outcome o = run("", msg, "", "203.0.113.5", {"bob@example.gov"}, &out);
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_NE(o.summary.find("decrypted-for="), std::string::npos) << o.summary;
  EXPECT_NE(out.find("Signed by Carol."), std::string::npos) << out.substr(0, 600);
  EXPECT_NE(out.find("smime=pass"), std::string::npos) << out.substr(0, 600);
}

// Mail tagged [RAHASIA] must be encrypted, and the tag is taken out of the Subject.
const std::string kSecretRule =
    "[[rule]]\nname = \"secret\"\nstrip_subject_tag = true\nencrypt = \"required\"\n"
    "[rule.match]\nsubject_tag = \"[RAHASIA]\"\n";

TEST_F(PipelineTest, SubjectTagIsStrippedWhenTheRuleSaysSo) {
  const std::string msg =
      "From: alice@example.gov\nTo: bob@example.gov\nSubject: [RAHASIA] budget\n\nNumbers.\n";
  const Outcome o = run(kSecretRule, msg, "alice", "198.51.100.20", {"bob@example.gov"});
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  bool changed = false;
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kChange && e.name == "Subject") {
      changed = true;
      EXPECT_EQ(e.index, 1);
      EXPECT_EQ(e.value.find("[RAHASIA]"), std::string::npos) << e.value;
      EXPECT_NE(e.value.find("budget"), std::string::npos) << e.value;
    }
  }
  EXPECT_TRUE(changed) << o.summary;
  EXPECT_NE(o.summary.find("rule=secret"), std::string::npos) << o.summary;
}

// A body larger than [limits] spool_threshold is spooled while it arrives; a plain
// outbound one is then signed and encrypted from the spool file (smime sign_file /
// encrypt_file) into a new private file the glue streams to the MTA.
std::string big_plain(std::size_t lines) {
  std::string m =
      "From: Alice <alice@example.gov>\nTo: bob@example.gov\nSubject: big report\n"
      "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n";
  for (std::size_t i = 0; i < lines; ++i) {
    m += "line " + std::to_string(i) + " of the quarterly report";
    m += i % 97 == 0 ? "\nFrom the desk of Alice\n" : "\n";
  }
  m += "END OF REPORT\n";
  return m;
}

// smime-milter.* files (body spools, scratch and result files) in `dir`.
std::size_t spool_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("smime-milter.")) {
      ++n;
    }
  }
  return n;
}

const std::string kSmallSpool = "[limits]\nspool_threshold = 4096\n";

TEST_F(PipelineTest, SpooledOutboundIsSignedAndEncryptedFromTheSpoolFile) {
  const std::string msg = big_plain(6000);  // about 230 KB
  std::string out;
  {
    fixture::Submission sub;
    sub.rcpts = {"bob@example.gov"};
    sub.auth = "alice";
    auto d = fixture::run_message(
        fixture::snapshot(kSmallSpool, dir_->path(), std::make_shared<SmimePipeline>(*ks_)), sub,
        msg);
    const Outcome& o = d.outcome;
    ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary << " " << o.reply.text;
    ASSERT_TRUE(o.new_body_file) << o.summary;
    EXPECT_FALSE(o.new_body.has_value());
    EXPECT_NE(o.summary.find("from-spool"), std::string::npos) << o.summary;
    EXPECT_EQ(fs::status(o.new_body_file->path()).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_GE(spool_files(dir_->path()), 1U);
    out = d.delivered;
  }
  EXPECT_EQ(spool_files(dir_->path()), 0U) << "every spool and result file is removed";
  EXPECT_NE(out.find("application/pkcs7-mime"), std::string::npos) << out.substr(0, 400);
  EXPECT_EQ(out.find("quarterly report"), std::string::npos) << "no plaintext leaves";
  const auto dec = openssl(
      {"cms", "-decrypt", "-recip", pki("bob.crt").string(), "-inkey", pki("bob.key").string()},
      out);
  ASSERT_EQ(dec.exit_code, 0) << dec.out.substr(0, 400);
  const auto ver = openssl({"cms", "-verify", "-CAfile", pki("root.crt").string()}, dec.out);
  ASSERT_EQ(ver.exit_code, 0) << ver.out.substr(0, 400);
  EXPECT_NE(ver.out.find("line 5999 of the quarterly report"), std::string::npos);
  // A body with "From " lines is sent quoted-printable (=46rom), as in memory.
  EXPECT_NE(ver.out.find("\n=46rom the desk of Alice"), std::string::npos);
  EXPECT_NE(ver.out.find("END OF REPORT"), std::string::npos);
}

// The file path signs exactly the entity the in-memory path signs: the content that
// openssl verifies is the same bytes either way (only the boundary differs outside it).
TEST_F(PipelineTest, SpooledAndInMemorySigningSignTheSameEntity) {
  std::string msg = big_plain(3000);
  msg.insert(msg.find("\n\n") + 2,
             "Gr\xC3\xBC\xC3\x9F"
             "e, 8-bit text is re-encoded the same way\n");
  msg.replace(msg.find("us-ascii"), 8, "utf-8");
  std::string in_memory;
  std::string spooled;
  const Outcome a = run("", msg, "alice", "198.51.100.20", {"x@elsewhere.example"}, &in_memory);
  const Outcome b =
      run(kSmallSpool, msg, "alice", "198.51.100.20", {"x@elsewhere.example"}, &spooled);
  ASSERT_EQ(a.verdict, Verdict::kContinue) << a.summary;
  ASSERT_EQ(b.verdict, Verdict::kContinue) << b.summary;
  EXPECT_TRUE(a.new_body.has_value());
  EXPECT_TRUE(b.new_body_file) << b.summary;
  EXPECT_EQ(a.summary.find("from-spool"), std::string::npos) << a.summary;
  EXPECT_NE(b.summary.find("from-spool"), std::string::npos) << b.summary;
  const auto va = openssl({"cms", "-verify", "-CAfile", pki("root.crt").string()}, in_memory);
  const auto vb = openssl({"cms", "-verify", "-CAfile", pki("root.crt").string()}, spooled);
  ASSERT_EQ(va.exit_code, 0) << va.out.substr(0, 300);
  ASSERT_EQ(vb.exit_code, 0) << vb.out.substr(0, 300);
  EXPECT_EQ(va.out, vb.out);
  EXPECT_NE(vb.out.find("END OF REPORT"), std::string::npos);
}

// Fail closed on the file path too: encryption required, a recipient without a
// certificate: refused, nothing replaced, and no file left behind.
TEST_F(PipelineTest, SpooledOutboundThatCannotBeEncryptedIsRefused) {
  {
    const Outcome o = run(kSmallSpool + "[default]\nencrypt = \"required\"\n", big_plain(2000),
                          "alice", "198.51.100.20", {"bob@example.gov", "x@elsewhere.example"});
    EXPECT_TRUE(o.verdict == Verdict::kReject || o.verdict == Verdict::kTempfail) << o.summary;
    EXPECT_FALSE(o.reply.code.empty());
    EXPECT_FALSE(o.new_body.has_value());
    EXPECT_FALSE(o.new_body_file);
  }
  EXPECT_EQ(spool_files(dir_->path()), 0U);
}

// A Subject the client sent RFC 2047 encoded (Thunderbird and Outlook encode every
// Subject with a non-ASCII character) still matches the subject_tag rule, and the
// stripped Subject is written back encoded, never as raw 8-bit.
TEST_F(PipelineTest, EncodedSubjectTagMatchesAndIsStrippedEncoded) {
  const std::string msg =
      "From: alice@example.gov\nTo: bob@example.gov\n"
      "Subject: =?utf-8?q?=5BRAHASIA=5D_Gr=C3=BC=C3=9Fe?=\n\nNumbers.\n";
  const Outcome o = run(kSecretRule, msg, "alice", "198.51.100.20", {"bob@example.gov"});
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_NE(o.summary.find("rule=secret"), std::string::npos) << o.summary;
  std::string subject;
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kChange && e.name == "Subject") {
      subject = e.value;
    }
  }
  ASSERT_FALSE(subject.empty()) << o.summary;
  for (const char ch : subject) {
    EXPECT_LT(static_cast<unsigned char>(ch), 0x80) << subject;
  }
  EXPECT_EQ(decode_header_text(subject),
            "Gr\xC3\xBC\xC3\x9F"
            "e");
}

// trust.check_revocation (policy/config_keys.cpp): true consults revocation and fails
// closed when the state is unknown; false counts an unknown state as good (fail open),
// but a revocation the keystore holds still fails the signature.
// - Thunderbird corpus Alice: chain to the corpus CA we anchor, no CRL of it held;
// - test PKI carol: the issuing CA's fresh CRL is held and does not list her;
// - test PKI "revoked": listed in that CRL.
TEST_F(PipelineTest, InboundRevocationCheckingFollowsTrustCheckRevocation) {
  testsupport::TempDir d;
  const std::string tb = testsupport::read_file(
      testsupport::corpus_dir() / "thunderbird-comm-central/smime/alice.dsig.SHA256.multipart.eml");
  const std::string carol = fixture::openssl_signed(d.path(), "carol", "carol@example.gov", "Hi.");
  const std::string revoked =
      fixture::openssl_signed(d.path(), "revoked", "revoked@example.gov", "Hi.");
  struct Case {
    bool check;
    const std::string* message;
    const char* sender;
    const char* want;  // the Authentication-Results value starts with it (no reason: pass)
    bool relaxed;      // the log line says unknown revocation state was ignored
  };
  const std::vector<Case> cases = {
      {true, &tb, "<Alice@example.com>", "mx.example.gov; smime=temperror (revocation-unknown)",
       false},
      {false, &tb, "<Alice@example.com>", "mx.example.gov; smime=pass", true},
      {true, &carol, "<carol@example.gov>", "mx.example.gov; smime=pass", false},
      {false, &carol, "<carol@example.gov>", "mx.example.gov; smime=pass", false},
      {true, &revoked, "<revoked@example.gov>", "mx.example.gov; smime=fail (revoked)", false},
      {false, &revoked, "<revoked@example.gov>", "mx.example.gov; smime=fail (revoked)", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.sender) + (c.check ? " check_revocation=true" : " =false"));
    sender_ = c.sender;
    const Outcome o = run(c.check ? "" : "[trust]\ncheck_revocation = false\n", *c.message, "",
                          "203.0.113.5", {"alice@example.gov"});
    const std::string ar = fixture::added_auth_results(o);
    EXPECT_EQ(ar.rfind(c.want, 0), 0U) << ar << " / " << o.summary;
    EXPECT_EQ(ar.find("smime=pass ("), std::string::npos) << ar;
    EXPECT_EQ(o.summary.find("revocation-unknown-ignored=") != std::string::npos, c.relaxed)
        << o.summary;
  }
}

TEST(AuthOwnsSender, Table) {
  struct Case {
    const char* auth;
    const char* sender;
    bool want;
  };
  for (const Case& c : std::vector<Case>{{"", "a@example.gov", true},
                                         {"alice", "alice@example.gov", true},
                                         {"ALICE@example.gov", "alice@EXAMPLE.gov", true},
                                         {"bob", "alice@example.gov", false},
                                         {"alice@mx.realm.test", "alice@example.gov", true},
                                         {"bob@mx.realm.test", "alice@example.gov", false},
                                         {"@realm", "alice@example.gov", false},
                                         {"alice", "", false}}) {
    EXPECT_EQ(auth_owns_sender(c.auth, c.sender), c.want) << c.auth << " / " << c.sender;
  }
}

}  // namespace
}  // namespace milter
