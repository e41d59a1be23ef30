// decode_header_text: header values as policy rules see them (unfolded, RFC 2047
// decoded, UTF-8). Table of got/want cases, then the reason it exists: a subject_tag rule
// matching a Subject the client sent as an encoded word.
#include "milter/header_text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/config.h"
#include "policy/decide.h"

namespace milter {
namespace {

struct Case {
  const char* name;
  std::string raw;
  std::string want;
};

TEST(DecodeHeaderText, Table) {
  const std::vector<Case> cases = {
      {"plain ascii", " [secure] Bericht", "[secure] Bericht"},
      {"plain ascii untouched inside", "a  b\tc", "a  b\tc"},
      {"q utf-8", "=?utf-8?q?=5Bsecure=5D_Bericht?=", "[secure] Bericht"},
      {"q upper-case charset and encoding", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=",
       "Gr\xC3\xBC\xC3\x9F"
       "e"},
      {"b utf-8", "=?utf-8?b?W3NlY3VyZV0gQmVyaWNodA==?=", "[secure] Bericht"},
      {"b utf-8 non-ascii", "=?utf-8?B?R3LDvMOfZQ==?=",
       "Gr\xC3\xBC\xC3\x9F"
       "e"},
      {"q iso-8859-1 becomes utf-8", "=?iso-8859-1?q?Gr=FC=DFe?=",
       "Gr\xC3\xBC\xC3\x9F"
       "e"},
      {"b iso-8859-1 becomes utf-8", "=?ISO-8859-1?B?R3L83w==?=", "Gr\xC3\xBC\xC3\x9F"},
      {"raw 8-bit latin-1 becomes utf-8", "caf\xE9", "caf\xC3\xA9"},
      {"raw utf-8 kept", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"encoded word between text", "Re: =?utf-8?q?=5Bsecure=5D?= Bericht", "Re: [secure] Bericht"},
      {"space between encoded words dropped", "=?utf-8?q?=5Bsec?= =?utf-8?q?ure=5D?=", "[secure]"},
      {"malformed: no closing ?=", "=?utf-8?q?=5Bsecure=5D_Bericht",
       "=?utf-8?q?=5Bsecure=5D_Bericht"},
      {"malformed: no encoding", "=?utf-8?=5Bsecure=5D?=", "=?utf-8?=5Bsecure=5D?="},
      {"folded plain", "Quarterly\r\n report\r\n\t[secure]", "Quarterly report\t[secure]"},
      {"folded with bare LF", " Quarterly\n report", "Quarterly report"},
      {"folded encoded words",
       "=?utf-8?q?=5Bsecure=5D?=\r\n =?utf-8?q?_Bericht?=", "[secure] Bericht"},
      {"decoded CR LF dropped", "=?utf-8?q?a=0D=0Ab?=", "ab"},
      {"decoded surrounding space trimmed", "=?utf-8?q?__[secure]__?=", "[secure]"},
      {"NUL dropped, nothing after it lost", std::string("a\0[secure]", 10), "a[secure]"},
      {"empty", "", ""},
      {"only whitespace and line breaks", " \r\n\t ", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(decode_header_text(c.raw), c.want) << c.name << ": raw [" << c.raw << "]";
  }
}

TEST(EncodeHeaderText, AsciiUntouchedNonAsciiEncodedAndDecodedBack) {
  EXPECT_EQ(encode_header_text("budget 2026"), "budget 2026");
  EXPECT_EQ(encode_header_text("a\r\nb"), "ab");
  for (const std::string& text : {std::string("Gr\xC3\xBC\xC3\x9F"
                                              "e"),
                                  std::string("Re: Laporan keuangan \xE2\x80\x94 Tahun 2026"),
                                  std::string(200, 'x') + "\xC3\xA9" + std::string(200, 'y')}) {
    const std::string enc = encode_header_text(text);
    for (const char ch : enc) {
      ASSERT_LT(static_cast<unsigned char>(ch), 0x80) << enc;
      ASSERT_NE(ch, '\n') << enc;
    }
    EXPECT_NE(enc.find("=?"), std::string::npos) << enc;
    EXPECT_EQ(decode_header_text(enc), text) << enc;
  }
}

// The bug it fixes: a subject_tag rule did not see an encoded Subject's tag.
TEST(DecodeHeaderText, EncodedSubjectMatchesSubjectTagRule) {
  auto cfg = policy::parse_config(
      "[[rule]]\nname = \"secure\"\nencrypt = \"required\"\n"
      "[rule.match]\nsubject_tag = \"[secure]\"\n",
      "t.conf");
  ASSERT_TRUE(cfg) << cfg.error().detail();
  const std::string raw = " =?utf-8?q?=5Bsecure=5D_Bericht?=";
  const auto rule_for = [&](const std::string& subject) {
    policy::Envelope env;
    env.sender = "alice@example.gov";
    env.recipients = {"bob@partner.example"};
    env.headers.push_back(policy::Header{"Subject", subject});
    const auto cls = policy::classify(**cfg, env, policy::DepartmentFact{});
    return cls.rule->name;
  };
  EXPECT_NE(rule_for(raw), "secure");
  EXPECT_EQ(rule_for(decode_header_text(raw)), "secure");
}

}  // namespace
}  // namespace milter
