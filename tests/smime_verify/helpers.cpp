#include "helpers.h"

#include <gtest/gtest.h>

#include "smime/x509.h"

namespace smime::testing {

std::string openssl_cms(const std::vector<std::string>& args, std::string_view input) {
  const testsupport::TempDir dir;
  testsupport::write_file(dir / "in", input);
  std::vector<std::string> argv = {"openssl", "cms"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-in", (dir / "in").string(), "-out", (dir / "out").string()});
  const auto r = testsupport::run(argv);
  EXPECT_EQ(r.exit_code, 0) << "openssl cms failed: " << r.out;
  if (r.exit_code != 0) {
    return {};
  }
  return testsupport::read_file(dir / "out");
}

std::string sample_entity() {
  return "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n"
         "Selamat pagi, Bapak dan Ibu. Surat dinas terlampir.\r\n"
         "Terima kasih atas perhatian Anda \xE2\x80\x94 salam hangat.\r\n";
}

FakeTrust pki_trust() {
  FakeTrust t;
  t.anchor_certs.push_back(load_cert(testsupport::pki("root.crt")));
  t.intermediate_certs.push_back(load_cert(testsupport::pki("inter.crt")));
  return t;
}

FakeRevocation pki_revocation() {
  FakeRevocation r;
  auto crl = parse_crl(testsupport::read_file(testsupport::pki("inter.crl")));
  EXPECT_TRUE(crl.has_value());
  if (crl) {
    r.crls.push_back(std::move(*crl));
  }
  auto root_crl = parse_crl(testsupport::read_file(testsupport::pki("root.crl")));
  if (root_crl) {
    r.crls.push_back(std::move(*root_crl));
  }
  r.no_crl = RevocationState::kUnknown;
  return r;
}

Credential pki_credential(std::string_view name) {
  return load_credential(testsupport::pki(std::string(name) + ".crt"),
                         testsupport::pki(std::string(name) + ".key"));
}

std::string sign_by(const std::vector<std::string>& signers, std::string_view from,
                    std::string_view entity, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-sign"};
  for (const auto& s : signers) {
    args.insert(args.end(), {"-signer", testsupport::pki(s + ".crt").string(), "-inkey",
                             testsupport::pki(s + ".key").string()});
  }
  args.insert(args.end(), {"-certfile", testsupport::pki("inter.crt").string()});
  if (!from.empty()) {
    args.insert(args.end(),
                {"-from", std::string(from), "-to", "bob@example.gov", "-subject", "Surat dinas"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return openssl_cms(args, entity);
}

std::string replace_once(std::string s, std::string_view what, std::string_view with) {
  const auto at = s.find(what);
  EXPECT_NE(at, std::string::npos) << "fixture does not contain " << what;
  if (at != std::string::npos) {
    s.replace(at, what.size(), with);
  }
  return s;
}

}  // namespace smime::testing
