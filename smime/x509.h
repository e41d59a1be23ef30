// X.509 parsing and inspection shared by the engine and the keystore: certificates,
// private keys, PKCS#12 bundles, CRLs, and the facts S/MIME needs from them
// (e-mail addresses, key usage, fingerprints). Pure functions over bytes.
// Thread-safety: all functions are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "smime/ossl.h"

namespace smime {

// keyUsage bits (RFC 5280 4.2.1.3), as a plain bitmask.
enum KeyUsageBit : std::uint32_t {
  kKuDigitalSignature = 1U << 0,
  kKuNonRepudiation = 1U << 1,
  kKuKeyEncipherment = 1U << 2,
  kKuDataEncipherment = 1U << 3,
  kKuKeyAgreement = 1U << 4,
  kKuKeyCertSign = 1U << 5,
  kKuCrlSign = 1U << 6,
};

struct CertInfo {
  std::string fingerprint_sha256;   // lowercase hex of SHA-256 over the DER
  std::string subject;              // RFC 2253 one-line form
  std::string issuer;               // RFC 2253 one-line form
  std::string serial_hex;           // lowercase hex
  std::int64_t not_before = 0;      // unix seconds
  std::int64_t not_after = 0;       // unix seconds
  std::vector<std::string> emails;  // SAN rfc822Name + subject emailAddress, lowercased, unique
  std::string key_type;             // "RSA", "EC", "Ed25519", "DSA", ...
  int key_bits = 0;
  std::string curve;               // EC group short name when key_type == "EC"
  bool has_key_usage = false;      // keyUsage extension present
  std::uint32_t key_usage = 0;     // KeyUsageBit mask (meaningful when has_key_usage)
  bool has_ext_key_usage = false;  // extendedKeyUsage present
  bool eku_email_protection = false;
  bool eku_any = false;
  bool is_ca = false;
  bool self_signed = false;
  std::string ski_hex;  // subjectKeyIdentifier, lowercase hex, "" when absent
};

// Parses one certificate, DER or PEM (first PEM block).
policy::Result<ossl::Cert> parse_cert(std::string_view data);
// Parses every certificate in PEM text, or a single DER certificate.
policy::Result<std::vector<ossl::Cert>> parse_certs(std::string_view data);
// Parses a private key, PEM (PKCS#1/PKCS#8, optionally encrypted) or DER.
policy::Result<ossl::PKey> parse_private_key(std::string_view data,
                                             std::string_view passphrase = {});
// Parses a CRL, DER or PEM.
policy::Result<ossl::Crl> parse_crl(std::string_view data);

struct Pkcs12Contents {
  ossl::Cert cert;                // may be null (CA-only bundle)
  ossl::PKey key;                 // may be null
  std::vector<ossl::Cert> extra;  // other certificates in the bundle
};
// Opens a PKCS#12; retries with the legacy provider for RC2/3DES-era files.
// Wrong passphrase -> Errc::kWrongPassphrase; not PKCS#12 -> Errc::kMalformedInput.
policy::Result<Pkcs12Contents> parse_pkcs12(std::string_view der, std::string_view passphrase);

CertInfo inspect(const X509& cert);
// Two fields of inspect() alone, for the per-message paths that need only them
// (inspect() also decodes names, SANs and the public key): "" on error.
std::string fingerprint_sha256(const X509& cert);
std::string serial_hex(const X509& cert);

std::string to_der(const X509& cert);
std::string to_pem(const X509& cert);

// True when the key matches the certificate's public key.
bool key_matches(const X509& cert, const EVP_PKEY& key);

// S/MIME fitness (RFC 8550 4.4): keyUsage, when present, must allow the use; an
// extendedKeyUsage, when present, must include emailProtection or anyExtendedKeyUsage.
bool fit_for_signing(const CertInfo& info);
bool fit_for_encryption(const CertInfo& info);

// True when `email` (case-insensitive) is one of the certificate's addresses.
bool has_email(const CertInfo& info, std::string_view email);

// ASN1_TIME to unix seconds (0 on failure).
std::int64_t to_unix(const ASN1_TIME* t);

}  // namespace smime
