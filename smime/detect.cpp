#include "smime/detect.h"

#include <string>

#include "smime/parse_cms.h"
#include "smime/parse_mime.h"

namespace smime {
namespace {

SmimeKind kind_of_der(std::string_view der, const Limits& limits) {
  auto cms = parse_cms(der, limits);
  if (!cms) {
    return SmimeKind::kUnknownPkcs7;
  }
  switch (cms_type(**cms)) {
    case NID_pkcs7_signed:
      return sk_CMS_SignerInfo_num(::CMS_get0_SignerInfos(cms->get())) > 0
                 ? SmimeKind::kOpaqueSigned
                 : SmimeKind::kCertsOnly;
    case NID_pkcs7_enveloped:
      return SmimeKind::kEnveloped;
    case NID_id_smime_ct_authEnvelopedData:
      return SmimeKind::kAuthEnveloped;
    default:
      return SmimeKind::kUnknownPkcs7;
  }
}

}  // namespace

SmimeKind classify(std::string_view message) {
  const Limits limits;
  if (message.size() > limits.max_message_bytes) {
    return SmimeKind::kNone;
  }
  if (looks_like_der(message)) {
    return kind_of_der(message, limits);
  }
  auto e = parse_raw_entity(message, limits);
  if (!e) {
    return SmimeKind::kNone;
  }
  if (e->type == "multipart/signed") {
    if (e->protocol.find("pkcs7-signature") != std::string::npos) {
      return SmimeKind::kSigned;
    }
    auto parts = split_multipart(*e);
    if (parts && parts->size() >= 2) {
      auto sig = parse_raw_entity((*parts)[1], limits);
      if (sig && is_pkcs7_signature(*sig)) {
        return SmimeKind::kSigned;
      }
    }
    return SmimeKind::kNone;  // e.g. PGP/MIME
  }
  if (is_pkcs7_mime(*e)) {
    if (e->smime_type == "signed-data") {
      return SmimeKind::kOpaqueSigned;
    }
    if (e->smime_type == "enveloped-data") {
      return SmimeKind::kEnveloped;
    }
    if (e->smime_type == "authenveloped-data") {
      return SmimeKind::kAuthEnveloped;
    }
    if (e->smime_type == "certs-only") {
      return SmimeKind::kCertsOnly;
    }
    auto der = decode_body(*e);
    return der ? kind_of_der(*der, limits) : SmimeKind::kUnknownPkcs7;
  }
  if (is_pkcs7_signature(*e)) {
    return SmimeKind::kUnknownPkcs7;  // a detached signature without its content
  }
  return SmimeKind::kNone;
}

std::string_view smime_kind_name(SmimeKind kind) {
  switch (kind) {
    case SmimeKind::kNone:
      return "none";
    case SmimeKind::kSigned:
      return "signed";
    case SmimeKind::kOpaqueSigned:
      return "opaque-signed";
    case SmimeKind::kEnveloped:
      return "enveloped";
    case SmimeKind::kAuthEnveloped:
      return "auth-enveloped";
    case SmimeKind::kCertsOnly:
      return "certs-only";
    case SmimeKind::kUnknownPkcs7:
      return "unknown-pkcs7";
  }
  return "none";
}

}  // namespace smime
