#include "smime/ossl.h"

#include <mutex>

#include <climits>
#include <openssl/err.h>
#include <openssl/provider.h>

namespace smime::ossl {

Cert share(X509* cert) {
  if (cert != nullptr) {
    ::X509_up_ref(cert);
  }
  return Cert(cert);
}

PKey share(EVP_PKEY* key) {
  if (key != nullptr) {
    ::EVP_PKEY_up_ref(key);
  }
  return PKey(key);
}

CertStack make_stack(const std::vector<Cert>& certs) {
  CertStack stack(sk_X509_new_null());
  if (!stack) {
    return stack;
  }
  for (const auto& c : certs) {
    Cert ref = share(c.get());
    if (sk_X509_push(stack.get(), ref.get()) > 0) {
      (void)ref.release();  // the stack owns it now
    }
  }
  return stack;
}

Bio mem_view(std::string_view data) {
  // Callers keep buffers below INT_MAX (limits are checked before this point).
  const int len = data.size() > static_cast<size_t>(INT_MAX) ? -1 : static_cast<int>(data.size());
  if (len < 0) {
    return Bio(nullptr);
  }
  return Bio(::BIO_new_mem_buf(data.data(), len));
}

Bio mem_buffer() {
  return Bio(::BIO_new(::BIO_s_mem()));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) {
    return {};
  }
  return {data, static_cast<size_t>(len)};
}

std::string drain_errors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ::ERR_get_error()) != 0) {
    char buf[256];
    ::ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out;
}

std::string error_text(std::string_view what) {
  std::string out(what);
  const std::string errs = drain_errors();
  if (!errs.empty()) {
    out += ": ";
    out += errs;
  }
  return out;
}

std::string hex(const unsigned char* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0f];
  }
  return out;
}

bool ensure_legacy_provider() {
  static std::once_flag once;
  static bool loaded = false;
  std::call_once(once, [] {
    // Loading "legacy" explicitly unloads the implicit default; load both.
    // Static so the handles stay reachable (LeakSanitizer would report them otherwise).
    static OSSL_PROVIDER* def = ::OSSL_PROVIDER_load(nullptr, "default");
    static OSSL_PROVIDER* legacy = ::OSSL_PROVIDER_load(nullptr, "legacy");
    loaded = def != nullptr && legacy != nullptr;
    ::ERR_clear_error();
    // Providers stay loaded for the life of the process (intentionally not unloaded).
  });
  return loaded;
}

}  // namespace smime::ossl
