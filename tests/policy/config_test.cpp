// Loading the configuration: every error class names file, line and column; the
// effective configuration (describe) loads again; file errors.
#include "policy/config.h"

#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "policy/config_keys.h"
#include "policy/decide.h"
#include "tests/common/test_support.h"

namespace policy {
namespace {

struct ErrorCase {
  std::string what;
  std::string toml;
  std::string message;  // the whole detail, "file:line:col: ..."
};

TEST(ConfigErrors, EveryClassNamesFileLineColumn) {
  const ErrorCase cases[] = {
      // TOML syntax
      {"syntax", "[daemon]\nsocket = \"local:/x\n",
       "t.conf:2:19: Error while parsing string: unescaped control characters other than TAB "
       "(U+0009) are explicitly prohibited"},
      // unknown keys, at every level
      {"unknown top-level", "[daemonn]\n",
       "t.conf:1:2: unknown key 'daemonn' in the top level (did you mean 'daemon'?)"},
      {"unknown in daemon", "[daemon]\nsokcet = \"local:/x\"\n",
       "t.conf:2:1: unknown key 'sokcet' in [daemon] (did you mean 'socket'?)"},
      {"unknown in rule", "[[rule]]\nname = \"r\"\nencrypted = \"required\"\n",
       "t.conf:3:1: unknown key 'encrypted' in rule #1 (did you mean 'encrypt'?)"},
      {"unknown in match", "[[rule]]\nname = \"r\"\n[rule.match]\nfrom = [\"a@b\"]\n",
       "t.conf:4:1: unknown key 'from' in rule 'r'.match (known: direction, sender, department, "
       "recipients_all, recipients_any, headers, subject_tag)"},
      {"unknown in header entry",
       "[[rule]]\nname = \"r\"\n[rule.match]\nheaders = [{ name = \"X\", valeu = \"y\" }]\n",
       "t.conf:4:26: unknown key 'valeu' in rule 'r'.match.headers (did you mean 'value'?)"},
      {"unknown in failure table",
       "[default]\non_revoked = { action = \"reject\", text = \"x\" }\n",
       "t.conf:2:35: unknown key 'text' in [default.on_revoked] (known: action, reply)"},
      {"name in default", "[default]\nname = \"x\"\n",
       "t.conf:2:1: unknown key 'name' in [default] (known: sign, encrypt, signer, profile, "
       "verify, decrypt, strip_subject_tag, on_no_signing_cert, on_no_recipient_cert, on_revoked, "
       "on_revocation_unknown, on_bad_signature, on_decrypt_error, on_keystore_unavailable, "
       "on_internal_error)"},
      // wrong types
      {"bool as string", "[daemon]\nforeground = \"yes\"\n",
       "t.conf:2:14: daemon.foreground: expected a boolean (true or false), got a string"},
      {"integer as string", "[limits]\nmax_recipients = \"10\"\n",
       "t.conf:2:18: limits.max_recipients: expected an integer, got a string"},
      {"string as integer", "[daemon]\nuser = 7\n",
       "t.conf:2:8: daemon.user: expected a string, got an integer"},
      {"section as value", "daemon = 1\n", "t.conf:1:10: daemon: expected a table, got an integer"},
      {"array element type", "[milter]\ninternal_hosts = [\"10.0.0.0/8\", 7]\n",
       "t.conf:2:33: milter.internal_hosts: expected an array of strings, found an integer in it"},
      {"list as string", "[milter]\noriginating_daemons = \"ORIGINATING\"\n",
       "t.conf:2:23: milter.originating_daemons: expected an array of strings, got a string"},
      {"failure action type", "[default]\non_revoked = 5\n",
       "t.conf:2:14: default.on_revoked: expected an action string or a table { action = ..., "
       "reply = ... }"},
      {"[rule] not [[rule]]", "[rule]\nname = \"r\"\n",
       "t.conf:1:1: rules are written [[rule]] (an array of tables), not [rule]"},
      // bad values
      {"postfix socket", "[daemon]\nsocket = \"inet:127.0.0.1:8891\"\n",
       "t.conf:2:10: daemon.socket: socket 'inet:127.0.0.1:8891' uses Postfix's inet:host:port "
       "spelling; libmilter writes the port first: use \"inet:8891@127.0.0.1\""},
      {"bad port", "[daemon]\nsocket = \"inet:99999@localhost\"\n",
       "t.conf:2:10: daemon.socket: socket 'inet:99999@localhost': port must be 1..65535 "
       "(inet:PORT@HOST)"},
      {"umask", "[daemon]\numask = \"0778\"\n",
       "t.conf:2:9: daemon.umask: '0778' is not an octal umask like \"007\""},
      {"relative pid file", "[daemon]\npid_file = \"run/x.pid\"\n",
       "t.conf:2:12: daemon.pid_file: 'run/x.pid' must be an absolute path"},
      {"log level", "[daemon]\nlog_level = \"verbose\"\n",
       "t.conf:2:13: daemon.log_level: 'verbose' is not one of trace, debug, info, warn, error, "
       "critical"},
      {"facility", "[daemon]\nsyslog_facility = \"local9\"\n",
       "t.conf:2:19: daemon.syslog_facility: 'local9' is not one of mail, daemon, user, "
       "local0..local7"},
      {"mode value", "[milter]\nmode = [\"sign\", \"sing\"]\n",
       "t.conf:2:17: milter.mode: 'sing' is not one of sign, encrypt, verify, decrypt"},
      {"mode twice", "[milter]\nmode = [\"sign\", \"sign\"]\n",
       "t.conf:2:17: milter.mode: 'sign' is listed twice"},
      {"mode empty", "[milter]\nmode = []\n",
       "t.conf:2:8: milter.mode: must name at least one of sign, encrypt, verify, decrypt"},
      {"cidr", "[milter]\ninternal_hosts = [\"10.0.0.0/8\", \"10.1.0.0/8\"]\n",
       "t.conf:2:33: milter.internal_hosts: '10.1.0.0/8' has host bits set below the /8 prefix"},
      {"authserv_id", "[milter]\nauthserv_id = \"mail example\"\n",
       "t.conf:2:15: milter.authserv_id: 'mail example' must be a bare host name (RFC 8601 "
       "authserv-id: no spaces, ';', '(' or quotes)"},
      {"limit range", "[limits]\nmax_mime_depth = 100\n",
       "t.conf:2:18: limits.max_mime_depth: 100 is out of range 1..64"},
      {"negative limit", "[limits]\nmax_headers = -1\n",
       "t.conf:2:15: limits.max_headers: -1 is out of range 1..100000"},
      {"audit action", "[audit]\non_audit_failure = \"discard\"\n",
       "t.conf:2:20: audit.on_audit_failure: 'discard' is not one of tempfail, reject, accept"},
      {"requirement", "[default]\nsign = \"always\"\n",
       "t.conf:2:8: default.sign: 'always' is not one of required, if-possible, never"},
      {"profile", "[default]\nprofile = \"fast\"\n",
       "t.conf:2:11: default.profile: 'fast' is not one of compatible, modern, per-recipient"},
      {"signer", "[default]\nsigner = [\"personal\"]\n",
       "t.conf:2:11: default.signer: 'personal' is not one of individual, role, system"},
      {"action", "[default]\non_no_signing_cert = \"bounce\"\n",
       "t.conf:2:22: default.on_no_signing_cert: 'bounce' is not one of accept, reject, tempfail, "
       "quarantine, discard"},
      {"reply code class",
       "[default]\non_revoked = { action = \"reject\", reply = \"451 4.7.1 no\" }\n",
       "t.conf:2:43: default.on_revoked.reply: reply code 451 does not fit action 'reject' (use "
       "5xx)"},
      {"reply xcode class",
       "[default]\non_revoked = { action = \"tempfail\", reply = \"5.7.1 no\" }\n",
       "t.conf:2:45: default.on_revoked.reply: enhanced status 5.7.1 does not fit action "
       "'tempfail'"},
      {"reply variable",
       "[default]\non_no_recipient_cert = { action = \"reject\", reply = \"no cert for %{rcpt}\" "
       "}\n",
       "t.conf:2:53: default.on_no_recipient_cert.reply: unknown reply variable %{rcpt}; known: "
       "%{recipients}, %{sender}, %{rule}, %{reason}"},
      {"reply stray percent",
       "[default]\non_internal_error = { action = \"tempfail\", reply = \"50% done\" }\n",
       "t.conf:2:52: default.on_internal_error.reply: '%' must start %{variable} or be written %%"},
      {"missing action", "[default]\non_revoked = { reply = \"x\" }\n",
       "t.conf:2:14: default.on_revoked: missing 'action'"},
      {"rule without name", "[[rule]]\nsign = \"required\"\n",
       "t.conf:1:1: rule #1: every [[rule]] needs a name"},
      {"duplicate rule", "[[rule]]\nname = \"a\"\n[[rule]]\nname = \"a\"\n",
       "t.conf:4:8: rule #2: duplicate rule name 'a'"},
      {"reserved name", "[[rule]]\nname = \"default\"\n",
       "t.conf:2:8: rule #1: the name 'default' is reserved for [default]"},
      {"direction", "[[rule]]\nname = \"r\"\n[rule.match]\ndirection = \"outgoing\"\n",
       "t.conf:4:13: rule 'r'.match.direction: 'outgoing' is not one of inbound, outbound, any"},
      {"regex",
       "[[rule]]\nname = \"r\"\n[rule.match]\nheaders = [{ name = \"X\", regex = \"([a-\" }]\n",
       "t.conf:4:34: rule 'r'.match.headers.regex: invalid regular expression: Invalid end of "
       "'[x-x]' range in regular expression"},
      {"header value and regex",
       "[[rule]]\nname = \"r\"\n[rule.match]\nheaders = [{ name = \"X\", value = \"a\", regex = "
       "\"b\" }]\n",
       "t.conf:4:12: rule 'r'.match.headers: give exactly one of value (glob) or regex"},
      {"header name",
       "[[rule]]\nname = \"r\"\n[rule.match]\nheaders = [{ name = \"X:\", value = \"a\" }]\n",
       "t.conf:4:12: rule 'r'.match.headers: needs name = \"Header-Name\" (no colon or spaces)"},
      {"empty glob", "[[rule]]\nname = \"r\"\n[rule.match]\nsender = [\"\"]\n",
       "t.conf:4:10: rule 'r'.match.sender: empty pattern"},
      {"strip without tag", "[[rule]]\nname = \"r\"\nstrip_subject_tag = true\n",
       "t.conf:1:1: rule 'r': strip_subject_tag needs match.subject_tag"},
      {"required but mode excludes",
       "[milter]\nmode = [\"verify\"]\n[[rule]]\nname = \"r\"\nencrypt = \"required\"\n",
       "t.conf:3:1: rule 'r' requires encryption but [milter] mode does not include \"encrypt\""},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.toml, "t.conf");
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code(), Errc::kConfig) << c.what;
    EXPECT_EQ(r.error().detail(), c.message) << c.what;
  }
}

std::filesystem::path source(std::string_view rel) {
  return std::filesystem::path(SMIME_SOURCE_DIR) / rel;
}

TEST(Config, EmptyFileGivesBuiltInDefaults) {
  auto c = parse_config("", "empty.conf");
  ASSERT_TRUE(c) << c.error().message();
  const Config& k = **c;
  EXPECT_EQ(k.daemon.socket.libmilter, "local:/var/spool/postfix/smime-milter/smime-milter.sock");
  EXPECT_EQ(k.daemon.umask, 07U);
  EXPECT_TRUE(k.mode.sign && k.mode.encrypt && k.mode.verify && k.mode.decrypt);
  ASSERT_EQ(k.internal_hosts.size(), 2U);
  EXPECT_EQ(k.internal_hosts[0].text(), "127.0.0.0/8");
  EXPECT_TRUE(k.rules.empty());
  EXPECT_EQ(k.default_rule.name, "default");
  EXPECT_EQ(k.limits.max_mime_depth, 32U);
  EXPECT_EQ(k.audit.on_audit_failure, Action::kTempfail);
  EXPECT_FALSE(k.uses_department);
}

TEST(Config, ValuesAndRuleInheritance) {
  auto c = parse_config(R"(
[daemon]
socket = "inet6:8891@[::1]"
umask = "0027"
foreground = true
[milter]
mode = ["verify"]
internal_hosts = ["192.0.2.0/24"]
[limits]
max_recipients = 5
[default]
encrypt = "never"
profile = "modern"
on_revoked = "tempfail"
[[rule]]
name = "first"
sign = "never"
[rule.match]
sender = ["a@b"]
)",
                        "v.conf");
  ASSERT_TRUE(c) << c.error().message();
  const Config& k = **c;
  EXPECT_EQ(k.daemon.socket.kind, SocketSpec::Kind::kInet6);
  EXPECT_EQ(k.daemon.umask, 027U);
  EXPECT_TRUE(k.daemon.foreground);
  EXPECT_FALSE(k.mode.sign);
  EXPECT_TRUE(k.mode.verify);
  EXPECT_EQ(k.limits.max_recipients, 5U);
  ASSERT_EQ(k.rules.size(), 1U);
  const Rule& r = k.rules[0];
  EXPECT_EQ(r.sign, Requirement::kNever);
  EXPECT_EQ(r.encrypt, Requirement::kNever);  // from [default]
  EXPECT_EQ(r.profile, Profile::kModern);     // from [default]
  EXPECT_EQ(r.on_failure(Failure::kRevoked).action, Action::kTempfail);
  EXPECT_EQ(r.on_failure(Failure::kRevoked).rcode, "451");
  EXPECT_EQ(r.on_failure(Failure::kNoSigningCert).action, Action::kReject);  // built-in
}

TEST(Config, LoadConfigReportsUnreadableFile) {
  auto c = load_config("/nonexistent/smime-milter.conf");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), Errc::kIo);
  EXPECT_EQ(c.error().detail(),
            "/nonexistent/smime-milter.conf: cannot read the configuration file");
  testsupport::TempDir dir;
  testsupport::write_file(dir / "bad.conf", "[daemon]\nlog_level = 3\n");
  auto bad = load_config((dir / "bad.conf").string());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().detail(), (dir / "bad.conf").string() +
                                      ":2:13: daemon.log_level: expected a string, got an integer");
}

TEST(Config, PackagingSampleLoadsAndDescribeRoundTrips) {
  auto c = load_config(source("packaging/smime-milter.conf").string());
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ((*c)->rules.size(), 4U);
  EXPECT_TRUE((*c)->uses_department);
  const std::string described = describe(**c);
  auto again = parse_config(described, "described.conf");
  ASSERT_TRUE(again) << again.error().message() << "\n" << described;
  // Identical apart from the first line naming the source.
  const std::string a = described.substr(described.find('\n'));
  const std::string b = describe(**again).substr(describe(**again).find('\n'));
  EXPECT_EQ(a, b);
  EXPECT_NE(described.find("name = \"classified-to-government\""), std::string::npos);
}

TEST(Config, PackagingSampleWorkedExamples) {
  auto c = load_config(source("packaging/smime-milter.conf").string());
  ASSERT_TRUE(c) << c.error().message();
  Envelope e;
  e.sender = "alice@example.go.id";
  e.auth_user = "alice";
  e.recipients = {"bob@pajak.go.id", "carol@gmail.com"};
  Facts f;
  f.signer.status = CertStatus::kUsable;
  f.recipients = {{"bob@pajak.go.id", CertStatus::kUsable, false}};
  // 1: official mail is signed; encrypted only when everyone can read it.
  Decision d = decide(**c, e, DepartmentFact{FactState::kNone, ""}, f);
  EXPECT_EQ(d.rule, "default");
  EXPECT_TRUE(d.sign);
  EXPECT_FALSE(d.encrypt);
  // 2: classified mail to government domains only, one recipient without certificate.
  e.recipients = {"bob@pajak.go.id", "dina@bi.go.id"};
  e.headers = {{"X-Classification", "RAHASIA"}};
  d = decide(**c, e, DepartmentFact{FactState::kNone, ""}, f);
  EXPECT_EQ(d.rule, "classified-to-government");
  EXPECT_EQ(d.verdict.to_string(),
            "reject 550 5.7.1 classified mail needs a certificate for dina@bi.go.id");
  // 3: inbound is verified and decrypted.
  Envelope in;
  in.sender = "x@example.org";
  in.recipients = {"alice@example.go.id"};
  in.client_ip = "203.0.113.9";
  d = decide(**c, in, {}, {});
  EXPECT_EQ(d.rule, "inbound");
  EXPECT_TRUE(d.verify);
  EXPECT_TRUE(d.decrypt);
  EXPECT_EQ(d.verdict_for(Failure::kDecryptError, "x").to_string(),
            "tempfail 451 4.7.5 cannot decrypt, try again later");
}

TEST(ConfigKeys, SampleDocumentsEveryKey) {
  const std::string sample = testsupport::read_file(source("packaging/smime-milter.conf"));
  for (const auto& k : config_keys()) {
    const std::regex word("\\b" + std::string(k.key) + "\\b");
    EXPECT_TRUE(std::regex_search(sample, word)) << k.table << "." << k.key;
  }
}

TEST(ConfigKeys, ReferenceDocMatchesKeyTable) {
  const std::string doc = testsupport::read_file(source("docs/configuration.md"));
  EXPECT_EQ(doc, configuration_reference())
      << "docs/configuration.md is stale: run smimectl policy reference > docs/configuration.md";
}

}  // namespace
}  // namespace policy
