// The SMIMECapabilities (RFC 8551 2.5.2) and SMIMEEncryptionKeyPreference (RFC 8551
// 2.5.3) signed attributes: the ones we emit when signing, and a parser for what a
// correspondent announced, so encryption can follow their client's abilities
// (e.g. AES-GCM only for those who list it: Outlook and older Thunderbird fail on it).
// Ownership: borrows the CMS_SignerInfo; returns plain values.
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <openssl/cms.h>

#include "policy/result.h"

namespace smime {

struct Capabilities {
  bool present = false;  // the signer sent an SMIMECapabilities attribute at all
  bool aes256_gcm = false;
  bool aes128_gcm = false;
  bool aes256_cbc = false;
  bool aes192_cbc = false;
  bool aes128_cbc = false;
  bool des3_cbc = false;
  bool rsa_oaep = false;          // id-RSAES-OAEP key transport
  std::vector<std::string> oids;  // every capability in the sender's order (dotted OIDs)
};

// What the signer of `si` announced (present == false when the attribute is absent or
// does not parse: treat as "unknown", i.e. AES-CBC, RFC 8551 2.7.1).
Capabilities parse_capabilities(const CMS_SignerInfo& si);
// The same from the DER of an SMIMECapabilities SEQUENCE (e.g. kept by the keystore).
policy::Result<Capabilities> parse_capabilities_der(std::string_view der);
// DER of the signer's SMIMECapabilities SEQUENCE ("" when absent), for storing.
std::string capabilities_der(const CMS_SignerInfo& si);

// Adds our SMIMECapabilities, strongest first: AES-256-GCM, AES-128-GCM, AES-256-CBC,
// AES-192-CBC, AES-128-CBC, then RSAES-OAEP when `rsa_key` (we decrypt all of them).
policy::Status add_capabilities(CMS_SignerInfo& si, bool rsa_key);

// Adds SMIMEEncryptionKeyPreference naming `cert` by issuerAndSerialNumber, telling
// correspondents to encrypt to that certificate (RFC 8551 2.5.3).
policy::Status add_encryption_key_preference(CMS_SignerInfo& si, const X509& cert);

// The certificate a signer prefers for encryption: DER of its issuer Name and its
// serial (lowercase hex); both "" when the attribute is absent or not issuerAndSerial.
struct KeyPreference {
  std::string issuer_der;
  std::string serial_hex;
};
KeyPreference parse_encryption_key_preference(const CMS_SignerInfo& si);

}  // namespace smime
