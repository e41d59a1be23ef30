// Recognises S/MIME at the top level of a message without opening it: multipart/signed
// (application/(x-)pkcs7-signature), application/(x-)pkcs7-mime by smime-type, the
// same labelled application/octet-stream with a smime.p7m / smime.p7s name, a
// pkcs7-mime part without smime-type (the CMS content type decides) and a bare DER
// file. Used to avoid wrapping a client-protected message again and to pick
// verify/decrypt. Thread-safety: pure function.
#pragma once

#include <string_view>

namespace smime {

enum class SmimeKind {
  kNone,
  kSigned,
  kOpaqueSigned,
  kEnveloped,
  kAuthEnveloped,
  kCertsOnly,
  kUnknownPkcs7
};

SmimeKind classify(std::string_view message);

// "none", "signed", "opaque-signed", "enveloped", "auth-enveloped", "certs-only", "unknown-pkcs7".
std::string_view smime_kind_name(SmimeKind kind);

}  // namespace smime
