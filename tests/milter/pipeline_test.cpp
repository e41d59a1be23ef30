// SmimePipeline through Session with a real keystore (test PKI imported through the
// keystore API) and a real policy; outputs are checked with the openssl CLI.
#include <gtest/gtest.h>

#include <map>

#include "keystore/keystore.h"
#include "milter/rewrite.h"
#include "milter/session.h"
#include "milter/smime_pipeline.h"
#include "smime/x509.h"
#include "tests/common/test_support.h"

namespace milter {
namespace {

namespace fs = std::filesystem;
using testsupport::pki;

std::string crlf(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      out += '\r';
    }
    out += s[i];
  }
  return out;
}

// The message the MTA would deliver after applying `o` to `headers` + `body`.
std::string apply(const std::vector<Header>& headers, const std::string& body, const Outcome& o) {
  std::vector<bool> deleted(headers.size(), false);
  for (const auto& e : o.header_edits) {
    if (e.kind != HeaderEdit::Kind::kDelete) {
      continue;
    }
    int n = 0;
    for (std::size_t i = 0; i < headers.size(); ++i) {
      if (iequals(headers[i].name, e.name) && ++n == e.index) {
        deleted[i] = true;
      }
    }
  }
  std::string out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (!deleted[i]) {
      out += headers[i].name + ":" + headers[i].value + "\r\n";
    }
  }
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kAdd) {
      out += e.name + ": " + e.value + "\r\n";
    }
  }
  return crlf(out + "\r\n" + (o.new_body ? *o.new_body : body));
}

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testsupport::TempDir();
    testsupport::write_file(*dir_ / "secret", "pipeline-test-secret\n", 0600);
    keystore::OpenOptions o;
    o.create = true;
    o.secret_file = (*dir_ / "secret").string();
    auto ks = keystore::Keystore::open((*dir_ / "keystore.db").string(), o);
    ASSERT_TRUE(ks.has_value()) << ks.error().message();
    ks_ = new std::shared_ptr<keystore::Keystore>(std::move(*ks));
    auto root = smime::parse_cert(testsupport::read_file(pki("root.crt")));
    ASSERT_TRUE((*ks_)->add_anchor(**root, "test").has_value());
    for (const char* name : {"alice", "bob", "revoked"}) {
      auto p12 = smime::parse_pkcs12(testsupport::read_file(pki(std::string(name) + ".p12")),
                                     "test-pass");
      ASSERT_TRUE(p12.has_value()) << name;
      keystore::ImportRequest req;
      req.certs.push_back(std::move(p12->cert));
      for (auto& c : p12->extra) {
        req.certs.push_back(std::move(c));
      }
      req.key = std::move(p12->key);
      auto r = (*ks_)->import(req);
      ASSERT_TRUE(r.has_value()) << name << ": " << r.error().message();
    }
    // Fresh revocation information for the issuing CA (it also revokes "revoked").
    for (const char* name : {"root.crl", "inter.crl"}) {
      auto crl = smime::parse_crl(testsupport::read_file(pki(name)));
      ASSERT_TRUE(crl.has_value()) << name;
      auto ci = (*ks_)->import_crl(**crl, "test");
      ASSERT_TRUE(ci.has_value()) << name << ": " << ci.error().message();
    }
  }
  static void TearDownTestSuite() {
    delete ks_;
    delete dir_;
  }

  Outcome run(const std::string& config_toml, const std::string& message,
              const std::string& auth, const std::string& client_ip,
              const std::vector<std::string>& rcpts, std::string* delivered = nullptr) {
    auto cfg = policy::parse_config(config_toml, "test.conf");
    EXPECT_TRUE(cfg.has_value()) << cfg.error().message();
    auto snap = std::make_shared<Snapshot>();
    snap->settings.authserv_id = "mx.example.gov";
    snap->settings.spool_dir = dir_->path();
    snap->config = *cfg;
    snap->pipeline = std::make_shared<SmimePipeline>(*ks_);
    std::shared_ptr<const Snapshot> cs = snap;
    Session s([cs] { return cs; });
    s.on_connect("client", client_ip);
    const ParsedMessage p = parse_message(crlf(message));
    Macros m{{"i", "QTEST"}};
    if (!auth.empty()) {
      m["{auth_authen}"] = auth;
    }
    const std::string from = p.headers.empty() ? "" : "";
    EXPECT_EQ(s.on_mail_from(sender_, m), Verdict::kContinue);
    for (const auto& r : rcpts) {
      s.on_rcpt("<" + r + ">");
    }
    for (const auto& h : p.headers) {
      s.on_header(h.name, h.value);
    }
    s.on_body(std::as_bytes(std::span(p.body.data(), p.body.size())));
    Outcome o = s.on_eom();
    if (delivered != nullptr) {
      *delivered = apply(p.headers, p.body, o);
    }
    return o;
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
  const auto dec = openssl({"cms", "-decrypt", "-recip", pki("bob.crt").string(), "-inkey",
                            pki("bob.key").string()},
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
  const Outcome o =
      run("[default]\nsign = \"required\"\n", kPlain, "bob", "198.51.100.20", {"x@elsewhere.example"});
  EXPECT_EQ(o.verdict, Verdict::kReject) << o.summary;
  EXPECT_EQ(o.reply.code.substr(0, 1), "5") << o.reply.code;
  EXPECT_NE(o.summary.find("auth-mismatch"), std::string::npos) << o.summary;
  EXPECT_FALSE(o.new_body.has_value());
}

TEST_F(PipelineTest, RevokedSenderCertificateIsNeverUsed) {
  sender_ = "<revoked@example.gov>";
  const std::string msg = "From: revoked@example.gov\nTo: x@elsewhere.example\nSubject: s\n\nbody\n";
  const Outcome o =
      run("[default]\nsign = \"required\"\n", msg, "revoked", "198.51.100.20", {"x@elsewhere.example"});
  EXPECT_NE(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_NE(o.verdict, Verdict::kAccept);
  EXPECT_FALSE(o.new_body.has_value());
}

std::string signed_by_carol(const testsupport::TempDir& d, std::string_view from) {
  testsupport::write_file(d / "entity.txt",
                          "Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned by Carol.\r\n");
  const auto r = testsupport::run({"openssl", "cms", "-sign", "-signer", pki("carol.crt").string(),
                                   "-inkey", pki("carol.key").string(), "-certfile",
                                   pki("inter.crt").string(), "-in", (d / "entity.txt").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return "From: " + std::string(from) + "\nTo: alice@example.gov\nSubject: signed\n" +
         "Authentication-Results: mx.example.gov; smime=pass (forged)\n" + r.out;
}

TEST_F(PipelineTest, InboundSignedGetsAuthenticationResultsAndForgedOneRemoved) {
  testsupport::TempDir d;
  sender_ = "<carol@example.gov>";
  const Outcome o = run("", signed_by_carol(d, "carol@example.gov"), "", "203.0.113.5",
                        {"alice@example.gov"});
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  bool deleted = false;
  std::string ar;
  for (const auto& e : o.header_edits) {
    deleted = deleted || (e.kind == HeaderEdit::Kind::kDelete && e.name == "Authentication-Results");
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
  const std::string msg = "From: carol@example.gov\nTo: bob@example.gov\nSubject: secret\n" + enc.out;
  std::string out;
  const Outcome o = run("", msg, "", "203.0.113.5", {"bob@example.gov"}, &out);
  ASSERT_EQ(o.verdict, Verdict::kContinue) << o.summary;
  EXPECT_NE(o.summary.find("decrypted-for="), std::string::npos) << o.summary;
  EXPECT_NE(out.find("Signed by Carol."), std::string::npos) << out.substr(0, 600);
  EXPECT_NE(out.find("smime=pass"), std::string::npos) << out.substr(0, 600);
}

TEST_F(PipelineTest, SubjectTagIsStrippedWhenTheRuleSaysSo) {
  const std::string msg =
      "From: alice@example.gov\nTo: bob@example.gov\nSubject: [RAHASIA] budget\n\nNumbers.\n";
  const Outcome o = run(
      "[[rule]]\nname = \"secret\"\nstrip_subject_tag = true\nencrypt = \"required\"\n"
      "[rule.match]\nsubject_tag = \"[RAHASIA]\"\n",
      msg, "alice", "198.51.100.20", {"bob@example.gov"});
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
