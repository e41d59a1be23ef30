#include "milter/auth_results.h"

#include <sstream>

#include <gtest/gtest.h>

namespace milter {
namespace {

struct IdCase {
  std::string value;
  std::optional<std::string> want;
};

TEST(AuthservId, ParsesRfc8601Spellings) {
  const std::vector<IdCase> cases = {
      {" mx.example.org; smime=pass", "mx.example.org"},
      {"mx.example.org;smime=pass", "mx.example.org"},
      {" MX.Example.ORG 1; none", "MX.Example.ORG"},
      {" (comment) mx.example.org; none", "mx.example.org"},
      {" (nested (comment) \\) here) mx.example.org ; none", "mx.example.org"},
      {"\n\tmx.example.org;\n\tdkim=pass", "mx.example.org"},
      {" \"mx.example.org\"; none", "mx.example.org"},
      {" \"mx.ex\\\"ample\"; none", "mx.ex\"ample"},
      {" mx.example.org(comment); none", "mx.example.org"},
      {" ; none", std::nullopt},
      {" (unterminated comment mx.example.org; none", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(authserv_id_of(c.value), c.want) << "value: " << c.value;
  }
}

TEST(RemoveForged, DeletesOursKeepsOthersHighestIndexFirst) {
  const std::vector<Header> headers = {
      {"Received", " from a"},
      {"Authentication-Results", " mx.example.org; smime=pass"},           // 1: ours
      {"authentication-results", " other.example.net; dkim=pass"},         // 2: theirs
      {"AUTHENTICATION-RESULTS", " (forged) MX.EXAMPLE.ORG; smime=pass"},  // 3: ours
      {"Authentication-Results", " mx.example.org.evil.com; spf=pass"},    // 4: theirs
      {"Authentication-Results", " \"mx.example.org\"; spf=pass"},         // 5: ours
      {"X-Authentication-Results", " mx.example.org; spf=pass"},           // other name
  };
  const auto edits = remove_forged_auth_results(headers, "mx.example.org");
  ASSERT_EQ(edits.size(), 3U);
  EXPECT_EQ(edits[0].index, 5);
  EXPECT_EQ(edits[1].index, 3);
  EXPECT_EQ(edits[2].index, 1);
  for (const auto& e : edits) {
    EXPECT_EQ(e.kind, HeaderEdit::Kind::kDelete);
    EXPECT_EQ(e.name, "Authentication-Results");
  }
  EXPECT_TRUE(remove_forged_auth_results(headers, "elsewhere.example").empty());
}

std::vector<std::string> lines_of(const std::string& full) {
  std::vector<std::string> out;
  std::istringstream in(full);
  for (std::string l; std::getline(in, l);) {
    out.push_back(l);
  }
  return out;
}

std::string unfold(const std::string& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\n') {
      continue;  // "\n\t" -> "\t" (RFC 5322 3.2.2 unfolding removes the line break only)
    }
    out += v[i] == '\t' ? ' ' : v[i];
  }
  return out;
}

TEST(FormatAuthResults, Rfc7281PassWithProperties) {
  const SmimeAuthResult r{"pass", "", "alice@example.org", "1A2B", "CN=Test CA,O=Example"};
  const auto v = format_auth_results("mx.example.org", std::span(&r, 1));
  EXPECT_EQ(unfold(v),
            "mx.example.org; smime=pass body.smime-identifier=alice@example.org "
            "body.smime-serial=1A2B body.smime-issuer=\"CN=Test CA,O=Example\"");
  EXPECT_EQ(authserv_id_of(" " + v), "mx.example.org");
}

TEST(FormatAuthResults, ReasonCommentEscapedAndFolded) {
  const std::vector<SmimeAuthResult> rs = {
      {"fail", "bad-signature (digest)", "bob@example.org", "0F",
       "CN=A very long issuer name \"quoted\" \\ backslash,OU=Some Department Of Things,"
       "O=Example Organisation With A Long Name,C=ID"},
      {"pass", "", "carol@example.org", "00AB", "CN=Other CA"},
  };
  const auto v = format_auth_results("mx.example.org", rs);
  const auto u = unfold(v);
  EXPECT_NE(u.find("smime=fail (bad-signature \\(digest\\)) body.smime-identifier=bob@example.org"),
            std::string::npos)
      << u;
  EXPECT_NE(u.find("\\\"quoted\\\" \\\\ backslash"), std::string::npos) << u;
  EXPECT_NE(u.find("; smime=pass body.smime-identifier=carol@example.org"), std::string::npos) << u;
  const auto lines = lines_of(std::string(kAuthResultsHeader) + ": " + v);
  ASSERT_GT(lines.size(), 2U);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 78U) << lines[i];
    if (i > 0) {
      EXPECT_EQ(lines[i].front(), '\t');
    }
  }
}

TEST(FormatAuthResults, NoResultsIsNoneAndControlCharsNeutralised) {
  EXPECT_EQ(format_auth_results("mx.example.org", {}), "mx.example.org; none");
  const SmimeAuthResult r{"fail", "x\r\nInjected: yes", "", "", "CN=a\r\nX-Evil: 1"};
  const auto v = format_auth_results("mx.example.org", std::span(&r, 1));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\n') {
      ASSERT_LT(i + 1, v.size());
      EXPECT_EQ(v[i + 1], '\t');  // every line break is a fold, never a new header
    }
    EXPECT_NE(v[i], '\r');
  }
}

}  // namespace
}  // namespace milter
