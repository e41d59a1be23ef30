#include "smime/sign.h"

#include <ctime>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "smime/capabilities.h"
#include "smime/detect.h"
#include "smime/mime.h"
#include "smime/x509.h"

namespace smime {

namespace {

using policy::Errc;
using policy::unexpected;

const EVP_MD* digest_md(Digest d) {
  switch (d) {
    case Digest::kSha384:
      return ::EVP_sha384();
    case Digest::kSha512:
      return ::EVP_sha512();
    case Digest::kSha256:
      break;
  }
  return ::EVP_sha256();
}

bool is_rsa(const EVP_PKEY& key) {
  return ::EVP_PKEY_get_id(&key) == EVP_PKEY_RSA;
}
bool is_classic(const EVP_PKEY& key) {
  return is_rsa(key) || ::EVP_PKEY_get_id(&key) == EVP_PKEY_EC;
}

std::string key_name(const EVP_PKEY& key) {
  const char* name = ::EVP_PKEY_get0_type_name(&key);
  return name != nullptr ? name : "unknown";
}

// Failures with a key type outside RSA/ECDSA mean this OpenSSL cannot do it in CMS
// (OpenSSL 3.0 has no CMS support for Ed25519, RFC 8419): say so, do not blame the key.
policy::Error sign_error(const EVP_PKEY& key, std::string_view what) {
  if (!is_classic(key)) {
    ossl::drain_errors();
    return unexpected(Errc::kUnsupportedAlgorithm, "OpenSSL " + std::string(OPENSSL_VERSION_TEXT) +
                                                       " cannot sign CMS with a " + key_name(key) +
                                                       " key");
  }
  return unexpected(Errc::kCrypto, ossl::error_text(what));
}

policy::Status check_signer(const Credential& signer) {
  if (!signer.cert || !signer.key) {
    return unexpected(Errc::kInvalidArgument, "signer certificate or private key missing");
  }
  if (!key_matches(*signer.cert, *signer.key)) {
    return unexpected(Errc::kInvalidArgument, "private key does not match the signer certificate");
  }
  const CertInfo info = inspect(*signer.cert);
  if (!fit_for_signing(info)) {
    return unexpected(Errc::kInvalidArgument, "certificate " + info.subject +
                                                  " is not fit for e-mail signing (keyUsage/EKU)");
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (info.not_after < now || info.not_before > now) {
    return unexpected(Errc::kExpired,
                      "signer certificate " + info.subject + " is outside its validity");
  }
  return {};
}

policy::Status set_pss(CMS_SignerInfo& si) {
  EVP_PKEY_CTX* pctx = ::CMS_SignerInfo_get0_pkey_ctx(&si);  // borrowed
  if (pctx == nullptr || ::EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
      ::EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot select RSASSA-PSS"));
  }
  return {};
}

// The signed attributes beyond those CMS adds itself (content type, digest, time).
policy::Status add_attributes(CMS_SignerInfo& si, const Credential& signer) {
  if (auto st = add_capabilities(si, is_rsa(*signer.key)); !st) {
    return st;
  }
  if (fit_for_encryption(inspect(*signer.cert))) {
    return add_encryption_key_preference(si, *signer.cert);
  }
  return {};
}

policy::Status add_chain(CMS_ContentInfo& cms, const Credential& signer) {
  for (const auto& cert : signer.chain) {
    // Never the root (clients warn, and a root in the message proves nothing).
    if (!cert || ::X509_check_issued(cert.get(), cert.get()) == X509_V_OK) {
      continue;
    }
    if (::CMS_add1_cert(&cms, cert.get()) != 1) {
      return unexpected(Errc::kCrypto, ossl::error_text("cannot add an intermediate certificate"));
    }
  }
  return {};
}

// Signs the content read from `in` (to its end); DER of the CMS.
policy::Result<std::string> cms_sign(BIO& in, const Credential& signer,
                                     const SignOptions& options) {
  const unsigned detached = options.opaque ? 0U : CMS_DETACHED;
  ossl::Cms cms(
      ::CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_PARTIAL | CMS_BINARY | detached));
  if (!cms) {
    return unexpected(Errc::kCrypto, ossl::error_text("CMS_sign"));
  }
  const bool pss = options.rsa_padding == RsaPadding::kPss && is_rsa(*signer.key);
  const unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP | (pss ? CMS_KEY_PARAM : 0U);
  CMS_SignerInfo* si = ::CMS_add1_signer(cms.get(), signer.cert.get(), signer.key.get(),
                                         digest_md(options.digest), flags);  // owned by cms
  if (si == nullptr) {
    return sign_error(*signer.key, "cannot add the signer");
  }
  if (pss) {
    if (auto st = set_pss(*si); !st) {
      return st.error();
    }
  }
  if (auto st = add_attributes(*si, signer); !st) {
    return st.error();
  }
  if (auto st = add_chain(*cms, signer); !st) {
    return st.error();
  }
  if (::CMS_final(cms.get(), &in, nullptr, CMS_BINARY) != 1) {
    return sign_error(*signer.key, "signing failed");
  }
  ossl::Bio out = ossl::mem_buffer();
  if (!out || ::i2d_CMS_bio(out.get(), cms.get()) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot encode the signature"));
  }
  return ossl::bio_contents(out.get());
}

policy::Status check_not_protected(std::string_view message, const SplitMessage& split) {
  // detect.h is the canonical detector; the local header check also catches any
  // multipart/signed (e.g. PGP/MIME) the sender's client made.
  const SmimeKind smime_kind = classify(message);
  const TopLevel kind = top_level_kind(split);
  if (smime_kind != SmimeKind::kNone || kind != TopLevel::kPlain) {
    return unexpected(Errc::kConflict, "message is already signed or encrypted (" +
                                           std::string(smime_kind_name(smime_kind)) +
                                           "); not wrapped again");
  }
  return {};
}

}  // namespace

std::string_view micalg_name(Digest digest) {
  switch (digest) {
    case Digest::kSha384:
      return "sha-384";
    case Digest::kSha512:
      return "sha-512";
    case Digest::kSha256:
      break;
  }
  return "sha-256";
}

policy::Result<std::string> sign_message(std::string_view message, const Credential& signer,
                                         const SignOptions& options) {
  ::ERR_clear_error();
  if (auto st = check_signer(signer); !st) {
    return st.error();
  }
  auto split = split_message(message, options.limits);
  if (!split) {
    return std::move(split).error();
  }
  if (auto st = check_not_protected(message, *split); !st) {
    return st.error();
  }
  auto entity = canonical_entity(*split, options.limits);
  if (!entity) {
    return std::move(entity).error();
  }
  ossl::Bio in = ossl::mem_view(*entity);
  if (!in) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot read the entity"));
  }
  auto der = cms_sign(*in, signer, options);
  if (!der) {
    return std::move(der).error();
  }
  if (options.opaque) {
    return build_pkcs7_mime(split->outer_headers, *der, "signed-data");
  }
  return build_multipart_signed(split->outer_headers, *entity, *der, micalg_name(options.digest));
}

policy::Result<FileMessage> sign_file(std::string_view headers, int body_fd,
                                      const Credential& signer, const SignOptions& options,
                                      const std::filesystem::path& tmpdir) {
  ::ERR_clear_error();
  if (options.opaque) {
    return unexpected(Errc::kInvalidArgument, "sign_file makes detached signatures only");
  }
  if (auto st = check_signer(signer); !st) {
    return st.error();
  }
  auto head = split_file_head(headers, body_fd, options.limits);
  if (!head) {
    return std::move(head).error();
  }
  const SplitMessage& split = head->split;
  if (auto st = check_not_protected(head->text, split); !st) {
    return st.error();
  }
  auto body = TempFile::create(tmpdir);
  if (!body) {
    return std::move(body).error();
  }
  std::string boundary = make_boundary("");
  const std::uint64_t start = multipart_signed_opening(boundary).size();
  if (auto st = body->append(multipart_signed_opening(boundary)); !st) {
    return st.error();
  }
  if (auto st =
          canonical_entity_file(split.content_headers, body_fd, *body, tmpdir, options.limits);
      !st) {
    return st.error();
  }
  // As make_boundary() does for a string: a boundary that occurs in the entity is
  // replaced (same length, so the opening is rewritten in place).
  for (;;) {
    auto found = file_contains(body->fd(), start, boundary);
    if (!found) {
      return std::move(found).error();
    }
    if (!*found) {
      break;
    }
    boundary = make_boundary("");
    if (auto st = body->write_at(0, multipart_signed_opening(boundary)); !st) {
      return st.error();
    }
  }
  ossl::Bio in(::BIO_new_file(body->path().c_str(), "rb"));
  if (!in || BIO_seek(in.get(), static_cast<int>(start)) != 0) {
    return unexpected(Errc::kIo, ossl::error_text("cannot read the canonical entity"));
  }
  auto der = cms_sign(*in, signer, options);
  if (!der) {
    return std::move(der).error();
  }
  if (auto st = body->append(multipart_signed_closing(boundary, *der)); !st) {
    return st.error();
  }
  return FileMessage{
      multipart_signed_headers(split.outer_headers, micalg_name(options.digest), boundary),
      std::move(*body)};
}

}  // namespace smime
