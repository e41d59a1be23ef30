// Small CMS helpers shared by detect, verify and decrypt: bounded DER parsing into an
// owned CMS_ContentInfo, content-type classification, algorithm names, the signing
// time attribute and the content-encryption algorithm of an EnvelopedData.
// Ownership: parse_cms returns an owned handle. Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/result.h"
#include "smime/limits.h"
#include "smime/ossl.h"

namespace smime {

// DER (or BER) ContentInfo. kMalformedInput when it does not parse (empty, truncated,
// garbage), kLimitExceeded when larger than limits.max_message_bytes.
policy::Result<ossl::Cms> parse_cms(std::string_view der, const Limits& limits);

// NID of the outer content type (NID_pkcs7_signed, NID_pkcs7_enveloped,
// NID_id_smime_ct_authEnvelopedData, ...).
int cms_type(const CMS_ContentInfo& cms);

// Short name of an AlgorithmIdentifier ("SHA256", "RSA", "id-ecPublicKey"), "" when null.
std::string algorithm_name(const X509_ALGOR* alg);

// signingTime signed attribute as unix seconds; 0 when absent or unreadable.
std::int64_t signing_time(CMS_SignerInfo* si);

// Lowercase name of the content-encryption algorithm of an (auth)EnvelopedData
// ("aes-256-cbc", "id-aes256-gcm", "des-ede3-cbc", ...); "" when not recognised.
// OpenSSL 3.0 has no getter for it, so the DER is searched for the known OIDs.
std::string content_cipher_name(std::string_view der);

}  // namespace smime
