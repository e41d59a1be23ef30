// RAII owners for OpenSSL handles (house style: wrap on the line that allocates).
// A get0 result is borrowed and never stored past its owner. Copies of refcounted
// objects go through up_ref helpers below, never through raw pointers.
// Thread-safety: the handles are as thread-safe as the OpenSSL objects they own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace smime::ossl {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
template <class T, auto Free>
using Ptr = std::unique_ptr<T, Deleter<Free>>;

using Bio = Ptr<BIO, BIO_free_all>;
using Cert = Ptr<X509, X509_free>;
using Crl = Ptr<X509_CRL, X509_CRL_free>;
using PKey = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtx = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using Cms = Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;
using Store = Ptr<X509_STORE, X509_STORE_free>;
using StoreCtx = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using P12 = Ptr<PKCS12, PKCS12_free>;
using Name = Ptr<X509_NAME, X509_NAME_free>;
using MdCtx = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using CipherCtx = Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using Asn1Int = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using BigNum = Ptr<BIGNUM, BN_free>;
using GeneralNames = Ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
using ExtKeyUsage = Ptr<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;

// Frees a STACK_OF(X509) and every certificate in it.
struct CertStackFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), CertStackFree>;
// Frees only the stack (certificates are borrowed), e.g. CMS_get0_signers' result.
struct CertStackShallowFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
};
using BorrowedCertStack = std::unique_ptr<STACK_OF(X509), CertStackShallowFree>;

// New owning reference to a certificate / key (X509_up_ref / EVP_PKEY_up_ref).
Cert share(X509* cert);
PKey share(EVP_PKEY* key);
// Deep-owning stack built from borrowed certificates (each up_ref'd).
CertStack make_stack(const std::vector<Cert>& certs);

// Read-only memory BIO over `data` (which must outlive the BIO).
Bio mem_view(std::string_view data);
// Empty growable memory BIO.
Bio mem_buffer();
// Everything written to a memory BIO so far.
std::string bio_contents(BIO* bio);

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string drain_errors();
// `what + ": " + drain_errors()` (or just `what` when the queue is empty).
std::string error_text(std::string_view what);

// Lowercase hex of bytes, no separators.
std::string hex(const unsigned char* data, size_t len);

// Loads the "legacy" provider (RC2, RC4, DES...) next to "default", once per process,
// so legacy PKCS#12 files (MimeKit's RC2-40) can be opened. Returns false if the
// provider module is not installed.
bool ensure_legacy_provider();

}  // namespace smime::ossl
