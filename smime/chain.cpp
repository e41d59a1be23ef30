#include "smime/chain.h"

#include <algorithm>
#include <ctime>
#include <string>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "smime/x509.h"

namespace smime {
namespace {

std::string subject_of(const X509* cert) {
  if (cert == nullptr) {
    return "(unknown certificate)";
  }
  return inspect(*cert).subject;
}

}  // namespace

policy::Result<std::vector<ossl::Cert>> verify_chain(X509& leaf,
                                                     const std::vector<ossl::Cert>& untrusted,
                                                     const std::vector<ossl::Cert>& anchors,
                                                     const ChainOptions& options) {
  ::ERR_clear_error();
  ossl::Store store(::X509_STORE_new());
  ossl::StoreCtx ctx(::X509_STORE_CTX_new());
  if (!store || !ctx) {
    return policy::unexpected(policy::Errc::kCrypto,
                              ossl::error_text("cannot allocate X509_STORE"));
  }
  for (const auto& anchor : anchors) {
    if (anchor && ::X509_STORE_add_cert(store.get(), anchor.get()) != 1) {
      ::ERR_clear_error();  // duplicate anchors are harmless
    }
  }
  const ossl::CertStack helpers = ossl::make_stack(untrusted);
  if (::X509_STORE_CTX_init(ctx.get(), store.get(), &leaf, helpers.get()) != 1) {
    return policy::unexpected(policy::Errc::kCrypto,
                              ossl::error_text("X509_STORE_CTX_init failed"));
  }
  ::X509_STORE_CTX_set_purpose(ctx.get(), options.purpose);
  if (options.at_time != 0) {
    ::X509_VERIFY_PARAM_set_time(::X509_STORE_CTX_get0_param(ctx.get()),
                                 static_cast<time_t>(options.at_time));
  }
  if (::X509_verify_cert(ctx.get()) != 1) {
    const int err = ::X509_STORE_CTX_get_error(ctx.get());
    const std::string who = subject_of(::X509_STORE_CTX_get_current_cert(ctx.get()));
    const std::string what = std::string(::X509_verify_cert_error_string(err)) + " (" + who + ")";
    ::ERR_clear_error();
    if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) {
      return policy::unexpected(policy::Errc::kExpired, what);
    }
    return policy::unexpected(policy::Errc::kUntrustedChain, what);
  }
  std::vector<ossl::Cert> chain;
  const STACK_OF(X509)* path = ::X509_STORE_CTX_get0_chain(ctx.get());
  chain.reserve(static_cast<std::size_t>(std::max(0, sk_X509_num(path))));
  for (int i = 0; i < sk_X509_num(path); ++i) {
    chain.push_back(ossl::share(sk_X509_value(path, i)));
  }
  return chain;
}

policy::Status check_revocation(const std::vector<ossl::Cert>& chain, RevocationChecker& checker) {
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    auto answer = checker.status(*chain[i], *chain[i + 1]);
    if (!answer) {
      return policy::unexpected(policy::Errc::kUnavailable,
                                "revocation store unavailable: " + answer.error().detail());
    }
    const std::string who = subject_of(chain[i].get());
    switch (answer->state) {
      case RevocationState::kGood:
        break;
      case RevocationState::kRevoked:
        return policy::unexpected(
            policy::Errc::kRevoked,
            "certificate revoked" +
                (answer->reason.empty() ? std::string() : " (" + answer->reason + ")") + ": " +
                who);
      case RevocationState::kUnknown:
        return policy::unexpected(
            policy::Errc::kRevocationUnknown,
            "no revocation information for " + who +
                (answer->detail.empty() ? std::string() : ": " + answer->detail));
    }
  }
  return {};
}

}  // namespace smime
