#include "tests/milter/smime_fixture.h"

#include <gtest/gtest.h>

#include "milter/auth_results.h"
#include "milter/session.h"
#include "smime/mime.h"
#include "smime/x509.h"

namespace milter::fixture {

namespace fs = std::filesystem;
using testsupport::pki;

std::string crlf(std::string_view s) {
  return smime::lf_to_crlf(s);
}

std::string fingerprint(const fs::path& crt) {
  auto c = smime::parse_cert(testsupport::read_file(crt));
  return c ? smime::inspect(**c).fingerprint_sha256 : std::string();
}

void add_anchor(keystore::Keystore& ks, const fs::path& pem) {
  auto cert = smime::parse_cert(testsupport::read_file(pem));
  if (!cert) {
    ADD_FAILURE() << pem << ": " << cert.error().message();
    return;
  }
  auto r = ks.add_anchor(**cert, "test");
  EXPECT_TRUE(r.has_value()) << pem << ": " << (r ? "" : r.error().message());
}

std::shared_ptr<keystore::Keystore> make_keystore(const fs::path& dir,
                                                  const std::vector<StaffMember>& staff) {
  testsupport::write_file(dir / "secret", "milter-test-secret\n", 0600);
  keystore::OpenOptions o;
  o.create = true;
  o.secret_file = (dir / "secret").string();
  auto opened = keystore::Keystore::open((dir / "keystore.db").string(), o);
  if (!opened) {
    ADD_FAILURE() << opened.error().message();
    return nullptr;
  }
  std::shared_ptr<keystore::Keystore> ks(std::move(*opened));
  add_anchor(*ks, pki("root.crt"));
  for (const auto& m : staff) {
    auto p12 = smime::parse_pkcs12(testsupport::read_file(pki(m.name + ".p12")), "test-pass");
    if (!p12) {
      ADD_FAILURE() << m.name << ": " << p12.error().message();
      return nullptr;
    }
    keystore::ImportRequest req;
    req.certs.push_back(std::move(p12->cert));
    for (auto& c : p12->extra) {
      req.certs.push_back(std::move(c));
    }
    req.key = std::move(p12->key);
    req.department = m.department;
    auto r = ks->import(req);
    if (!r) {
      ADD_FAILURE() << m.name << ": " << r.error().message();
      return nullptr;
    }
  }
  for (const char* name : {"root.crl", "inter.crl"}) {
    auto crl = smime::parse_crl(testsupport::read_file(pki(name)));
    if (!crl) {
      ADD_FAILURE() << name << ": " << crl.error().message();
      return nullptr;
    }
    auto ci = ks->import_crl(**crl, "test");
    if (!ci) {
      ADD_FAILURE() << name << ": " << ci.error().message();
      return nullptr;
    }
  }
  return ks;
}

std::shared_ptr<Snapshot> snapshot(const std::string& config_toml, const fs::path& spool_dir,
                                   std::shared_ptr<Pipeline> pipeline,
                                   std::shared_ptr<audit::Recorder> recorder) {
  auto cfg = policy::parse_config(config_toml, "test.conf");
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message();
  auto snap = std::make_shared<Snapshot>();
  snap->settings.authserv_id = "mx.example.gov";
  snap->settings.spool_dir = spool_dir;
  if (cfg) {  // the limits as make_snapshot() takes them from the configuration
    snap->settings.max_message_bytes = (*cfg)->limits.max_message_size;
    snap->settings.max_headers = (*cfg)->limits.max_headers;
    snap->settings.spool_threshold = (*cfg)->limits.spool_threshold;
  }
  snap->config = cfg ? *cfg : nullptr;
  snap->pipeline = std::move(pipeline);
  snap->recorder = std::move(recorder);
  return snap;
}

Delivery run_message(std::shared_ptr<const Snapshot> snap, const Submission& sub,
                     const std::string& message) {
  Session s([snap] { return snap; });
  s.on_connect("client", sub.client_ip);
  const ParsedMessage p = parse_message(crlf(message));
  Macros m{{"i", sub.queue_id}};
  if (!sub.auth.empty()) {
    m["{auth_authen}"] = sub.auth;
  }
  EXPECT_EQ(s.on_mail_from(sub.sender, m), Verdict::kContinue);
  for (const auto& r : sub.rcpts) {
    s.on_rcpt("<" + r + ">");
  }
  for (const auto& h : p.headers) {
    s.on_header(h.name, h.value);
  }
  s.on_body(std::as_bytes(std::span(p.body.data(), p.body.size())));
  Delivery d;
  d.outcome = s.on_eom();
  d.delivered = crlf(delivered_message(p.headers, p.body, d.outcome));
  return d;
}

std::string openssl_signed(const fs::path& dir, const std::string& signer, std::string_view from,
                           std::string_view text, std::string_view extra_headers) {
  testsupport::write_file(dir / "entity.txt", "Content-Type: text/plain; charset=us-ascii\r\n\r\n" +
                                                  std::string(text) + "\r\n");
  const auto r =
      testsupport::run({"openssl", "cms", "-sign", "-signer", pki(signer + ".crt").string(),
                        "-inkey", pki(signer + ".key").string(), "-certfile",
                        pki("inter.crt").string(), "-in", (dir / "entity.txt").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return "From: " + std::string(from) + "\nTo: alice@example.gov\nSubject: signed\n" +
         std::string(extra_headers) + r.out;
}

std::string added_auth_results(const Outcome& o) {
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kAdd && e.name == kAuthResultsHeader) {
      return e.value;
    }
  }
  return {};
}

}  // namespace milter::fixture
