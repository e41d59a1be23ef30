// Actions and failure actions of the decision, and the fail-closed defaults.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/config.h"
#include "policy/decide.h"

namespace policy {
namespace {

ConfigPtr load(const std::string& text) {
  auto c = parse_config(text, "test.conf");
  EXPECT_TRUE(c) << c.error().message();
  return c ? *c : ConfigPtr();
}

Envelope outbound(std::vector<std::string> to) {
  Envelope e;
  e.sender = "alice@kemenkeu.go.id";
  e.recipients = std::move(to);
  e.auth_user = "alice";
  return e;
}

Facts facts(CertStatus signer, std::vector<RecipientFact> rcpts) {
  Facts f;
  f.signer.status = signer;
  f.recipients = std::move(rcpts);
  return f;
}

std::string rule_with(const std::string& sign, const std::string& encrypt,
                      const std::string& extra = "") {
  return "[default]\nsign = \"" + sign + "\"\nencrypt = \"" + encrypt + "\"\n" + extra;
}

TEST(Actions, SignAndEncryptRequirements) {
  using CS = CertStatus;
  struct Case {
    std::string name, sign, encrypt;
    Facts facts;
    bool want_sign, want_encrypt;
    Action want_action;
    std::optional<Failure> want_failure;
    std::vector<std::string> want_lacking;
  };
  const RecipientFact bob_ok{"bob@pajak.go.id", CS::kUsable, false};
  const RecipientFact carol_none{"carol@gmail.com", CS::kNone, false};
  const RecipientFact carol_revoked{"carol@gmail.com", CS::kRevoked, false};
  const RecipientFact carol_unknown{"carol@gmail.com", CS::kRevocationUnknown, false};
  const RecipientFact carol_down{"carol@gmail.com", CS::kUnavailable, false};
  const RecipientFact carol_ok{"carol@gmail.com", CS::kUsable, false};
  const std::vector<Case> cases = {
      {"both possible",
       "if-possible",
       "if-possible",
       facts(CS::kUsable, {bob_ok, carol_ok}),
       true,
       true,
       Action::kAccept,
       std::nullopt,
       {}},
      {"mixed recipients: sign only",
       "if-possible",
       "if-possible",
       facts(CS::kUsable, {bob_ok, carol_none}),
       true,
       false,
       Action::kAccept,
       std::nullopt,
       {"carol@gmail.com"}},
      {"missing fact counts as none",
       "if-possible",
       "if-possible",
       facts(CS::kUsable, {bob_ok}),
       true,
       false,
       Action::kAccept,
       std::nullopt,
       {"carol@gmail.com"}},
      {"encrypt required, one lacking",
       "if-possible",
       "required",
       facts(CS::kUsable, {bob_ok, carol_none}),
       false,
       false,
       Action::kReject,
       Failure::kNoRecipientCert,
       {"carol@gmail.com"}},
      {"encrypt required, revoked recipient",
       "if-possible",
       "required",
       facts(CS::kUsable, {bob_ok, carol_revoked}),
       false,
       false,
       Action::kReject,
       Failure::kNoRecipientCert,
       {"carol@gmail.com"}},
      {"encrypt required, revocation unknown",
       "if-possible",
       "required",
       facts(CS::kUsable, {bob_ok, carol_unknown}),
       false,
       false,
       Action::kTempfail,
       Failure::kRevocationUnknown,
       {"carol@gmail.com"}},
      {"encrypt if-possible, keystore down",
       "never",
       "if-possible",
       facts(CS::kUsable, {bob_ok, carol_down}),
       false,
       false,
       Action::kTempfail,
       Failure::kKeystoreUnavailable,
       {}},
      {"encrypt never",
       "never",
       "never",
       facts(CS::kUsable, {bob_ok, carol_ok}),
       false,
       false,
       Action::kAccept,
       std::nullopt,
       {}},
      {"sign required, no cert",
       "required",
       "never",
       facts(CS::kNone, {}),
       false,
       false,
       Action::kReject,
       Failure::kNoSigningCert,
       {}},
      {"sign required, expired",
       "required",
       "never",
       facts(CS::kExpired, {}),
       false,
       false,
       Action::kReject,
       Failure::kNoSigningCert,
       {}},
      {"sign required, revoked",
       "required",
       "never",
       facts(CS::kRevoked, {}),
       false,
       false,
       Action::kReject,
       Failure::kRevoked,
       {}},
      {"sign required, revocation unknown",
       "required",
       "never",
       facts(CS::kRevocationUnknown, {}),
       false,
       false,
       Action::kTempfail,
       Failure::kRevocationUnknown,
       {}},
      {"sign if-possible, revoked: unsigned",
       "if-possible",
       "never",
       facts(CS::kRevoked, {}),
       false,
       false,
       Action::kAccept,
       std::nullopt,
       {}},
      {"sign if-possible, keystore down",
       "if-possible",
       "never",
       facts(CS::kUnavailable, {}),
       false,
       false,
       Action::kTempfail,
       Failure::kKeystoreUnavailable,
       {}},
      {"sign never",
       "never",
       "never",
       facts(CS::kUsable, {}),
       false,
       false,
       Action::kAccept,
       std::nullopt,
       {}},
  };
  for (const auto& k : cases) {
    const ConfigPtr c = load(rule_with(k.sign, k.encrypt));
    const Decision d =
        decide(*c, outbound({"bob@pajak.go.id", "carol@gmail.com"}), DepartmentFact{}, k.facts);
    EXPECT_EQ(d.sign, k.want_sign) << k.name;
    EXPECT_EQ(d.encrypt, k.want_encrypt) << k.name;
    EXPECT_EQ(d.verdict.action, k.want_action) << k.name;
    EXPECT_EQ(d.failure, k.want_failure) << k.name;
    EXPECT_EQ(d.recipients_without_cert, k.want_lacking) << k.name;
    EXPECT_EQ(d.rule, "default") << k.name;
    EXPECT_FALSE(d.reasons.empty()) << k.name;
  }
}

TEST(Actions, MixedRecipientsRecordWhy) {
  const ConfigPtr c = load(rule_with("if-possible", "if-possible"));
  const Decision d =
      decide(*c, outbound({"bob@pajak.go.id", "carol@gmail.com"}), {},
             facts(CertStatus::kUsable, {{"bob@pajak.go.id", CertStatus::kUsable, true}}));
  bool found = false;
  for (const auto& r : d.reasons) {
    found = found || r.find("not every recipient has a usable certificate (carol@gmail.com)") !=
                         std::string::npos;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(d.reasons.back(), "verdict: accept, sign only");
}

TEST(Actions, ProfilesResolveAlgorithms) {
  struct Case {
    std::string profile;
    bool bob_modern, carol_modern;
    Cipher cipher;
    SignaturePadding padding;
    KeyTransport transport;
  };
  const Case cases[] = {
      {"compatible", true, true, Cipher::kAes256Cbc, SignaturePadding::kPkcs1v15,
       KeyTransport::kRsaPkcs1v15},
      {"modern", false, false, Cipher::kAes256Gcm, SignaturePadding::kPss, KeyTransport::kRsaOaep},
      {"per-recipient", true, true, Cipher::kAes256Gcm, SignaturePadding::kPss,
       KeyTransport::kRsaOaep},
      {"per-recipient", true, false, Cipher::kAes256Cbc, SignaturePadding::kPkcs1v15,
       KeyTransport::kRsaPkcs1v15},
  };
  for (const auto& k : cases) {
    const ConfigPtr c =
        load(rule_with("if-possible", "if-possible", "profile = \"" + k.profile + "\"\n"));
    const Decision d = decide(
        *c, outbound({"bob@pajak.go.id", "carol@gmail.com"}), {},
        facts(CertStatus::kUsable, {{"bob@pajak.go.id", CertStatus::kUsable, k.bob_modern},
                                    {"carol@gmail.com", CertStatus::kUsable, k.carol_modern}}));
    EXPECT_TRUE(d.encrypt);
    EXPECT_EQ(d.algorithms.cipher, k.cipher) << k.profile;
    EXPECT_EQ(d.algorithms.signature_padding, k.padding) << k.profile;
    EXPECT_EQ(d.algorithms.key_transport, k.transport) << k.profile;
    EXPECT_EQ(d.algorithms.digest, Digest::kSha256);
  }
}

TEST(Actions, SignerPreferenceVerifyDecryptAndMode) {
  const ConfigPtr c = load(
      "[milter]\nmode = [\"sign\", \"verify\"]\n[default]\nsigner = [\"system\", \"role\"]\n"
      "decrypt = true\nverify = false\n");
  Decision out =
      decide(*c, outbound({"bob@pajak.go.id"}), {},
             facts(CertStatus::kUsable, {{"bob@pajak.go.id", CertStatus::kUsable, false}}));
  EXPECT_TRUE(out.sign);
  EXPECT_FALSE(out.encrypt);  // not in mode
  EXPECT_EQ(out.signer_preference, (std::vector<CertType>{CertType::kSystem, CertType::kRole}));
  Envelope in;
  in.sender = "x@example.org";
  in.recipients = {"alice@kemenkeu.go.id"};
  in.client_ip = "203.0.113.5";
  const Decision d = decide(*c, in, {}, {});
  EXPECT_EQ(d.direction, Direction::kInbound);
  EXPECT_FALSE(d.sign);
  EXPECT_FALSE(d.verify);   // rule says off
  EXPECT_FALSE(d.decrypt);  // mode says off
  const ConfigPtr on = load("");
  const Decision d2 = decide(*on, in, {}, {});
  EXPECT_TRUE(d2.verify);
  EXPECT_TRUE(d2.decrypt);
  EXPECT_EQ(d2.verdict.action, Action::kAccept);
}

TEST(Actions, CheckRevocationOffTreatsUnknownAsUsable) {
  const ConfigPtr c = load("[trust]\ncheck_revocation = false\n[default]\nsign = \"required\"\n");
  const Decision d =
      decide(*c, outbound({"bob@pajak.go.id"}), {}, facts(CertStatus::kRevocationUnknown, {}));
  EXPECT_TRUE(d.sign);
  EXPECT_EQ(d.verdict.action, Action::kAccept);
  const Decision revoked =
      decide(*c, outbound({"bob@pajak.go.id"}), {}, facts(CertStatus::kRevoked, {}));
  EXPECT_EQ(revoked.failure, Failure::kRevoked);  // revoked is never used
}

TEST(FailureActions, BuiltInDefaultsFailClosed) {
  const ConfigPtr c = load("");
  const Rule& r = c->default_rule;
  EXPECT_EQ(r.name, "default");
  EXPECT_EQ(r.sign, Requirement::kIfPossible);
  EXPECT_EQ(r.encrypt, Requirement::kIfPossible);
  EXPECT_EQ(r.profile, Profile::kCompatible);
  struct Case {
    Failure f;
    std::string want;  // Verdict::to_string with reason "R"
  };
  const Case cases[] = {
      {Failure::kNoSigningCert,
       "reject 550 5.7.1 no usable signing certificate for alice@kemenkeu.go.id"},
      {Failure::kNoRecipientCert,
       "reject 550 5.7.1 encryption required but no certificate for bob@pajak.go.id"},
      {Failure::kRevoked, "reject 550 5.7.1 certificate revoked: R"},
      {Failure::kRevocationUnknown,
       "tempfail 451 4.7.5 certificate revocation status unknown, try again later"},
      {Failure::kBadSignature, "accept"},
      {Failure::kDecryptError, "tempfail 451 4.7.5 cannot decrypt the S/MIME message"},
      {Failure::kKeystoreUnavailable,
       "tempfail 451 4.3.0 certificate directory unavailable, try again later"},
      {Failure::kInternalError, "tempfail 451 4.3.0 S/MIME gateway error, try again later"},
  };
  const Decision d = decide(*c, outbound({"bob@pajak.go.id"}), {}, facts(CertStatus::kUsable, {}));
  for (const auto& k : cases) {
    Verdict v = d.verdict_for(k.f, "R");
    if (v.action == Action::kAccept) {
      v.text.clear();  // accept carries no reply
    }
    EXPECT_EQ(v.to_string(), k.want) << name(k.f);
  }
}

TEST(FailureActions, EachConfiguredActionAndTemplate) {
  const std::string actions[] = {"accept", "reject", "tempfail", "quarantine", "discard"};
  for (const Failure f : kAllFailures) {
    for (const auto& a : actions) {
      std::string reply;
      if (a == "reject") {
        reply = "554 5.7.0 %{rule}: %{reason} (%{recipients}) from %{sender} 100%%";
      } else if (a == "tempfail") {
        reply = "452 4.7.0 %{rule}: %{reason} (%{recipients}) from %{sender} 100%%";
      } else {
        reply = "%{rule}: %{reason} (%{recipients}) from %{sender} 100%%";
      }
      const std::string text = "[default]\non_" + std::string(name(f)) + " = { action = \"" + a +
                               "\", reply = \"" + reply + "\" }\n";
      const ConfigPtr c = load(text);
      ASSERT_TRUE(c) << text;
      const Decision d =
          decide(*c, outbound({"bob@pajak.go.id", "c\r\n@x"}), {}, facts(CertStatus::kUsable, {}));
      const Verdict v = d.verdict_for(f, "why");
      EXPECT_EQ(std::string(name(v.action)), a);
      const std::string body =
          "default: why (bob@pajak.go.id, c??@x) from alice@kemenkeu.go.id 100%";
      EXPECT_EQ(v.text, body) << text;
      EXPECT_EQ(v.rcode, a == "reject" ? "554" : a == "tempfail" ? "452" : "") << text;
      EXPECT_EQ(v.xcode, a == "reject" ? "5.7.0" : a == "tempfail" ? "4.7.0" : "") << text;
    }
  }
}

TEST(FailureActions, StringFormUsesDefaultReply) {
  const ConfigPtr c =
      load("[default]\nencrypt = \"required\"\non_no_recipient_cert = \"tempfail\"\n");
  const Decision d =
      decide(*c, outbound({"bob@pajak.go.id", "carol@gmail.com"}), {},
             facts(CertStatus::kUsable, {{"bob@pajak.go.id", CertStatus::kUsable, false}}));
  EXPECT_EQ(d.verdict.to_string(),
            "tempfail 451 4.7.1 encryption required but no certificate for carol@gmail.com");
}

TEST(FailureActions, LongRecipientListIsShortened) {
  const ConfigPtr c = load("[default]\nencrypt = \"required\"\n");
  std::vector<std::string> many;
  for (int i = 0; i < 60; ++i) {
    many.push_back("recipient-number-" + std::to_string(i) + "@example.com");
  }
  const Decision d = decide(*c, outbound(many), {}, facts(CertStatus::kUsable, {}));
  EXPECT_EQ(d.failure, Failure::kNoRecipientCert);
  EXPECT_LT(d.verdict.text.size(), 450U);
  EXPECT_NE(d.verdict.text.find(" more"), std::string::npos);
  EXPECT_EQ(d.recipients_without_cert.size(), 60U);
}

TEST(FailureActions, OnErrorMapsErrorCodes) {
  const ConfigPtr c = load("");
  const Decision d = decide(*c, outbound({"bob@pajak.go.id"}), {}, facts(CertStatus::kUsable, {}));
  struct Case {
    Errc e;
    bool decrypting;
    Action want;
  };
  const Case cases[] = {
      {Errc::kNoKey, true, Action::kAccept},
      {Errc::kBadSignature, false, Action::kAccept},
      {Errc::kRevoked, false, Action::kReject},
      {Errc::kRevocationUnknown, false, Action::kTempfail},
      {Errc::kUnavailable, false, Action::kTempfail},
      {Errc::kCrypto, true, Action::kTempfail},
      {Errc::kInternal, false, Action::kTempfail},
      {Errc::kNoKey, false, Action::kReject},
  };
  for (const auto& k : cases) {
    EXPECT_EQ(d.on_error(k.e, "r", k.decrypting).action, k.want) << errc_name(k.e);
  }
  const ConfigPtr q = load("[default]\non_decrypt_error = \"quarantine\"\n");
  const Decision dq = decide(*q, outbound({"bob@pajak.go.id"}), {}, facts(CertStatus::kUsable, {}));
  EXPECT_EQ(dq.on_error(Errc::kMalformedInput, "r", true).action, Action::kQuarantine);
  EXPECT_EQ(dq.on_error(Errc::kMalformedInput, "r", false).action, Action::kTempfail);
}

}  // namespace
}  // namespace policy

namespace policy {
namespace {

// README worked example 3: verify-only inbound.
TEST(Actions, VerifyOnlyInbound) {
  const ConfigPtr c = load(
      "[milter]\nmode = [\"verify\"]\n[default]\nsign = \"never\"\nencrypt = \"never\"\n"
      "verify = true\ndecrypt = false\non_bad_signature = \"accept\"\n"
      "on_revocation_unknown = \"accept\"\n");
  Envelope in;
  in.sender = "x@example.org";
  in.recipients = {"alice@example.go.id"};
  in.client_ip = "203.0.113.9";
  const Decision d = decide(*c, in, {}, {});
  EXPECT_TRUE(d.verify);
  EXPECT_FALSE(d.decrypt);
  EXPECT_EQ(d.verdict.action, Action::kAccept);
  EXPECT_EQ(d.on_error(Errc::kBadSignature, "bad").action, Action::kAccept);
  EXPECT_EQ(d.on_error(Errc::kRevocationUnknown, "stale CRL").action, Action::kAccept);
  const Decision out =
      decide(*c, outbound({"bob@pajak.go.id"}), {}, facts(CertStatus::kUsable, {}));
  EXPECT_FALSE(out.sign);
  EXPECT_FALSE(out.encrypt);
  EXPECT_EQ(out.verdict.action, Action::kAccept);
}

}  // namespace
}  // namespace policy
