#include "smime/x509.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <climits>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

namespace smime {
namespace {

using policy::Errc;
using policy::unexpected;

bool looks_pem(std::string_view data) {
  return data.find("-----BEGIN ") != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string name_oneline(const X509_NAME* name) {
  ossl::Bio bio = ossl::mem_buffer();
  if (!bio || name == nullptr) {
    return {};
  }
  ::X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return ossl::bio_contents(bio.get());
}

std::string asn1_string(const ASN1_STRING* s) {
  if (s == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
          static_cast<size_t>(::ASN1_STRING_length(s))};
}

void add_email(std::vector<std::string>& emails, std::string_view e) {
  if (e.empty()) {
    return;
  }
  std::string l = lower(e);
  if (std::find(emails.begin(), emails.end(), l) == emails.end()) {
    emails.push_back(std::move(l));
  }
}

bool input_fits(std::string_view data) {
  return !data.empty() && data.size() < static_cast<size_t>(INT_MAX);
}

}  // namespace

std::int64_t to_unix(const ASN1_TIME* t) {
  if (t == nullptr) {
    return 0;
  }
  struct tm tm {};
  if (::ASN1_TIME_to_tm(t, &tm) != 1) {
    return 0;
  }
  return static_cast<std::int64_t>(::timegm(&tm));
}

policy::Result<ossl::Cert> parse_cert(std::string_view data) {
  ::ERR_clear_error();
  if (!input_fits(data)) {
    return unexpected(Errc::kMalformedInput, "certificate: empty or oversized input");
  }
  ossl::Bio bio = ossl::mem_view(data);
  ossl::Cert cert(looks_pem(data) ? ::PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                  : ::d2i_X509_bio(bio.get(), nullptr));
  if (!cert) {
    return unexpected(Errc::kMalformedInput, ossl::error_text("certificate does not parse"));
  }
  return cert;
}

policy::Result<std::vector<ossl::Cert>> parse_certs(std::string_view data) {
  ::ERR_clear_error();
  if (!input_fits(data)) {
    return unexpected(Errc::kMalformedInput, "certificates: empty or oversized input");
  }
  std::vector<ossl::Cert> out;
  if (!looks_pem(data)) {
    auto one = parse_cert(data);
    if (!one) {
      return std::move(one).error();
    }
    out.push_back(std::move(*one));
    return out;
  }
  ossl::Bio bio = ossl::mem_view(data);
  while (true) {
    ossl::Cert c(::PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c) {
      break;
    }
    out.push_back(std::move(c));
  }
  ::ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) {
    return unexpected(Errc::kMalformedInput, "no certificate in PEM input");
  }
  return out;
}

policy::Result<ossl::PKey> parse_private_key(std::string_view data, std::string_view passphrase) {
  ::ERR_clear_error();
  if (!input_fits(data)) {
    return unexpected(Errc::kMalformedInput, "private key: empty or oversized input");
  }
  std::string pass(passphrase);
  ossl::Bio bio = ossl::mem_view(data);
  ossl::PKey key(looks_pem(data) ? ::PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr,
                                                             pass.empty() ? nullptr : pass.data())
                                 : ::d2i_PrivateKey_bio(bio.get(), nullptr));
  ::OPENSSL_cleanse(pass.data(), pass.size());
  if (!key) {
    const std::string errs = ossl::drain_errors();
    if (errs.find("bad decrypt") != std::string::npos) {
      return unexpected(Errc::kWrongPassphrase, "private key: wrong passphrase");
    }
    return unexpected(Errc::kMalformedInput, "private key does not parse: " + errs);
  }
  return key;
}

policy::Result<ossl::Crl> parse_crl(std::string_view data) {
  ::ERR_clear_error();
  if (!input_fits(data)) {
    return unexpected(Errc::kMalformedInput, "CRL: empty or oversized input");
  }
  ossl::Bio bio = ossl::mem_view(data);
  ossl::Crl crl(looks_pem(data) ? ::PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)
                                : ::d2i_X509_CRL_bio(bio.get(), nullptr));
  if (!crl) {
    return unexpected(Errc::kMalformedInput, ossl::error_text("CRL does not parse"));
  }
  return crl;
}

policy::Result<Pkcs12Contents> parse_pkcs12(std::string_view der, std::string_view passphrase) {
  ::ERR_clear_error();
  if (!input_fits(der)) {
    return unexpected(Errc::kMalformedInput, "PKCS#12: empty or oversized input");
  }
  ossl::Bio bio = ossl::mem_view(der);
  ossl::P12 p12(::d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) {
    return unexpected(Errc::kMalformedInput, ossl::error_text("not a PKCS#12 file"));
  }
  std::string pass(passphrase);
  if (::PKCS12_verify_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size())) != 1) {
    ::OPENSSL_cleanse(pass.data(), pass.size());
    ::ERR_clear_error();
    return unexpected(Errc::kWrongPassphrase, "PKCS#12: wrong passphrase (MAC check failed)");
  }
  auto attempt = [&](Pkcs12Contents& out) {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    const int ok = ::PKCS12_parse(p12.get(), pass.c_str(), &key, &cert, &ca);
    out.key.reset(key);
    out.cert.reset(cert);
    ossl::CertStack stack(ca);
    out.extra.clear();
    while (stack && sk_X509_num(stack.get()) > 0) {
      out.extra.emplace_back(sk_X509_shift(stack.get()));
    }
    return ok == 1;
  };
  Pkcs12Contents out;
  bool ok = attempt(out);
  if (!ok) {
    // RC2-40 (MimeKit) and similar need OpenSSL's legacy provider.
    ::ERR_clear_error();
    if (ossl::ensure_legacy_provider()) {
      ok = attempt(out);
    }
  }
  ::OPENSSL_cleanse(pass.data(), pass.size());
  if (!ok) {
    return unexpected(Errc::kMalformedInput,
                      ossl::error_text("PKCS#12 could not be decoded (unsupported encryption?)"));
  }
  return out;
}

std::string fingerprint_sha256(const X509& cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (::X509_digest(&cert, ::EVP_sha256(), md, &md_len) != 1) {
    ::ERR_clear_error();
    return {};
  }
  return ossl::hex(md, md_len);
}

std::string serial_hex(const X509& cert) {
  const ASN1_INTEGER* serial = ::X509_get0_serialNumber(&cert);
  if (serial == nullptr) {
    return {};
  }
  ossl::BigNum bn(::ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    ::ERR_clear_error();
    return {};
  }
  char* h = ::BN_bn2hex(bn.get());
  if (h == nullptr) {
    return {};
  }
  std::string out = lower(h);
  ::OPENSSL_free(h);
  return out;
}

CertInfo inspect(const X509& cert_ref) {
  auto* cert = const_cast<X509*>(&cert_ref);  // OpenSSL 3.0 getters are not all const
  CertInfo info;
  info.fingerprint_sha256 = fingerprint_sha256(*cert);
  info.subject = name_oneline(::X509_get_subject_name(cert));
  info.issuer = name_oneline(::X509_get_issuer_name(cert));
  info.serial_hex = serial_hex(*cert);
  info.not_before = to_unix(::X509_get0_notBefore(cert));
  info.not_after = to_unix(::X509_get0_notAfter(cert));

  ossl::GeneralNames sans(static_cast<GENERAL_NAMES*>(
      ::X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type == GEN_EMAIL) {
      add_email(info.emails, asn1_string(gn->d.rfc822Name));
    }
  }
  const X509_NAME* subj = ::X509_get_subject_name(cert);
  for (int idx = ::X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, -1); idx >= 0;
       idx = ::X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, idx)) {
    add_email(info.emails,
              asn1_string(::X509_NAME_ENTRY_get_data(::X509_NAME_get_entry(subj, idx))));
  }

  EVP_PKEY* pub = ::X509_get0_pubkey(cert);
  if (pub != nullptr) {
    const char* tn = ::EVP_PKEY_get0_type_name(pub);
    info.key_type = tn != nullptr ? tn : "unknown";
    if (info.key_type == "rsaEncryption" || info.key_type == "RSA-PSS") {
      info.key_type = "RSA";
    }
    if (info.key_type == "id-ecPublicKey") {
      info.key_type = "EC";
    }
    info.key_bits = ::EVP_PKEY_get_bits(pub);
    if (info.key_type == "EC") {
      char group[64] = {0};
      size_t glen = 0;
      if (::EVP_PKEY_get_group_name(pub, group, sizeof group, &glen) == 1) {
        info.curve.assign(group, glen);
      }
    }
  }
  ::ERR_clear_error();

  const uint32_t flags = ::X509_get_extension_flags(cert);
  info.has_key_usage = (flags & EXFLAG_KUSAGE) != 0;
  if (info.has_key_usage) {
    const uint32_t ku = ::X509_get_key_usage(cert);
    if (ku & KU_DIGITAL_SIGNATURE)
      info.key_usage |= kKuDigitalSignature;
    if (ku & KU_NON_REPUDIATION)
      info.key_usage |= kKuNonRepudiation;
    if (ku & KU_KEY_ENCIPHERMENT)
      info.key_usage |= kKuKeyEncipherment;
    if (ku & KU_DATA_ENCIPHERMENT)
      info.key_usage |= kKuDataEncipherment;
    if (ku & KU_KEY_AGREEMENT)
      info.key_usage |= kKuKeyAgreement;
    if (ku & KU_KEY_CERT_SIGN)
      info.key_usage |= kKuKeyCertSign;
    if (ku & KU_CRL_SIGN)
      info.key_usage |= kKuCrlSign;
  }
  info.has_ext_key_usage = (flags & EXFLAG_XKUSAGE) != 0;
  if (info.has_ext_key_usage) {
    const uint32_t xku = ::X509_get_extended_key_usage(cert);
    info.eku_email_protection = (xku & XKU_SMIME) != 0;
    info.eku_any = (xku & XKU_ANYEKU) != 0;
  }
  info.is_ca = ::X509_check_ca(cert) > 0;
  info.self_signed = (flags & EXFLAG_SS) != 0;
  const ASN1_OCTET_STRING* ski = ::X509_get0_subject_key_id(cert);
  if (ski != nullptr) {
    info.ski_hex =
        ossl::hex(::ASN1_STRING_get0_data(ski), static_cast<size_t>(::ASN1_STRING_length(ski)));
  }
  return info;
}

std::string to_der(const X509& cert) {
  unsigned char* buf = nullptr;
  const int len = ::i2d_X509(&cert, &buf);
  if (len <= 0 || buf == nullptr) {
    return {};
  }
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  ::OPENSSL_free(buf);
  return out;
}

std::string to_pem(const X509& cert) {
  ossl::Bio bio = ossl::mem_buffer();
  if (!bio || ::PEM_write_bio_X509(bio.get(), const_cast<X509*>(&cert)) != 1) {
    return {};
  }
  return ossl::bio_contents(bio.get());
}

bool key_matches(const X509& cert, const EVP_PKEY& key) {
  const int r = ::X509_check_private_key(&cert, &key);
  ::ERR_clear_error();
  return r == 1;
}

namespace {
bool eku_ok(const CertInfo& info) {
  return !info.has_ext_key_usage || info.eku_email_protection || info.eku_any;
}
}  // namespace

bool fit_for_signing(const CertInfo& info) {
  const bool ku_ok =
      !info.has_key_usage || (info.key_usage & (kKuDigitalSignature | kKuNonRepudiation)) != 0;
  return ku_ok && eku_ok(info) && !info.is_ca;
}

bool fit_for_encryption(const CertInfo& info) {
  const std::uint32_t need = info.key_type == "EC" ? kKuKeyAgreement : kKuKeyEncipherment;
  const bool ku_ok = !info.has_key_usage || (info.key_usage & need) != 0;
  return ku_ok && eku_ok(info) && !info.is_ca;
}

bool has_email(const CertInfo& info, std::string_view email) {
  const std::string l = lower(email);
  return std::find(info.emails.begin(), info.emails.end(), l) != info.emails.end();
}

}  // namespace smime
