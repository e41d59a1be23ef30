// smime-milter behind a real Postfix (tests/harness), checked by third parties:
// - inbound: third-party S/MIME mail from the corpus (Thunderbird/NSS, KDE, MimeKit)
//   submitted from an outside address arrives with the right Authentication-Results, and a
//   forged one claiming our authserv-id is removed (another id's header stays);
// - outbound: signed + encrypted mail is decrypted and its inner signature verified by
//   GnuPG gpgsm and NSS cmsutil (tests/smime_sign/peers.cpp: the same helpers as the
//   engine's interop tests).
#include <algorithm>
#include <cctype>

#include <gtest/gtest.h>

#include "tests/common/test_support.h"
#include "tests/harness/milter_tools.h"
#include "tests/harness/postfix_fixture.h"
#include "tests/milter/postfix_stack.h"
#include "tests/milter/smime_fixture.h"
#include "tests/smime_sign/peers.h"

#ifdef SMIME_SMIMECTL_BINARY
namespace {

namespace fs = std::filesystem;
using testsupport::pki;

constexpr const char* kAuthserv = "mx.example.gov";

// The harness gives messages with LF line ends; the peers expect the wire form (CRLF).
using milter::fixture::crlf;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class PostfixInterop : public milter::fixture::PostfixStack {
 protected:
  static void SetUpTestSuite() {
    const fs::path corpus = testsupport::corpus_dir();
    make_stack({pki("root.crt"), corpus / "thunderbird-comm-central/smime/TestCA.pem",
                corpus / "mimekit/smime/StartComCertificationAuthority.crt"},
               {"alice", "bob", "erin"});
    milter_ = new harness::MilterProcess(SMIME_MILTER_BINARY, {"-f", "-c", config_path().string()});
    harness::InstanceOptions o;
    o.milters = {milter_->postfix_spec()};
    o.sasl_users = {{"bob", "pw-bob"}};
    postfix_ = new harness::PostfixInstance(o);
  }
  static void TearDownTestSuite() { tear_down_stack(); }

  // Submits a corpus file from its header From address (no AUTH: inbound) to alice, with
  // a forged Authentication-Results claiming our id and a foreign one that must stay.
  static harness::CapturedMessage submit_inbound(const fs::path& file, const std::string& from) {
    std::string data = testsupport::read_file(file);
    if (data.starts_with("From ")) {  // mbox separator line
      data.erase(0, data.find('\n') + 1);
    }
    harness::Message m;
    m.from = from;
    m.to = {"alice@example.gov"};
    m.data = "Authentication-Results: " + std::string(kAuthserv) +
             "; smime=pass (forged)\r\n"
             "Authentication-Results: other.example; dkim=pass header.d=example.com\r\n" +
             data;
    postfix_->clear_captured();
    const auto r = postfix_->submit(m);
    EXPECT_TRUE(r.accepted()) << file << ": " << r.end.code << " " << r.end.text;
    auto got = postfix_->wait_for_messages(1);
    if (got.size() != 1) {
      ADD_FAILURE() << file << ": " << got.size() << " messages arrived\n" << postfix_->log();
      return {};
    }
    return got[0];
  }
};

struct CorpusCase {
  const char* file;        // under corpus_dir()
  const char* from;        // envelope sender (the header From)
  const char* result;      // "(reason)" follows it in the header when the reason is set
  const char* reason;      // "" = the header carries no reason
  const char* identifier;  // expected body.smime-identifier (lower case), "" = not checked
};

// A representative table: every result the corpus gives at the current time.
// - Thunderbird (NSS) Alice: valid to 2031 and the chain leads to the anchor, but the
//   corpus holds no CRL of "NSS Test CA (RSA)" (nor its key to make one), so revocation
//   is unknown: temperror, fail closed (keystore/README.md); `pass` for good mail is
//   covered with the test PKI (postfix_test.cpp, demo.sh). Tampered mail fails first.
// - KDE: Apple Mail message modified after signing (its COMODO chain is not trusted).
// - MimeKit: a real Thunderbird 24 signature, StartCom anchor held, signer expired 2014.
constexpr CorpusCase kCorpus[] = {
    {"thunderbird-comm-central/smime/alice.dsig.SHA256.multipart.eml", "Alice@example.com",
     "temperror", "revocation-unknown", "alice@example.com"},
    {"thunderbird-comm-central/smime/alice.sig.SHA512.opaque.eml", "Alice@example.com", "temperror",
     "revocation-unknown", "alice@example.com"},
    {"thunderbird-comm-central/smime/alice.dsig.SHA256.multipart.bad.eml", "Alice@example.com",
     "fail", "bad-signature", "alice@example.com"},
    {"thunderbird-comm-central/smime/alice.dsig.SHA384.multipart.mismatch-econtent.eml",
     "Alice@example.com", "fail", "bad-signature", ""},
    {"kde-mimetreeparser/testdata/smime-signed-apple.mbox", "quack@example.org", "fail",
     "bad-signature", ""},
    {"mimekit/smime/thunderbird-signed.txt", "fejj@gnome.org", "policy", "expired",
     "fejj@gnome.org"},
};

TEST_F(PostfixInterop, CorpusMailArrivesWithTheRightAuthenticationResults) {
  for (const auto& c : kCorpus) {
    SCOPED_TRACE(c.file);
    const auto got = submit_inbound(testsupport::corpus_dir() / c.file, c.from);
    const auto ars = got.headers("Authentication-Results");
    std::vector<std::string> ours;
    bool foreign_kept = false;
    for (const auto& a : ars) {
      if (a.starts_with(std::string(kAuthserv) + ";")) {
        ours.push_back(a);
      }
      foreign_kept = foreign_kept || a.starts_with("other.example; dkim=pass");
    }
    EXPECT_TRUE(foreign_kept) << got.header_block();
    ASSERT_EQ(ours.size(), 1U) << "the forged header must be gone:\n" << got.header_block();
    EXPECT_EQ(ours[0].find("(forged)"), std::string::npos) << ours[0];
    std::string want = std::string(kAuthserv) + "; smime=" + c.result;
    if (*c.reason != '\0') {
      want += std::string(" (") + c.reason + ")";
    }
    EXPECT_TRUE(ours[0] == want || ours[0].starts_with(want + " ") ||
                ours[0].starts_with(want + "\t"))
        << ours[0];
    if (*c.identifier != '\0') {
      EXPECT_NE(lower(ours[0]).find(std::string("body.smime-identifier=") + c.identifier),
                std::string::npos)
          << ours[0];
    }
  }
}

TEST_F(PostfixInterop, ThunderbirdSignerIdentifierSerialAndIssuerAreReported) {
  const auto got = submit_inbound(
      testsupport::corpus_dir() / "thunderbird-comm-central/smime/alice.dsig.SHA256.multipart.eml",
      "Alice@example.com");
  std::string ar;
  for (const auto& a : got.headers("Authentication-Results")) {
    ar = a.starts_with(kAuthserv) ? lower(a) : ar;
  }
  ASSERT_FALSE(ar.empty()) << got.header_block();
  EXPECT_NE(ar.find("smime=temperror (revocation-unknown)"), std::string::npos) << ar;
  EXPECT_NE(ar.find("body.smime-serial=1e"), std::string::npos) << ar;  // SOURCE.md: 0x1E
  EXPECT_NE(ar.find("body.smime-issuer=\"cn=nss test ca (rsa)"), std::string::npos) << ar;
  EXPECT_NE(got.message.find("This is a test message from Alice to Bob."), std::string::npos);
}

TEST_F(PostfixInterop, OutboundOpensAndVerifiesInGpgsmAndNss) {
  postfix_->clear_captured();
  harness::Message m;
  m.from = "bob@example.gov";
  m.to = {"alice@example.gov", "erin@partner.example"};
  m.auth_user = "bob";
  m.auth_pass = "pw-bob";
  m.data =
      "From: bob@example.gov\r\nTo: alice@example.gov, erin@partner.example\r\n"
      "Subject: interop\r\n\r\nFor gpgsm and NSS.\r\n";
  const auto r = postfix_->submit(m);
  ASSERT_TRUE(r.accepted()) << r.end.code << " " << r.end.text << "\n" << milter_->output();
  const auto got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U) << postfix_->log();
  const std::string msg = crlf(got[0].message);
  ASSERT_EQ(msg.find("For gpgsm and NSS."), std::string::npos) << "no plaintext on the wire";

  const auto g = signtest::gpgsm_decrypt(msg);  // gpgsm holds alice and erin
  ASSERT_TRUE(g.ok) << g.log;
  const auto gv = signtest::gpgsm_verify(g.content);
  EXPECT_TRUE(gv.ok) << gv.log;
  EXPECT_NE(gv.content.find("For gpgsm and NSS."), std::string::npos);

  const auto n = signtest::nss_decrypt(msg);  // NSS holds alice, erin, carol, dave
  ASSERT_TRUE(n.ok) << n.log;
  const auto nv = signtest::nss_verify(n.content);
  EXPECT_TRUE(nv.ok) << nv.log;
  EXPECT_NE(nv.content.find("For gpgsm and NSS."), std::string::npos);
  EXPECT_EQ(n.content, g.content) << "both peers recover the same signed entity";
}

}  // namespace
#endif  // SMIME_SMIMECTL_BINARY
