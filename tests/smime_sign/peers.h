// Test-only: the test PKI as Credentials, and the three independent S/MIME
// implementations (OpenSSL CLI, GnuPG gpgsm, NSS cmsutil) run on our output.
// Each peer is judged by its output (content, status lines), never by exit code alone.
// The gpgsm home and the NSS database are built once per test binary.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "smime/interfaces.h"

namespace signtest {

// <name>.crt + <name>.key + inter.crt as the chain (plus the root when with_root).
smime::Credential credential(std::string_view name, bool with_root = false);
smime::ossl::Cert cert(std::string_view name);
std::vector<smime::ossl::Cert> certs(std::initializer_list<const char*> names);

struct PeerResult {
  bool ok = false;
  std::string content;  // the verified / decrypted entity
  std::string log;      // the tool's output, for failure messages
};

// Splits our multipart/signed output into the signed content and the signature DER.
bool split_signed(const std::string& message, std::string& content, std::string& signature_der);
// The DER inside an application/pkcs7-mime message (base64 body).
std::string p7m_der(const std::string& message);
// Header block of a message (up to the blank line), CRLF kept.
std::string headers_of(const std::string& message);
// Body of a message (after the blank line).
std::string body_of(const std::string& message);

PeerResult openssl_verify(const std::string& message);
PeerResult openssl_decrypt(const std::string& message, std::string_view recipient);
std::string openssl_print(const std::string& message);  // `openssl cms -cmsout -print`

PeerResult gpgsm_verify(const std::string& message);
PeerResult gpgsm_decrypt(const std::string& message);  // holds alice and erin (RSA) only

PeerResult nss_verify(const std::string& message);
PeerResult nss_decrypt(const std::string& message);  // holds alice, erin, carol, dave

}  // namespace signtest
