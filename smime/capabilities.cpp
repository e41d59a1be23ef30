#include "smime/capabilities.h"

#include <array>
#include <memory>

#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "smime/ossl.h"

namespace smime {

namespace {

using policy::Errc;
using policy::unexpected;

struct AlgorStackFree {
  void operator()(STACK_OF(X509_ALGOR) * s) const noexcept {
    sk_X509_ALGOR_pop_free(s, X509_ALGOR_free);
  }
};
using AlgorStack = std::unique_ptr<STACK_OF(X509_ALGOR), AlgorStackFree>;
using Name = ossl::Ptr<X509_NAME, X509_NAME_free>;
struct OpenSslFree {
  void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
};
using OpenSslBytes = std::unique_ptr<unsigned char, OpenSslFree>;

// Raw encoding of the first value of signed attribute `nid` ("" when absent).
std::string attribute_bytes(const CMS_SignerInfo& si, int nid) {
  const int idx = ::CMS_signed_get_attr_by_NID(&si, nid, -1);
  if (idx < 0) {
    return {};
  }
  X509_ATTRIBUTE* attr = ::CMS_signed_get_attr(&si, idx);  // borrowed
  ASN1_TYPE* value = attr != nullptr ? ::X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
  if (value == nullptr || (value->type != V_ASN1_SEQUENCE && value->type != V_ASN1_OTHER) ||
      value->value.asn1_string == nullptr) {
    return {};
  }
  const ASN1_STRING* s = value->value.asn1_string;
  return std::string(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(::ASN1_STRING_length(s)));
}

std::string der_length(std::size_t n) {
  if (n < 0x80) {
    return std::string(1, static_cast<char>(n));
  }
  std::string bytes;
  for (std::size_t v = n; v != 0; v >>= 8) {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xffU));
  }
  return std::string(1, static_cast<char>(0x80U | bytes.size())) + bytes;
}

}  // namespace

policy::Result<Capabilities> parse_capabilities_der(std::string_view der) {
  if (der.empty() || der.size() > 65536) {
    return unexpected(Errc::kMalformedInput, "SMIMECapabilities of unusable size");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  AlgorStack algs(::d2i_X509_ALGORS(nullptr, &p, static_cast<long>(der.size())));
  if (!algs) {
    return unexpected(Errc::kMalformedInput, ossl::error_text("SMIMECapabilities does not parse"));
  }
  Capabilities caps;
  caps.present = true;
  for (int i = 0; i < sk_X509_ALGOR_num(algs.get()); ++i) {
    const ASN1_OBJECT* obj = nullptr;
    ::X509_ALGOR_get0(&obj, nullptr, nullptr, sk_X509_ALGOR_value(algs.get(), i));
    std::array<char, 96> buf{};
    if (::OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1) > 0) {
      caps.oids.emplace_back(buf.data());
    }
    switch (::OBJ_obj2nid(obj)) {
      case NID_aes_256_gcm:
        caps.aes256_gcm = true;
        break;
      case NID_aes_128_gcm:
        caps.aes128_gcm = true;
        break;
      case NID_aes_256_cbc:
        caps.aes256_cbc = true;
        break;
      case NID_aes_192_cbc:
        caps.aes192_cbc = true;
        break;
      case NID_aes_128_cbc:
        caps.aes128_cbc = true;
        break;
      case NID_des_ede3_cbc:
        caps.des3_cbc = true;
        break;
      case NID_rsaesOaep:
        caps.rsa_oaep = true;
        break;
      default:
        break;
    }
  }
  return caps;
}

std::string capabilities_der(const CMS_SignerInfo& si) {
  return attribute_bytes(si, NID_SMIMECapabilities);
}

Capabilities parse_capabilities(const CMS_SignerInfo& si) {
  const std::string der = capabilities_der(si);
  if (der.empty()) {
    return {};
  }
  auto caps = parse_capabilities_der(der);
  ossl::drain_errors();
  return caps ? std::move(caps.value()) : Capabilities{};
}

policy::Status add_capabilities(CMS_SignerInfo& si, bool rsa_key) {
  AlgorStack caps(sk_X509_ALGOR_new_null());
  if (!caps) {
    return unexpected(Errc::kInternal, "out of memory");
  }
  // Strongest first (RFC 8551 2.5.2); AES parameters are absent (RFC 3565 4.1).
  const std::array<int, 5> ciphers{NID_aes_256_gcm, NID_aes_128_gcm, NID_aes_256_cbc,
                                   NID_aes_192_cbc, NID_aes_128_cbc};
  for (const int nid : ciphers) {
    if (::PKCS7_simple_smimecap(caps.get(), nid, -1) != 1) {
      return unexpected(Errc::kCrypto, ossl::error_text("cannot build SMIMECapabilities"));
    }
  }
  if (rsa_key && ::PKCS7_simple_smimecap(caps.get(), NID_rsaesOaep, -1) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot build SMIMECapabilities"));
  }
  if (::CMS_add_smimecap(&si, caps.get()) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot add SMIMECapabilities"));
  }
  return {};
}

policy::Status add_encryption_key_preference(CMS_SignerInfo& si, const X509& cert) {
  // SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0] IMPLICIT
  // IssuerAndSerialNumber, ... } (RFC 8551 2.5.3, module with IMPLICIT TAGS).
  unsigned char* name_der = nullptr;
  const int name_len = ::i2d_X509_NAME(::X509_get_issuer_name(&cert), &name_der);
  const OpenSslBytes name_owner(name_der);
  unsigned char* serial_der = nullptr;
  const int serial_len = ::i2d_ASN1_INTEGER(::X509_get0_serialNumber(&cert), &serial_der);
  const OpenSslBytes serial_owner(serial_der);
  if (name_len <= 0 || serial_len <= 0) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot encode issuerAndSerialNumber"));
  }
  std::string content(reinterpret_cast<const char*>(name_der), static_cast<std::size_t>(name_len));
  content.append(reinterpret_cast<const char*>(serial_der), static_cast<std::size_t>(serial_len));
  const std::string value = std::string(1, '\xa0') + der_length(content.size()) + content;
  if (::CMS_signed_add1_attr_by_NID(&si, NID_id_smime_aa_encrypKeyPref, V_ASN1_SEQUENCE,
                                    value.data(), static_cast<int>(value.size())) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot add SMIMEEncryptionKeyPreference"));
  }
  return {};
}

KeyPreference parse_encryption_key_preference(const CMS_SignerInfo& si) {
  const std::string raw = attribute_bytes(si, NID_id_smime_aa_encrypKeyPref);
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0xa0) {
    return {};
  }
  // Skip the [0] tag and its length; the rest is Name followed by INTEGER.
  std::size_t pos = 1;
  const auto first = static_cast<unsigned char>(raw[pos++]);
  if ((first & 0x80U) != 0) {
    pos += first & 0x7fU;
  }
  if (pos >= raw.size()) {
    return {};
  }
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data() + pos);
  const unsigned char* const start = p;
  Name name(::d2i_X509_NAME(nullptr, &p, static_cast<long>(raw.size() - pos)));
  if (!name) {
    ossl::drain_errors();
    return {};
  }
  const auto used = static_cast<std::size_t>(p - start);
  ossl::Asn1Int serial(::d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(raw.size() - pos - used)));
  if (!serial) {
    ossl::drain_errors();
    return {};
  }
  ossl::BigNum bn(::ASN1_INTEGER_to_BN(serial.get(), nullptr));
  if (!bn) {
    return {};
  }
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  ::BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  KeyPreference pref;
  pref.issuer_der = std::string(reinterpret_cast<const char*>(start), used);
  pref.serial_hex =
      bytes.empty() ? std::string("00")
                    : ossl::hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return pref;
}

}  // namespace smime
