#include "smime/decrypt.h"

#include <optional>
#include <utility>
#include <vector>

#include <openssl/err.h>

#include "smime/parse_cms.h"
#include "smime/parse_mime.h"
#include "smime/x509.h"

namespace smime {
namespace {

using policy::Errc;

struct Found {
  std::string_view range;  // the enveloped entity inside the message
  std::string der;
  // Reached from the top only through the first part of multipart/signed layers
  // (encrypt-then-sign, RFC 8551 3.7): the decrypted entity becomes the whole message.
  bool signed_chain = false;
  std::vector<std::string> boundaries;  // of the enclosing multiparts
};

struct Finder {
  const Limits& limits;
  std::size_t parts = 0;
  std::vector<Found> found;
  std::vector<std::string> boundaries;

  policy::Status walk(std::string_view raw, std::size_t depth, bool signed_chain) {
    if (depth > limits.max_mime_depth) {
      return policy::unexpected(Errc::kLimitExceeded, "MIME nesting deeper than " +
                                                          std::to_string(limits.max_mime_depth));
    }
    if (++parts > limits.max_mime_parts) {
      return policy::unexpected(
          Errc::kLimitExceeded,
          "more than " + std::to_string(limits.max_mime_parts) + " MIME parts");
    }
    if (depth == 0 && looks_like_der(raw)) {
      return consider(raw, std::string(raw), signed_chain);
    }
    auto e = parse_raw_entity(raw, limits);
    if (!e) {
      return e.error();
    }
    if (e->type.rfind("multipart/", 0) == 0) {
      auto children = split_multipart(*e);
      if (!children) {
        return children.error();
      }
      boundaries.push_back(e->boundary);
      for (std::size_t i = 0; i < children->size(); ++i) {
        const bool chain = signed_chain && i == 0 && e->type == "multipart/signed";
        if (auto st = walk((*children)[i], depth + 1, chain); !st) {
          return st;
        }
      }
      boundaries.pop_back();
      return {};
    }
    if (!is_pkcs7_mime(*e)) {
      return {};
    }
    auto der = decode_body(*e);
    if (!der) {
      return der.error();
    }
    return consider(raw, std::move(*der), signed_chain);
  }

  policy::Status consider(std::string_view raw, std::string der, bool signed_chain) {
    auto cms = parse_cms(der, limits);
    if (!cms) {
      return cms.error();
    }
    const int type = cms_type(**cms);
    if (type == NID_pkcs7_enveloped || type == NID_id_smime_ct_authEnvelopedData) {
      found.push_back(Found{raw, std::move(der), signed_chain, boundaries});
    }
    return {};
  }
};

// True when `entity` holds a delimiter line of an enclosing multipart: splicing it in
// would change the structure around it.
bool collides(std::string_view entity, const std::vector<std::string>& boundaries) {
  for (const auto& b : boundaries) {
    const std::string delim = "--" + b;
    if (entity.rfind(delim, 0) == 0 || entity.find("\n" + delim) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  std::string out;
  const ossl::BigNum bn(serial == nullptr ? nullptr : ::ASN1_INTEGER_to_BN(serial, nullptr));
  char* h = bn ? ::BN_bn2hex(bn.get()) : nullptr;  // freed just below
  if (h != nullptr) {
    out = h;
    ::OPENSSL_free(h);
  }
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

CertId make_id(const ASN1_OCTET_STRING* keyid, const X509_NAME* issuer,
               const ASN1_INTEGER* serial) {
  CertId id;
  if (keyid != nullptr) {
    id.ski_hex = ossl::hex(::ASN1_STRING_get0_data(keyid),
                           static_cast<std::size_t>(::ASN1_STRING_length(keyid)));
  }
  if (issuer != nullptr) {
    unsigned char* der = nullptr;
    const int len = ::i2d_X509_NAME(issuer, &der);
    if (len > 0 && der != nullptr) {
      id.issuer_der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    }
    ::OPENSSL_free(der);
  }
  id.serial_hex = serial_hex(serial);
  return id;
}

// The identifiers of every recipient (KTRI and each KARI recipientEncryptedKey).
std::vector<CertId> recipient_ids(CMS_ContentInfo* cms) {
  std::vector<CertId> ids;
  STACK_OF(CMS_RecipientInfo)* ris = ::CMS_get0_RecipientInfos(cms);  // borrowed
  for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); ++i) {
    CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(ris, i);
    ASN1_OCTET_STRING* keyid = nullptr;
    X509_NAME* issuer = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (::CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS) {
      if (::CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &serial) == 1) {
        ids.push_back(make_id(keyid, issuer, serial));
      }
    } else if (::CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE) {
      STACK_OF(CMS_RecipientEncryptedKey)* reks = ::CMS_RecipientInfo_kari_get0_reks(ri);
      for (int k = 0; k < sk_CMS_RecipientEncryptedKey_num(reks); ++k) {
        ASN1_GENERALIZEDTIME* date = nullptr;
        CMS_OtherKeyAttribute* other = nullptr;
        if (::CMS_RecipientEncryptedKey_get0_id(sk_CMS_RecipientEncryptedKey_value(reks, k), &keyid,
                                                &date, &other, &issuer, &serial) == 1) {
          ids.push_back(make_id(keyid, issuer, serial));
        }
      }
    }
  }
  ::ERR_clear_error();
  return ids;
}

// True when one of the RecipientInfos names `cert`.
bool addressed_to(CMS_ContentInfo* cms, X509* cert) {
  STACK_OF(CMS_RecipientInfo)* ris = ::CMS_get0_RecipientInfos(cms);
  for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); ++i) {
    CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(ris, i);
    if (::CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS &&
        ::CMS_RecipientInfo_ktri_cert_cmp(ri, cert) == 0) {
      return true;
    }
    if (::CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE) {
      STACK_OF(CMS_RecipientEncryptedKey)* reks = ::CMS_RecipientInfo_kari_get0_reks(ri);
      for (int k = 0; k < sk_CMS_RecipientEncryptedKey_num(reks); ++k) {
        if (::CMS_RecipientEncryptedKey_cert_cmp(sk_CMS_RecipientEncryptedKey_value(reks, k),
                                                 cert) == 0) {
          return true;
        }
      }
    }
  }
  return false;
}

struct Opened {
  std::string entity;
  std::string fingerprint;
};

// CMS_decrypt with the certificate, so only RecipientInfos naming it are tried (no MMA
// random-key fallback). A fresh parse per attempt keeps failed attempts independent.
policy::Result<Opened> open_with(std::string_view der, const Credential& cred,
                                 const Limits& limits) {
  auto cms = parse_cms(der, limits);
  if (!cms) {
    return cms.error();
  }
  ::ERR_clear_error();
  const ossl::Bio out = ossl::mem_buffer();
  if (::CMS_decrypt(cms->get(), cred.key.get(), cred.cert.get(), nullptr, out.get(), 0) != 1) {
    return policy::unexpected(
        Errc::kCrypto, ossl::error_text("decryption with our key failed (corrupt or tampered)"));
  }
  return Opened{ossl::bio_contents(out.get()), inspect(*cred.cert).fingerprint_sha256};
}

policy::Result<Opened> open(std::string_view der, KeyProvider& keys, const Limits& limits) {
  auto cms = parse_cms(der, limits);
  if (!cms) {
    return cms.error();
  }
  // RC2 and single DES need OpenSSL's legacy provider and are broken: refused, so the
  // outcome does not depend on whether some earlier call loaded that provider.
  if (const std::string cipher = content_cipher_name(der);
      cipher == "rc2-cbc" || cipher == "des-cbc") {
    return policy::unexpected(Errc::kUnsupportedAlgorithm,
                              "content encryption " + cipher + " is refused (legacy, weak)");
  }
  std::optional<policy::Error> last;
  for (const CertId& id : recipient_ids(cms->get())) {
    auto cred = keys.decryption_key(id);
    if (!cred) {
      return policy::unexpected(Errc::kUnavailable,
                                "key store unavailable: " + cred.error().detail());
    }
    if (*cred && (*cred)->cert && (*cred)->key) {
      auto opened = open_with(der, **cred, limits);
      if (opened) {
        return opened;
      }
      last = opened.error();
    }
  }
  auto all = keys.all_decryption_keys();
  if (!all) {
    return policy::unexpected(Errc::kUnavailable, "key store unavailable: " + all.error().detail());
  }
  for (const Credential& cred : *all) {
    if (cred.cert && cred.key && addressed_to(cms->get(), cred.cert.get())) {
      auto opened = open_with(der, cred, limits);
      if (opened) {
        return opened;
      }
      last = opened.error();
    }
  }
  ::ERR_clear_error();
  if (last) {
    return *last;
  }
  return policy::unexpected(Errc::kNoKey, "message is not encrypted for any key we hold");
}

// A decrypted entity without a header block gets an empty one (RFC 2045: text/plain).
std::string as_entity(std::string entity, const Limits& limits) {
  auto e = parse_raw_entity(entity, limits);
  if (e && e->header.empty()) {
    return "\r\n" + entity;
  }
  return entity;
}

// The enveloped entity is the message (or sits only inside signature wrappers, which
// were verified before and cannot survive decryption): outer headers + decrypted entity.
std::string whole_message(std::string_view message, std::string entity, const Limits& limits) {
  if (looks_like_der(message)) {
    return entity;
  }
  auto top = parse_raw_entity(message, limits);
  return outer_headers(top ? top->header : std::string_view()) +
         as_entity(std::move(entity), limits);
}

}  // namespace

policy::Result<DecryptResult> decrypt_message(std::string_view message, KeyProvider& keys,
                                              const DecryptOptions& options) {
  if (message.empty()) {
    return policy::unexpected(Errc::kMalformedInput, "empty message");
  }
  if (message.size() > options.limits.max_message_bytes) {
    return policy::unexpected(Errc::kLimitExceeded,
                              "message of " + std::to_string(message.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(options.limits.max_message_bytes));
  }
  Finder finder{options.limits, 0, {}, {}};
  if (auto st = finder.walk(message, 0, true); !st) {
    return st.error();
  }
  if (finder.found.empty()) {
    return policy::unexpected(Errc::kInvalidArgument, "message holds no enveloped-data");
  }
  DecryptResult result;
  result.authenticated = true;
  std::string out;
  std::size_t pos = 0;  // offset in `message` copied so far
  for (const Found& f : finder.found) {
    auto opened = open(f.der, keys, options.limits);
    if (!opened) {
      return opened.error();
    }
    if (result.layers == 0) {
      result.recipient_fingerprint = opened->fingerprint;
      result.cipher = content_cipher_name(f.der);
    }
    auto cms = parse_cms(f.der, options.limits);
    result.authenticated =
        result.authenticated && cms && cms_type(**cms) == NID_id_smime_ct_authEnvelopedData;
    ++result.layers;
    if (f.signed_chain && finder.found.size() == 1) {
      result.whole_message = true;
      out = whole_message(message, std::move(opened->entity), options.limits);
      pos = message.size();
      break;
    }
    std::string entity = as_entity(std::move(opened->entity), options.limits);
    if (collides(entity, f.boundaries)) {
      return policy::unexpected(Errc::kMalformedInput,
                                "decrypted part contains a boundary of the enclosing multipart");
    }
    const auto start = static_cast<std::size_t>(f.range.data() - message.data());
    out.append(message.substr(pos, start - pos));
    out += entity;
    pos = start + f.range.size();
  }
  out.append(message.substr(std::min(pos, message.size())));
  result.message = std::move(out);
  return result;
}

}  // namespace smime
