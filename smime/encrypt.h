// S/MIME encryption (RFC 8551 3.3): a full message in, the message with its entity
// (Content-* headers + body) replaced by application/pkcs7-mime out. AES-CBC gives
// EnvelopedData (smime-type=enveloped-data), AES-GCM gives AuthEnvelopedData (RFC 5083,
// smime-type=authEnveloped-data). RSA recipients get key transport (PKCS#1 v1.5 or
// RSAES-OAEP), EC recipients ECDH key agreement. Sign-then-encrypt (RFC 8551 3.7) is
// encrypt_message(sign_message(...)): a signed entity is encrypted byte for byte.
// Ownership: recipient certificates are borrowed. Thread-safety: reentrant.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "smime/capabilities.h"
#include "smime/limits.h"
#include "smime/ossl.h"
#include "smime/temp_file.h"

namespace smime {

enum class Cipher { kAes256Cbc, kAes128Cbc, kAes256Gcm, kAes128Gcm };
enum class KeyTransport { kRsaPkcs1v15, kRsaOaep };

struct EncryptOptions {
  Cipher cipher = Cipher::kAes256Cbc;  // CBC: widest client support (GCM fails in Outlook)
  KeyTransport rsa = KeyTransport::kRsaPkcs1v15;
  // false refuses EC (ECDH/KARI) recipients: NSS 3.87 cannot parse an EnvelopedData
  // holding a KARI RecipientInfo at all, locking out even its RSA recipients.
  bool allow_key_agreement = true;
  Limits limits;
};

// Errors: kInvalidArgument (no recipients, null or unfit certificate, expired),
// kUnsupportedAlgorithm (recipient key neither RSA nor EC, or EC refused by options),
// kConflict (already encrypted), kMalformedInput / kLimitExceeded (message).
policy::Result<std::string> encrypt_message(std::string_view message,
                                            const std::vector<ossl::Cert>& recipients,
                                            const EncryptOptions& options = {});

// encrypt_message() for a message whose body lives in a file (see sign.h sign_file):
// the same entity encrypted, but the CMS is written as it is made (BER with indefinite
// lengths, CMS_STREAM), through scratch files in `tmpdir`, so memory does not grow
// with the body. Returns the new header block and body file. Same errors, plus kIo.
policy::Result<FileMessage> encrypt_file(std::string_view headers, int body_fd,
                                         const std::vector<ossl::Cert>& recipients,
                                         const EncryptOptions& options,
                                         const std::filesystem::path& tmpdir);

// "aes-256-cbc", "aes-128-gcm", ...
std::string_view cipher_name(Cipher cipher);

// The strongest cipher every one of `peers` announced; AES-256-CBC when any of them
// announced nothing (RFC 8551 2.7.1). GCM only when `allow_gcm` (admin choice).
Cipher choose_cipher(const std::vector<Capabilities>& peers, bool allow_gcm);

}  // namespace smime
