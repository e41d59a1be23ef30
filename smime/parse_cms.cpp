#include "smime/parse_cms.h"

#include <array>
#include <cctype>

#include <climits>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "smime/x509.h"

namespace smime {

policy::Result<ossl::Cms> parse_cms(std::string_view der, const Limits& limits) {
  if (der.empty()) {
    return policy::unexpected(policy::Errc::kMalformedInput, "empty CMS object");
  }
  if (der.size() > limits.max_message_bytes || der.size() >= static_cast<std::size_t>(INT_MAX)) {
    return policy::unexpected(
        policy::Errc::kLimitExceeded,
        "CMS object of " + std::to_string(der.size()) + " bytes exceeds the size limit");
  }
  ::ERR_clear_error();
  const ossl::Bio in = ossl::mem_view(der);
  ossl::Cms cms(::d2i_CMS_bio(in.get(), nullptr));
  if (!cms) {
    return policy::unexpected(policy::Errc::kMalformedInput,
                              ossl::error_text("not a CMS ContentInfo"));
  }
  return cms;
}

int cms_type(const CMS_ContentInfo& cms) {
  return ::OBJ_obj2nid(::CMS_get0_type(&cms));
}

std::string algorithm_name(const X509_ALGOR* alg) {
  if (alg == nullptr) {
    return {};
  }
  const ASN1_OBJECT* obj = nullptr;
  ::X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  const int nid = ::OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    return ::OBJ_nid2sn(nid);
  }
  std::array<char, 128> buf{};
  ::OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  return buf.data();
}

std::int64_t signing_time(CMS_SignerInfo* si) {
  const int idx = ::CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (idx < 0) {
    return 0;
  }
  X509_ATTRIBUTE* attr = ::CMS_signed_get_attr(si, idx);
  const ASN1_TYPE* value = attr == nullptr ? nullptr : ::X509_ATTRIBUTE_get0_type(attr, 0);
  if (value == nullptr ||
      (value->type != V_ASN1_UTCTIME && value->type != V_ASN1_GENERALIZEDTIME)) {
    return 0;
  }
  return to_unix(value->value.utctime);
}

std::string content_cipher_name(std::string_view der) {
  static constexpr std::array<int, 10> kCiphers = {
      NID_aes_256_cbc, NID_aes_192_cbc,  NID_aes_128_cbc, NID_aes_256_gcm, NID_aes_192_gcm,
      NID_aes_128_gcm, NID_des_ede3_cbc, NID_rc2_cbc,     NID_des_cbc,     NID_aes_128_ccm};
  std::size_t best = std::string_view::npos;
  std::string name;
  for (const int nid : kCiphers) {
    const ASN1_OBJECT* obj = ::OBJ_nid2obj(nid);
    const unsigned char* data = obj == nullptr ? nullptr : ::OBJ_get0_data(obj);
    const std::size_t len = obj == nullptr ? 0 : ::OBJ_length(obj);
    if (data == nullptr || len == 0 || len > 126) {
      continue;
    }
    std::string pattern;
    pattern.push_back(0x06);  // OBJECT IDENTIFIER tag, short length
    pattern.push_back(static_cast<char>(len));
    pattern.append(reinterpret_cast<const char*>(data), len);
    const std::size_t at = der.find(pattern);
    if (at < best) {
      best = at;
      name = ::OBJ_nid2sn(nid);
    }
  }
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

}  // namespace smime
