#include "smime/verify.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include <openssl/err.h>

#include "smime/chain.h"
#include "smime/parse_cms.h"
#include "smime/parse_mime.h"
#include "smime/x509.h"

namespace smime {
namespace {

using policy::Errc;

// RFC 7281 result for a failed check (table in smime/README.verify.md).
AuthResult result_for(Errc e) {
  switch (e) {
    case Errc::kBadSignature:
    case Errc::kUntrustedChain:
    case Errc::kRevoked:
      return AuthResult::kFail;
    case Errc::kExpired:
    case Errc::kSenderMismatch:
      return AuthResult::kPolicy;
    case Errc::kUnsupportedAlgorithm:
      return AuthResult::kNeutral;
    case Errc::kMalformedInput:
    case Errc::kLimitExceeded:
      return AuthResult::kPermError;
    default:
      return AuthResult::kTempError;  // revocation unknown, store unavailable, internal
  }
}

std::string reason_for(Errc e) {
  if (e == Errc::kUnavailable) {
    return "revocation-unknown";  // the revocation store could not answer
  }
  return std::string(policy::errc_name(e));
}

void fail(SignerReport& s, Errc e, std::string detail) {
  s.result = result_for(e);
  s.reason = reason_for(e);
  s.detail = std::move(detail);
}

// True when the last OpenSSL error says the algorithm is not available here.
bool unsupported_error() {
  const unsigned long err = ::ERR_peek_last_error();
  const int reason = ERR_GET_REASON(err);
  return reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == ERR_R_UNSUPPORTED ||
         reason == CMS_R_UNKNOWN_DIGEST_ALGORITHM || reason == CMS_R_UNSUPPORTED_CONTENT_TYPE ||
         reason == EVP_R_OPERATION_NOT_SUPPORTED_FOR_THIS_KEYTYPE;
}

struct Layer {
  std::vector<SignerReport> signers;
  std::string content;  // encapsulated content (opaque signatures only)
};

bool all_bad_signatures(const Layer& layer) {
  for (const auto& s : layer.signers) {
    if (s.reason != "bad-signature") {
      return false;
    }
  }
  return true;
}

struct Walker {
  TrustStore& trust;
  RevocationChecker& revocation;
  const VerifyOptions& opt;
  bool trust_loaded = false;
  std::vector<ossl::Cert> anchors;
  std::vector<ossl::Cert> intermediates;
  std::size_t parts = 0;
  int layers = 0;
  VerifyReport report;

  policy::Status load_trust() {
    if (trust_loaded) {
      return {};
    }
    auto a = trust.anchors();
    if (!a) {
      return policy::unexpected(Errc::kUnavailable,
                                "trust store unavailable: " + a.error().detail());
    }
    auto i = trust.intermediates();
    if (!i) {
      return policy::unexpected(Errc::kUnavailable,
                                "trust store unavailable: " + i.error().detail());
    }
    anchors = std::move(*a);
    intermediates = std::move(*i);
    trust_loaded = true;
    return {};
  }

  void check_signer(SignerReport& s, CMS_SignerInfo* si, BIO* digests,
                    const std::vector<ossl::Cert>& untrusted, const std::string& content_error);
  std::vector<ossl::Cert> attach_signer_certs(CMS_ContentInfo* cms) const;
  policy::Status drain(BIO* chain, std::string* out) const;
  policy::Result<Layer> verify_layer(std::string_view der, const std::string* detached);
  void add_layer(Layer layer, std::string content, const std::string& part);
  policy::Status walk(std::string_view raw, std::size_t depth, const std::string& part);
  policy::Status walk_pkcs7(std::string_view der, std::size_t depth, const std::string& part);
};

// `digests` is null when the content could not be digested at all (content_error says why).
void Walker::check_signer(SignerReport& s, CMS_SignerInfo* si, BIO* digests,
                          const std::vector<ossl::Cert>& untrusted,
                          const std::string& content_error) {
  EVP_PKEY* pkey = nullptr;
  X509* signer = nullptr;
  X509_ALGOR* dig = nullptr;
  X509_ALGOR* sig = nullptr;
  ::CMS_SignerInfo_get0_algs(si, &pkey, &signer, &dig, &sig);  // all borrowed
  s.digest_alg = algorithm_name(dig);
  s.signature_alg = algorithm_name(sig);
  s.signing_time = signing_time(si);
  if (signer == nullptr) {
    return fail(s, Errc::kUntrustedChain,
                "signer certificate is neither in the message nor in the trust store");
  }
  s.cert = ossl::share(signer);
  const CertInfo info = inspect(*signer);
  s.subject = info.subject;
  s.issuer = info.issuer;
  s.serial_hex = info.serial_hex;
  s.fingerprint = info.fingerprint_sha256;
  s.emails = info.emails;
  if (digests == nullptr) {
    return fail(s, Errc::kBadSignature, content_error);
  }
  ::ERR_clear_error();
  if (::CMS_signed_get_attr_count(si) >= 0 && ::CMS_SignerInfo_verify(si) != 1) {
    if (unsupported_error()) {
      return fail(s, Errc::kUnsupportedAlgorithm,
                  ossl::error_text("signature algorithm not supported"));
    }
    return fail(s, Errc::kBadSignature,
                ossl::error_text("signature over the signed attributes does not verify"));
  }
  if (::CMS_SignerInfo_verify_content(si, digests) != 1) {
    if (unsupported_error()) {
      return fail(s, Errc::kUnsupportedAlgorithm,
                  ossl::error_text("digest algorithm not supported"));
    }
    return fail(s, Errc::kBadSignature,
                ossl::error_text("content does not match the signature (altered)"));
  }
  s.capabilities = parse_capabilities(*si);
  s.capabilities_der = capabilities_der(*si);
  s.key_preference = parse_encryption_key_preference(*si);
  auto chain =
      verify_chain(*signer, untrusted, anchors, ChainOptions{opt.at_time, X509_PURPOSE_SMIME_SIGN});
  if (!chain) {
    return fail(s, chain.error().code(), chain.error().detail());
  }
  s.chain = std::move(*chain);
  if (const auto rev = check_revocation(s.chain, revocation); !rev) {
    return fail(s, rev.error().code(), rev.error().detail());
  }
  if (!opt.from_address.empty() && !has_email(info, opt.from_address)) {
    return fail(s, Errc::kSenderMismatch,
                info.emails.empty()
                    ? "signer certificate has no e-mail address"
                    : "From address " + opt.from_address + " is not in the signer certificate");
  }
  s.result = AuthResult::kPass;
}

// Signer certificates may come from the message, the store's intermediates or its
// anchors; returns the untrusted helpers for path building (message + intermediates).
std::vector<ossl::Cert> Walker::attach_signer_certs(CMS_ContentInfo* cms) const {
  std::vector<ossl::Cert> untrusted;
  const ossl::CertStack msg_certs(::CMS_get1_certs(cms));
  untrusted.reserve(static_cast<std::size_t>(std::max(0, sk_X509_num(msg_certs.get()))) +
                    intermediates.size());
  for (int i = 0; i < sk_X509_num(msg_certs.get()); ++i) {
    untrusted.push_back(ossl::share(sk_X509_value(msg_certs.get(), i)));
  }
  for (const auto& c : intermediates) {
    untrusted.push_back(ossl::share(c.get()));
  }
  std::vector<ossl::Cert> lookup;  // where signer certificates may be found (not trust)
  lookup.reserve(untrusted.size() + anchors.size());
  for (const auto& c : untrusted) {
    lookup.push_back(ossl::share(c.get()));
  }
  for (const auto& c : anchors) {
    lookup.push_back(ossl::share(c.get()));
  }
  const ossl::CertStack lookup_stack = ossl::make_stack(lookup);
  ::CMS_set1_signers_certs(cms, lookup_stack.get(), 0);
  ::ERR_clear_error();
  return untrusted;
}

// Reads the digest chain to its end (computing the digests); keeps the bytes in `out`
// when given (opaque content), bounded by the message size limit.
policy::Status Walker::drain(BIO* chain, std::string* out) const {
  std::array<char, 16384> buf{};
  for (;;) {
    const int n = ::BIO_read(chain, buf.data(), static_cast<int>(buf.size()));
    if (n <= 0) {
      return {};
    }
    if (out != nullptr) {
      if (out->size() + static_cast<std::size_t>(n) > opt.limits.max_message_bytes) {
        return policy::unexpected(Errc::kLimitExceeded, "signed content exceeds the size limit");
      }
      out->append(buf.data(), static_cast<std::size_t>(n));
    }
  }
}

policy::Result<Layer> Walker::verify_layer(std::string_view der, const std::string* detached) {
  if (auto st = load_trust(); !st) {
    return st.error();
  }
  auto parsed = parse_cms(der, opt.limits);
  if (!parsed) {
    return policy::unexpected(parsed.error().code(), "signature: " + parsed.error().detail());
  }
  CMS_ContentInfo* cms = parsed->get();
  if (cms_type(*cms) != NID_pkcs7_signed) {
    return policy::unexpected(Errc::kMalformedInput, "signature part does not hold SignedData");
  }
  STACK_OF(CMS_SignerInfo)* infos = ::CMS_get0_SignerInfos(cms);  // borrowed
  if (sk_CMS_SignerInfo_num(infos) <= 0) {
    return policy::unexpected(Errc::kMalformedInput, "SignedData has no signer");
  }
  if (detached == nullptr && ::CMS_is_detached(cms) == 1) {
    return policy::unexpected(Errc::kMalformedInput, "opaque signed-data carries no content");
  }
  const std::vector<ossl::Cert> untrusted = attach_signer_certs(cms);
  ossl::Bio content_in = detached != nullptr ? ossl::mem_view(*detached) : ossl::Bio();
  BIO* chain_raw = ::CMS_dataInit(cms, content_in.get());
  Layer layer;
  if (chain_raw == nullptr) {
    // E.g. an empty digestAlgorithms SET (openssl test/smime-eml): the content cannot be
    // digested, so no signer can verify. Reported per signer, like a wrong digest.
    const std::string why = ossl::error_text("the signed content cannot be digested");
    for (int i = 0; i < sk_CMS_SignerInfo_num(infos); ++i) {
      SignerReport s;
      check_signer(s, sk_CMS_SignerInfo_value(infos, i), nullptr, untrusted, why);
      layer.signers.push_back(std::move(s));
    }
    ::ERR_clear_error();
    return layer;
  }
  (void)content_in.release();  // the digest chain now owns it and frees it with itself
  const ossl::Bio digests(chain_raw);
  if (auto st = drain(digests.get(), detached == nullptr ? &layer.content : nullptr); !st) {
    return st.error();
  }
  for (int i = 0; i < sk_CMS_SignerInfo_num(infos); ++i) {
    SignerReport s;
    check_signer(s, sk_CMS_SignerInfo_value(infos, i), digests.get(), untrusted, {});
    layer.signers.push_back(std::move(s));
  }
  ::ERR_clear_error();
  return layer;
}

void Walker::add_layer(Layer layer, std::string content, const std::string& part) {
  const bool first = layers == 0;
  for (auto& s : layer.signers) {
    s.layer = layers;
    s.part = part;
  }
  if (first) {
    const SignerReport* best = &layer.signers.front();
    for (const auto& s : layer.signers) {
      if (s.result == AuthResult::kPass) {
        best = &s;
        break;
      }
    }
    report.result = best->result;
    report.reason = best->reason;
    report.content = std::move(content);
    report.whole_message = part.empty();
  }
  for (auto& s : layer.signers) {
    report.signers.push_back(std::move(s));
  }
  ++layers;
}

std::string child_path(const std::string& part, std::size_t index) {
  return part.empty() ? std::to_string(index) : part + "." + std::to_string(index);
}

policy::Status Walker::walk_pkcs7(std::string_view der, std::size_t depth,
                                  const std::string& part) {
  auto parsed = parse_cms(der, opt.limits);
  if (!parsed) {
    return parsed.error();
  }
  const int type = cms_type(**parsed);
  if (type == NID_pkcs7_enveloped || type == NID_id_smime_ct_authEnvelopedData) {
    ++report.encrypted_parts;
    return {};
  }
  if (type != NID_pkcs7_signed ||
      sk_CMS_SignerInfo_num(::CMS_get0_SignerInfos(parsed->get())) <= 0) {
    return {};  // certs-only, data, compressed...: nothing to verify
  }
  auto layer = verify_layer(der, nullptr);
  if (!layer) {
    return layer.error();
  }
  std::string inner = std::move(layer->content);
  add_layer(std::move(*layer), inner, part);  // exactly the bytes that were signed
  return walk(inner, depth + 1, part);
}

policy::Status Walker::walk(std::string_view raw, std::size_t depth, const std::string& part) {
  if (depth > opt.limits.max_mime_depth) {
    return policy::unexpected(Errc::kLimitExceeded, "MIME nesting deeper than " +
                                                        std::to_string(opt.limits.max_mime_depth));
  }
  if (++parts > opt.limits.max_mime_parts) {
    return policy::unexpected(
        Errc::kLimitExceeded,
        "more than " + std::to_string(opt.limits.max_mime_parts) + " MIME parts");
  }
  if (depth == 0 && looks_like_der(raw)) {
    return walk_pkcs7(raw, depth, part);  // bare DER file, no MIME headers
  }
  auto e = parse_raw_entity(raw, opt.limits);
  if (!e) {
    return e.error();
  }
  if (e->type.rfind("multipart/", 0) == 0) {
    auto children = split_multipart(*e);
    if (!children) {
      return children.error();
    }
    if (e->type == "multipart/signed" && children->size() >= 2) {
      auto sig_entity = parse_raw_entity((*children)[1], opt.limits);
      if (!sig_entity) {
        return sig_entity.error();
      }
      if (is_pkcs7_signature(*sig_entity) ||
          e->protocol.find("pkcs7-signature") != std::string::npos) {
        auto der = decode_body(*sig_entity);
        if (!der) {
          return policy::unexpected(der.error().code(), "signature part: " + der.error().detail());
        }
        const std::string content = to_crlf((*children)[0]);
        auto layer = verify_layer(*der, &content);
        if (!layer) {
          return layer.error();
        }
        // RFC 8551 3.1.1 signs the CRLF form; some signers (binary mode) sign the bytes
        // as sent. Only when every signer fails on the digest is the raw form tried.
        std::string verified = content;
        if (std::string as_sent((*children)[0]); as_sent != content && all_bad_signatures(*layer)) {
          auto retry = verify_layer(*der, &as_sent);
          if (retry && !all_bad_signatures(*retry)) {
            layer = std::move(retry);
            verified = std::move(as_sent);
          }
        }
        add_layer(std::move(*layer), std::move(verified), part);
        return walk((*children)[0], depth + 1, child_path(part, 1));
      }
    }
    for (std::size_t i = 0; i < children->size(); ++i) {
      if (auto st = walk((*children)[i], depth + 1, child_path(part, i + 1)); !st) {
        return st;
      }
    }
    return {};
  }
  if (is_pkcs7_mime(*e)) {
    auto der = decode_body(*e);
    if (!der) {
      return der.error();
    }
    return walk_pkcs7(*der, depth, part);
  }
  return {};  // a leaf without S/MIME (message/rfc822 is a different message: not entered)
}

}  // namespace

std::string_view auth_result_name(AuthResult r) {
  switch (r) {
    case AuthResult::kNone:
      return "none";
    case AuthResult::kPass:
      return "pass";
    case AuthResult::kFail:
      return "fail";
    case AuthResult::kNeutral:
      return "neutral";
    case AuthResult::kPolicy:
      return "policy";
    case AuthResult::kTempError:
      return "temperror";
    case AuthResult::kPermError:
      return "permerror";
  }
  return "none";
}

AuthResult auth_result_for_error(policy::Errc e) {
  if (e == Errc::kMalformedInput || e == Errc::kLimitExceeded) {
    return AuthResult::kPermError;
  }
  return AuthResult::kTempError;
}

policy::Result<VerifyReport> verify_message(std::string_view message, TrustStore& trust,
                                            RevocationChecker& revocation,
                                            const VerifyOptions& options) {
  if (message.empty()) {
    return policy::unexpected(Errc::kMalformedInput, "empty message");
  }
  if (message.size() > options.limits.max_message_bytes) {
    return policy::unexpected(Errc::kLimitExceeded,
                              "message of " + std::to_string(message.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(options.limits.max_message_bytes));
  }
  ::ERR_clear_error();
  Walker w{trust, revocation, options, false, {}, {}, 0, 0, {}};
  if (auto st = w.walk(message, 0, ""); !st) {
    ::ERR_clear_error();
    return st.error();
  }
  return std::move(w.report);
}

}  // namespace smime
