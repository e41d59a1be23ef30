// The pure decision: direction, each match kind, each action, mixed recipients, profiles.
#include "policy/decide.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/config.h"

namespace policy {
namespace {

constexpr const char* kRules = R"(
[milter]
internal_hosts = ["10.0.0.0/8", "2001:db8:1::/48"]
originating_daemons = ["ORIGINATING"]

[[rule]]
name = "inbound-audit"
decrypt = false
[rule.match]
direction = "inbound"
recipients_any = ["audit@kemenkeu.go.id"]

[[rule]]
name = "classified"
sign = "required"
encrypt = "required"
[rule.match]
direction = "outbound"
headers = [{ name = "X-Classification", value = "RAHASIA" },
           { name = "Sensitivity", value = "Company-Confidential" }]

[[rule]]
name = "tagged"
encrypt = "required"
strip_subject_tag = true
[rule.match]
subject_tag = "[ENCRYPT]"

[[rule]]
name = "regex"
profile = "modern"
[rule.match]
headers = [{ name = "X-Class", regex = "^secret-[0-9]+$" }]

[[rule]]
name = "finance"
signer = ["role", "individual"]
[rule.match]
department = ["Keuangan"]

[[rule]]
name = "gov-only"
profile = "per-recipient"
[rule.match]
sender = ["*@kemenkeu.go.id"]
recipients_all = ["*.go.id"]

[[rule]]
name = "ceo"
sign = "never"
encrypt = "never"
[rule.match]
sender = ["ceo@*"]
)";

ConfigPtr load(const char* text) {
  auto c = parse_config(text, "test.conf");
  EXPECT_TRUE(c) << c.error().message();
  return c ? *c : ConfigPtr();
}

Envelope outbound(std::string from, std::vector<std::string> to) {
  Envelope e;
  e.sender = std::move(from);
  e.recipients = std::move(to);
  e.auth_user = "someone";
  e.client_ip = "198.51.100.7";
  return e;
}

TEST(Direction, AuthInternalHostsDaemonName) {
  const ConfigPtr c = load(kRules);
  struct Case {
    std::string auth, ip, daemon;
    Direction want;
    std::string reason;
  };
  const Case cases[] = {
      {"alice", "198.51.100.7", "", Direction::kOutbound,
       "outbound: client authenticated as 'alice' ({auth_authen})"},
      {"", "10.20.30.40", "", Direction::kOutbound,
       "outbound: client 10.20.30.40 is in internal_hosts (10.0.0.0/8)"},
      {"", "::ffff:10.20.30.40", "", Direction::kOutbound,
       "outbound: client ::ffff:10.20.30.40 is in internal_hosts (10.0.0.0/8)"},
      {"", "2001:db8:1:2::5", "", Direction::kOutbound,
       "outbound: client 2001:db8:1:2::5 is in internal_hosts (2001:db8:1::/48)"},
      {"", "2001:db8:2::5", "smtpd", Direction::kInbound,
       "inbound: not authenticated, client '2001:db8:2::5' not in internal_hosts, daemon name "
       "'smtpd' not in originating_daemons"},
      {"", "198.51.100.7", "ORIGINATING", Direction::kOutbound,
       "outbound: daemon name 'ORIGINATING' is in originating_daemons"},
      {"", "198.51.100.7", "originating", Direction::kInbound, ""},  // macro values are exact
      {"", "", "", Direction::kInbound, ""},
  };
  for (const auto& k : cases) {
    Envelope e;
    e.auth_user = k.auth;
    e.client_ip = k.ip;
    e.daemon_name = k.daemon;
    std::vector<std::string> reasons;
    EXPECT_EQ(classify_direction(*c, e, reasons), k.want) << k.auth << k.ip << k.daemon;
    ASSERT_EQ(reasons.size(), 1U);
    if (!k.reason.empty()) {
      EXPECT_EQ(reasons[0], k.reason);
    }
  }
}

TEST(Match, EachKindFirstMatchWins) {
  const ConfigPtr c = load(kRules);
  struct Case {
    std::string name;
    Envelope env;
    DepartmentFact dept;
    std::string want_rule;
  };
  Envelope inbound_audit;
  inbound_audit.sender = "x@example.org";
  inbound_audit.recipients = {"staff@kemenkeu.go.id", "AUDIT@Kemenkeu.go.id"};
  inbound_audit.client_ip = "203.0.113.1";
  Envelope inbound_other = inbound_audit;
  inbound_other.recipients = {"staff@kemenkeu.go.id"};
  Envelope header = outbound("a@kemenkeu.go.id", {"b@example.com"});
  header.headers = {{"Subject", "x"}, {"x-classification", "  rahasia "}};
  Envelope outlook = outbound("a@kemenkeu.go.id", {"b@example.com"});
  outlook.headers = {{"Sensitivity", "Company-Confidential"}};
  Envelope header_other = outbound("a@kemenkeu.go.id", {"b@example.com"});
  header_other.headers = {{"X-Classification", "BIASA"}};
  Envelope tagged = outbound("a@example.com", {"b@example.com"});
  tagged.headers = {{"Subject", "Re: [encrypt] budget"}};
  Envelope regex = outbound("a@example.com", {"b@example.com"});
  regex.headers = {{"X-Class", "Secret-42"}};
  Envelope regex_miss = outbound("a@example.com", {"b@example.com"});
  regex_miss.headers = {{"X-Class", "secret-42x"}};
  const DepartmentFact finance{FactState::kKnown, "keuangan"};
  const DepartmentFact other{FactState::kKnown, "Umum"};
  const DepartmentFact none{};
  const Case cases[] = {
      {"recipients_any+direction", inbound_audit, none, "inbound-audit"},
      {"inbound default", inbound_other, none, "default"},
      {"header glob (case, spaces)", header, none, "classified"},
      {"Outlook Sensitivity", outlook, none, "classified"},
      {"header value differs", header_other, none, "default"},
      {"subject tag", tagged, none, "tagged"},
      {"header regex", regex, none, "regex"},
      {"header regex anchored", regex_miss, none, "default"},
      {"department", outbound("a@example.com", {"b@example.com"}), finance, "finance"},
      {"other department", outbound("a@example.com", {"b@example.com"}), other, "default"},
      {"sender+recipients_all", outbound("a@KEMENKEU.go.id", {"b@pajak.go.id", "c@bi.go.id"}), none,
       "gov-only"},
      {"recipients_all with one outsider",
       outbound("a@kemenkeu.go.id", {"b@pajak.go.id", "c@gmail.com"}), none, "default"},
      {"sender address glob", outbound("ceo@example.com", {"b@example.com"}), none, "ceo"},
      {"sender domain glob miss", outbound("a@example.com", {"b@pajak.go.id"}), none, "default"},
  };
  for (const auto& k : cases) {
    const Classification cls = classify(*c, k.env, k.dept);
    EXPECT_EQ(cls.rule->name, k.want_rule) << k.name;
  }
}

TEST(Match, AddressAndDomainGlobs) {
  struct Case {
    std::string address, pattern;
    bool want;
  };
  const Case cases[] = {
      {"a@kemenkeu.go.id", "*.go.id", true},
      {"a@kemenkeu.go.id", "kemenkeu.go.id", true},
      {"a@kemenkeu.go.id", "*@*.go.id", true},
      {"a@kemenkeu.go.id", "b@*", false},
      {"a@example.go.id.evil", "*.go.id", false},
      {"", "*.go.id", false},
      {"", "*@*", false},
      {"A@Example.COM", "a@example.com", true},
      {"a@example.com", "*.com", true},
  };
  for (const auto& k : cases) {
    EXPECT_EQ(address_matches(k.address, k.pattern), k.want) << k.address << " ~ " << k.pattern;
  }
}

TEST(Match, SubjectTagStripped) {
  const ConfigPtr c = load(kRules);
  struct Case {
    std::string subject, want;
  };
  const Case cases[] = {
      {"[ENCRYPT] budget", "budget"},
      {"Re: [encrypt] budget 2027", "Re: budget 2027"},
      {"budget [Encrypt]", "budget"},
  };
  for (const auto& k : cases) {
    Envelope e = outbound("a@example.com", {"b@example.com"});
    e.headers = {{"Subject", k.subject}};
    const Decision d = decide(*c, e, {}, {});
    ASSERT_EQ(d.rule, "tagged");
    ASSERT_TRUE(d.new_subject);
    EXPECT_EQ(*d.new_subject, k.want);
  }
}

TEST(Match, DepartmentUnavailableFailsClosed) {
  const ConfigPtr c = load(kRules);
  EXPECT_TRUE(c->uses_department);
  const Decision d = decide(*c, outbound("a@example.com", {"b@example.com"}),
                            DepartmentFact{FactState::kUnavailable, ""}, {});
  EXPECT_EQ(d.rule, "finance");
  EXPECT_EQ(d.failure, Failure::kKeystoreUnavailable);
  EXPECT_EQ(d.verdict.action, Action::kTempfail);
  EXPECT_FALSE(d.sign);
  EXPECT_FALSE(d.encrypt);
}

TEST(Match, HeaderRegexSeesOnlyTheFirstKilobyte) {
  const ConfigPtr c = load(kRules);
  Envelope near = outbound("a@example.com", {"b@example.com"});
  near.headers = {{"X-Class", "secret-1"}};
  EXPECT_EQ(classify(*c, near, {}).rule->name, "regex");
  // The same pattern must match the whole value ($), which lies past the window here.
  Envelope far = outbound("a@example.com", {"b@example.com"});
  far.headers = {{"X-Class", "secret-" + std::string(5000, '1')}};
  EXPECT_EQ(classify(*c, far, {}).rule->name, "default");
}

}  // namespace
}  // namespace policy
