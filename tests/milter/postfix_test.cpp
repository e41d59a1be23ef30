// smime-milter behind a real Postfix (tests/harness): outbound sign+encrypt arriving at
// smtp-sink and opened by openssl for each recipient, refusals reaching the SMTP client
// with nothing delivered, a revocation taking effect without restart, inbound
// verification with Authentication-Results, harvesting of a verified signer's certificate
// (the reply leaves encrypted to it), and a dead milter keeping mail queued.
#include <atomic>
#include <memory>
#include <signal.h>
#include <thread>

#include <gtest/gtest.h>

#include "keystore/keystore.h"
#include "smime/x509.h"
#include "tests/common/test_support.h"
#include "tests/harness/milter_tools.h"
#include "tests/harness/postfix_fixture.h"
#include "tests/milter/postfix_stack.h"

#ifdef SMIME_SMIMECTL_BINARY
namespace {

namespace fs = std::filesystem;
using testsupport::pki;

class PostfixMilter : public milter::fixture::PostfixStack {
 protected:
  static void SetUpTestSuite() {
    make_stack({pki("root.crt")}, {"alice", "bob", "erin", "kepala"});
    start_milter();
    harness::InstanceOptions o;
    o.milters = {"unix:" + (*dir_ / "milter.sock").string()};  // a symlink: survives restarts
    o.sasl_users = {{"alice", "pw-alice"}, {"kepala", "pw-kepala"}, {"nocert", "pw-nocert"}};
    postfix_ = new harness::PostfixInstance(o);
  }
  static void TearDownTestSuite() { tear_down_stack(); }
  static void start_milter() {
    const fs::path spool = *dir_ / "spool";
    fs::create_directories(spool);
    milter_ = new harness::MilterProcess(
        SMIME_MILTER_BINARY, {"-f", "-c", config_path().string(), "--spool-dir", spool.string()});
    const fs::path link = *dir_ / "milter.sock";
    fs::remove(link);
    fs::create_symlink(milter_->socket_path(), link);
  }
  static testsupport::CommandResult openssl_cms(std::vector<std::string> args,
                                                const std::string& in) {
    const fs::path f = *dir_ / "cms-in.eml";
    testsupport::write_file(f, in);
    args.insert(args.begin(), {"openssl", "cms"});
    args.insert(args.end(), {"-in", f.string()});
    return testsupport::run(args);
  }
  static harness::Message mail(const std::string& user, const std::string& from,
                               std::vector<std::string> to, const std::string& body) {
    harness::Message m;
    m.from = from;
    m.to = std::move(to);
    if (!user.empty()) {
      m.auth_user = user;
      m.auth_pass = "pw-" + user;
    }
    m.data = "From: " + from + "\nTo: " + m.to.front() + "\nSubject: test\n\n" + body + "\n";
    return m;
  }

  // Mail from `from` to alice from outside (no AUTH), its body signed by the test PKI's
  // `signer` with `openssl cms -sign`; `extra_headers` (LF-terminated) after the Subject.
  static harness::Message signed_inbound(const std::string& signer, const std::string& from,
                                         const std::string& text,
                                         const std::string& extra_headers = "") {
    testsupport::write_file(*dir_ / "entity.txt",
                            "Content-Type: text/plain\r\n\r\n" + text + "\r\n");
    const auto s =
        testsupport::run({"openssl", "cms", "-sign", "-signer", pki(signer + ".crt").string(),
                          "-inkey", pki(signer + ".key").string(), "-certfile",
                          pki("inter.crt").string(), "-in", (*dir_ / "entity.txt").string()});
    EXPECT_EQ(s.exit_code, 0) << s.out;
    harness::Message m;
    m.from = from;
    m.to = {"alice@example.gov"};
    m.data = "From: " + from + "\nTo: alice@example.gov\nSubject: signed\n" + extra_headers + s.out;
    return m;
  }
};

TEST_F(PostfixMilter, OutboundArrivesSignedAndEncryptedForEachRecipient) {
  postfix_->clear_captured();
  const auto r = postfix_->submit(mail(
      "alice", "alice@example.gov", {"bob@example.gov", "erin@partner.example"}, "Official text."));
  ASSERT_TRUE(r.accepted()) << r.error << " auth=" << r.auth.code << " " << r.auth.text
                            << " end=" << r.end.code << " " << r.end.text << "\n"
                            << milter_->output() << postfix_->log();
  const auto got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U) << postfix_->log();
  const std::string& msg = got[0].message;
  EXPECT_EQ(msg.find("Official text."), std::string::npos) << "no plaintext on the wire";
  for (const char* who : {"bob", "erin"}) {
    const auto dec = openssl_cms({"-decrypt", "-recip", pki(std::string(who) + ".crt").string(),
                                  "-inkey", pki(std::string(who) + ".key").string()},
                                 msg);
    ASSERT_EQ(dec.exit_code, 0) << who << ": " << dec.out;
    const auto ver = openssl_cms({"-verify", "-CAfile", pki("root.crt").string()}, dec.out);
    EXPECT_EQ(ver.exit_code, 0) << who << ": " << ver.out;
    EXPECT_NE(ver.out.find("Official text."), std::string::npos);
  }
}

TEST_F(PostfixMilter, SenderWithoutCertificateGetsTheReplyAndNothingIsDelivered) {
  postfix_->clear_captured();
  const auto r =
      postfix_->submit(mail("nocert", "nocert@example.gov", {"bob@example.gov"}, "Unsignable."));
  EXPECT_FALSE(r.accepted());
  EXPECT_EQ(r.end.code / 100, 5) << r.end.code << " " << r.end.text;
  EXPECT_TRUE(postfix_->wait_for_queue_empty());
  EXPECT_TRUE(postfix_->captured().empty());
}

TEST_F(PostfixMilter, AliceCannotSignAsKepala) {
  postfix_->clear_captured();
  const auto r =
      postfix_->submit(mail("alice", "kepala@example.gov", {"bob@example.gov"}, "Impostor."));
  EXPECT_EQ(r.end.code / 100, 5) << r.end.code << " " << r.end.text;
  EXPECT_TRUE(postfix_->captured().empty());
}

TEST_F(PostfixMilter, RevocationTakesEffectForTheNextMessageWithoutRestart) {
  postfix_->clear_captured();
  auto first =
      postfix_->submit(mail("kepala", "kepala@example.gov", {"x@elsewhere.example"}, "One."));
  ASSERT_TRUE(first.accepted()) << first.end.code << " " << first.end.text << "\n"
                                << milter_->output();
  ASSERT_EQ(postfix_->wait_for_messages(1).size(), 1U);
  ctl_ok({"revoke", "kepala@example.gov", "--reason", "keyCompromise"});
  auto second =
      postfix_->submit(mail("kepala", "kepala@example.gov", {"x@elsewhere.example"}, "Two."));
  EXPECT_EQ(second.end.code / 100, 5) << second.end.code << " " << second.end.text;
  EXPECT_TRUE(postfix_->wait_for_queue_empty());
  EXPECT_EQ(postfix_->captured().size(), 1U);
}

TEST_F(PostfixMilter, InboundSignedMailGetsAuthenticationResultsForgedOneRemoved) {
  postfix_->clear_captured();
  const harness::Message m =
      signed_inbound("dave", "dave@partner.example", "From the partner.",
                     "Authentication-Results: mx.example.gov; smime=pass (forged)\n");
  const auto r = postfix_->submit(m);
  ASSERT_TRUE(r.accepted()) << r.end.code << " " << r.end.text;
  const auto got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  const auto ars = got[0].headers("Authentication-Results");
  ASSERT_EQ(ars.size(), 1U) << got[0].header_block();
  EXPECT_EQ(ars[0].rfind("mx.example.gov; smime=pass", 0), 0U) << ars[0];
  EXPECT_NE(ars[0].find("body.smime-identifier=dave@partner.example"), std::string::npos) << ars[0];
}

// trust.harvest_certificates (default true): carol is nobody we hold; once her verified
// signed mail came in through Postfix, the reply to her leaves encrypted to her.
TEST_F(PostfixMilter, InboundSignerIsHarvestedAndTheReplyLeavesEncryptedToThem) {
  postfix_->clear_captured();
  const auto before =
      postfix_->submit(mail("alice", "alice@example.gov", {"carol@example.gov"}, "Before."));
  ASSERT_TRUE(before.accepted()) << before.end.code << " " << before.end.text;
  auto got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_NE(got[0].message.find("multipart/signed"), std::string::npos);
  EXPECT_NE(got[0].message.find("Before."), std::string::npos) << "signed only, not encrypted";

  postfix_->clear_captured();
  const harness::Message in = signed_inbound("carol", "carol@example.gov", "From Carol.");
  const auto r = postfix_->submit(in);
  ASSERT_TRUE(r.accepted()) << r.end.code << " " << r.end.text;
  got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  const auto ars = got[0].headers("Authentication-Results");
  ASSERT_EQ(ars.size(), 1U) << got[0].header_block();
  EXPECT_EQ(ars[0].rfind("mx.example.gov; smime=pass", 0), 0U) << ars[0];

  postfix_->clear_captured();
  const auto reply =
      postfix_->submit(mail("alice", "alice@example.gov", {"carol@example.gov"}, "The reply."));
  ASSERT_TRUE(reply.accepted()) << reply.end.code << " " << reply.end.text << "\n"
                                << milter_->output();
  got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].message.find("The reply."), std::string::npos) << "no plaintext on the wire";
  const auto dec = openssl_cms(
      {"-decrypt", "-recip", pki("carol.crt").string(), "-inkey", pki("carol.key").string()},
      got[0].message);
  ASSERT_EQ(dec.exit_code, 0) << dec.out;
  const auto ver = openssl_cms({"-verify", "-CAfile", pki("root.crt").string()}, dec.out);
  EXPECT_EQ(ver.exit_code, 0) << ver.out;
  EXPECT_NE(ver.out.find("The reply."), std::string::npos) << ver.out;
}

TEST_F(PostfixMilter, TwentyConcurrentSessionsTwoHundredMessagesAllSigned) {
  postfix_->clear_captured();
  constexpr int kClients = 20;
  constexpr int kEach = 10;
  std::atomic<int> accepted{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([c, &accepted] {
      for (int i = 0; i < kEach; ++i) {
        const auto r =
            postfix_->submit(mail("alice", "alice@example.gov", {"x@elsewhere.example"},
                                  "Load " + std::to_string(c) + "/" + std::to_string(i)));
        accepted += r.accepted() ? 1 : 0;
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  EXPECT_EQ(accepted.load(), kClients * kEach);
  const auto got = postfix_->wait_for_messages(kClients * kEach, std::chrono::seconds(120));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kClients * kEach));
  int verified = 0;
  for (const auto& m : got) {
    const auto v = openssl_cms({"-verify", "-CAfile", pki("root.crt").string()}, m.message);
    verified += (v.exit_code == 0 && v.out.find("Load ") != std::string::npos) ? 1 : 0;
  }
  EXPECT_EQ(verified, kClients * kEach);
}

// A body over spool_threshold (1 MiB) is spooled while it arrives, signed and encrypted
// from the spool file, and streamed back to Postfix from the result file in
// MILTER_CHUNK_SIZE pieces; afterwards the spool directory is empty again.
TEST_F(PostfixMilter, LargeMessageIsProtectedFromTheSpoolAndNothingIsLeftBehind) {
  postfix_->clear_captured();
  std::string body;
  for (int i = 0; i < 60000; ++i) {  // about 3 MB
    body += "row " + std::to_string(i) + " of the land register extract, parcel data\n";
  }
  body += "LAST ROW";
  const auto r = postfix_->submit(mail("alice", "alice@example.gov", {"bob@example.gov"}, body));
  ASSERT_TRUE(r.accepted()) << r.error << " end=" << r.end.code << " " << r.end.text << "\n"
                            << milter_->output();
  const auto got = postfix_->wait_for_messages(1, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), 1U) << postfix_->log();
  EXPECT_EQ(got[0].message.find("land register"), std::string::npos) << "no plaintext";
  const auto dec = openssl_cms(
      {"-decrypt", "-recip", pki("bob.crt").string(), "-inkey", pki("bob.key").string()},
      got[0].message);
  ASSERT_EQ(dec.exit_code, 0) << dec.out.substr(0, 300);
  const auto ver = openssl_cms({"-verify", "-CAfile", pki("root.crt").string()}, dec.out);
  ASSERT_EQ(ver.exit_code, 0) << ver.out.substr(0, 300);
  EXPECT_NE(ver.out.find("row 59999 of the land register extract"), std::string::npos);
  EXPECT_NE(ver.out.find("LAST ROW"), std::string::npos);
  EXPECT_NE(milter_->output().find("from-spool"), std::string::npos) << milter_->output();
  std::size_t left = 0;
  for (int i = 0; i < 50; ++i) {  // the milter lets go of its files when eom returns
    left = static_cast<std::size_t>(
        std::distance(fs::directory_iterator(*dir_ / "spool"), fs::directory_iterator()));
    if (left == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(left, 0U) << "spool and result files are removed after use";
}

TEST_F(PostfixMilter, DeadMilterKeepsMailQueuedNothingUnsigned) {
  postfix_->clear_captured();
  ::kill(milter_->pid(), SIGKILL);
  delete milter_;
  milter_ = nullptr;
  const auto r =
      postfix_->submit(mail("alice", "alice@example.gov", {"x@elsewhere.example"}, "Queued."));
  // milter_default_action = tempfail: refused with 4xx at the first stage Postfix asks
  // the milter (connect), so the sender keeps the message queued.
  EXPECT_FALSE(r.accepted());
  const int first_refusal = r.ehlo.code >= 400   ? r.ehlo.code
                            : r.auth.code >= 400 ? r.auth.code
                            : r.mail.code >= 400 ? r.mail.code
                                                 : r.end.code;
  EXPECT_EQ(first_refusal / 100, 4) << r.error << " " << r.end.text;
  EXPECT_TRUE(postfix_->captured().empty());
  start_milter();
  // The sender's MTA retries a tempfail; so do we, briefly (a loaded host may need a
  // moment before every smtpd process reconnects).
  harness::SubmitResult again;
  for (int attempt = 0; attempt < 20 && !again.accepted(); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    again = postfix_->submit(mail("alice", "alice@example.gov", {"x@elsewhere.example"}, "After."));
    EXPECT_NE(again.end.code / 100, 5) << "never a permanent refusal: " << again.end.text;
  }
  ASSERT_TRUE(again.accepted()) << again.error << " auth=" << again.auth.code << " "
                                << again.auth.text << "\n"
                                << milter_->output();
  const auto got = postfix_->wait_for_messages(1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_NE(got[0].message.find("multipart/signed"), std::string::npos);
}

}  // namespace
#endif
