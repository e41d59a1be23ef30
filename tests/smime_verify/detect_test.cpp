// classify(): what a top-level entity is, from labels and, when unlabelled, the CMS type.
#include "smime/detect.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "helpers.h"

namespace smime::testing {
namespace {

std::string b64(std::string_view der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(der.data()),
                                  static_cast<int>(der.size()));
  out.resize(static_cast<std::size_t>(n));
  return out + "\r\n";
}

std::string with_type(std::string_view content_type, std::string_view body) {
  return "From: a@example.gov\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + std::string(body);
}

TEST(Detect, Classifies) {
  const std::string alice_crt = testsupport::pki("alice.crt").string();
  const std::string alice_key = testsupport::pki("alice.key").string();
  const std::string opaque = b64(openssl_cms(
      {"-sign", "-nodetach", "-outform", "DER", "-signer", alice_crt, "-inkey", alice_key},
      sample_entity()));
  const std::string env = b64(openssl_cms(
      {"-encrypt", "-aes256", "-outform", "DER", "-recip", alice_crt}, sample_entity()));
  const std::string gcm = b64(openssl_cms(
      {"-encrypt", "-aes-256-gcm", "-outform", "DER", "-recip", alice_crt}, sample_entity()));
  const std::string certs = b64(openssl_cms({"-sign", "-nodetach", "-outform", "DER", "-signer",
                                             alice_crt, "-inkey", alice_key, "-nosigs", "-nocerts"},
                                            ""));
  const std::pair<std::string, SmimeKind> cases[] = {
      {sign_by({"alice"}, "alice@example.gov", sample_entity()), SmimeKind::kSigned},
      {sign_by({"alice"}, "alice@example.gov", sample_entity(), {"-nodetach"}),
       SmimeKind::kOpaqueSigned},
      {with_type("application/pkcs7-mime; smime-type=enveloped-data", env), SmimeKind::kEnveloped},
      {with_type("application/pkcs7-mime; smime-type=authEnveloped-data", gcm),
       SmimeKind::kAuthEnveloped},
      {with_type("application/x-pkcs7-mime; smime-type=signed-data", opaque),
       SmimeKind::kOpaqueSigned},
      {with_type("application/pkcs7-mime", opaque),
       SmimeKind::kOpaqueSigned},  // no smime-type: CMS decides
      {with_type("application/pkcs7-mime", gcm), SmimeKind::kAuthEnveloped},
      {with_type("application/octet-stream; name=smime.p7m", env), SmimeKind::kEnveloped},
      {with_type("application/pkcs7-mime; smime-type=certs-only", certs), SmimeKind::kCertsOnly},
      {with_type("application/pkcs7-mime", "bm90IGNtcw=="), SmimeKind::kUnknownPkcs7},
      {with_type("application/octet-stream; name=smime.p7s", opaque), SmimeKind::kUnknownPkcs7},
      {with_type("application/octet-stream; name=report.pdf", env), SmimeKind::kNone},
      {"Content-Type: multipart/signed; boundary=x; "
       "protocol=\"application/x-pkcs7-signature\"\r\n\r\n--x--\r\n",
       SmimeKind::kSigned},
      {"Content-Type: multipart/signed; boundary=x\r\n\r\n--x\r\n\r\na\r\n--x\r\n"
       "Content-Type: application/octet-stream; name=smime.p7s\r\n\r\nAA==\r\n--x--\r\n",
       SmimeKind::kSigned},  // protocol missing, signature part named smime.p7s
      {"Content-Type: multipart/signed; boundary=x; "
       "protocol=\"application/pgp-signature\"\r\n\r\n--x\r\n\r\na\r\n"
       "--x\r\nContent-Type: application/pgp-signature\r\n\r\nsig\r\n--x--\r\n",
       SmimeKind::kNone},
      {"From: a@example.gov\r\nSubject: plain\r\n\r\nhello\r\n", SmimeKind::kNone},
      {"", SmimeKind::kNone},
  };
  for (const auto& [msg, kind] : cases) {
    SCOPED_TRACE(msg.substr(0, 120));
    EXPECT_EQ(smime_kind_name(classify(msg)), smime_kind_name(kind));
  }
}

}  // namespace
}  // namespace smime::testing
