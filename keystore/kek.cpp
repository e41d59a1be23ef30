#include "keystore/kek.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include <climits>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

namespace keystore {
using policy::Errc;
using policy::unexpected;
namespace ossl = smime::ossl;

namespace {
constexpr std::string_view kCheckText = "smime-milter keystore key-check v1";
constexpr std::size_t kNonceLen = 12;
constexpr std::size_t kTagLen = 16;
constexpr std::uint64_t kScryptMaxMem = 64ULL * 1024 * 1024;

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (::RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return {};
  }
  return out;
}

// AES-256-GCM; returns ciphertext||tag, or "" on failure.
policy::Result<std::string> gcm_seal(const unsigned char* key, std::string_view nonce,
                                     std::string_view aad, std::string_view plain) {
  ossl::CipherCtx ctx(::EVP_CIPHER_CTX_new());
  std::string out(plain.size() + kTagLen, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  const auto* n = reinterpret_cast<const unsigned char*>(nonce.data());
  if (!ctx || ::EVP_EncryptInit_ex(ctx.get(), ::EVP_aes_256_gcm(), nullptr, key, n) != 1 ||
      ::EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())) != 1 ||
      ::EVP_EncryptUpdate(ctx.get(), o, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("AES-256-GCM wrap failed"));
  }
  total = len;
  if (::EVP_EncryptFinal_ex(ctx.get(), o + total, &len) != 1 ||
      ::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagLen),
                            o + total + len) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("AES-256-GCM wrap failed"));
  }
  return out;
}

// Returns the plaintext, or kWrongPassphrase when the tag does not verify.
policy::Result<std::string> gcm_open(const unsigned char* key, std::string_view nonce,
                                     std::string_view aad, std::string_view sealed) {
  if (nonce.size() != kNonceLen || sealed.size() < kTagLen || sealed.size() > INT_MAX) {
    return unexpected(Errc::kMalformedInput, "wrapped key record is truncated");
  }
  const std::size_t clen = sealed.size() - kTagLen;
  ossl::CipherCtx ctx(::EVP_CIPHER_CTX_new());
  std::string out(clen, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  const auto* c = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string tag(sealed.substr(clen));
  if (!ctx ||
      ::EVP_DecryptInit_ex(ctx.get(), ::EVP_aes_256_gcm(), nullptr, key,
                           reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      ::EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())) != 1 ||
      ::EVP_DecryptUpdate(ctx.get(), o, &len, c, static_cast<int>(clen)) != 1 ||
      ::EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagLen),
                            tag.data()) != 1) {
    ::OPENSSL_cleanse(out.data(), out.size());
    return unexpected(Errc::kCrypto, ossl::error_text("AES-256-GCM unwrap failed"));
  }
  int fin = 0;
  if (::EVP_DecryptFinal_ex(ctx.get(), o + len, &fin) != 1) {
    ::OPENSSL_cleanse(out.data(), out.size());
    ::ERR_clear_error();
    return unexpected(Errc::kWrongPassphrase, "authentication tag mismatch");
  }
  return out;
}

// scrypt(secret, params) into key[0..len).
policy::Status scrypt_into(std::string_view secret, const KekParams& params, unsigned char* key,
                           std::size_t len) {
  if (::EVP_PBE_scrypt(
          secret.data(), secret.size(), reinterpret_cast<const unsigned char*>(params.salt.data()),
          params.salt.size(), params.n, params.r, params.p, kScryptMaxMem, key, len) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("scrypt key derivation failed"));
  }
  return {};
}

}  // namespace

policy::Status check_private_file(const std::string& path, std::string_view what,
                                  bool allow_unsafe) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return unexpected(Errc::kIo, std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  if (!allow_unsafe && (st.st_mode & 077) != 0) {
    return unexpected(
        Errc::kPermission,
        std::string(what) + " " + path +
            " is accessible by group or others (chmod 600, or allow unsafe permissions)");
  }
  return {};
}

policy::Result<std::string> read_secret_file(const std::string& path, bool allow_unsafe) {
  if (auto s = check_private_file(path, "key-encryption secret file", allow_unsafe); !s) {
    return s.error();
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) {
    return unexpected(Errc::kIo, "cannot read key-encryption secret file " + path);
  }
  std::string secret = ss.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.size() < 16) {
    return unexpected(Errc::kConfig,
                      "key-encryption secret file " + path + " holds fewer than 16 bytes");
  }
  return secret;
}

policy::Status create_secret_file(const std::string& path) {
  std::string raw = random_bytes(32);
  if (raw.empty()) {
    return unexpected(Errc::kCrypto, "no randomness for the key-encryption secret");
  }
  std::string b64(64, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                  reinterpret_cast<const unsigned char*>(raw.data()),
                                  static_cast<int>(raw.size()));
  ::OPENSSL_cleanse(raw.data(), raw.size());
  b64.resize(static_cast<std::size_t>(n));
  b64 += '\n';
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    ::OPENSSL_cleanse(b64.data(), b64.size());
    return unexpected(
        errno == EEXIST ? Errc::kConflict : Errc::kIo,
        "cannot create key-encryption secret file " + path + ": " + std::strerror(errno));
  }
  const auto w = ::write(fd, b64.data(), b64.size());
  ::OPENSSL_cleanse(b64.data(), b64.size());
  ::close(fd);
  if (w < 0 || static_cast<std::size_t>(w) != b64.size()) {
    return unexpected(Errc::kIo, "cannot write key-encryption secret file " + path);
  }
  return {};
}

Kek::Kek(Kek&& o) noexcept {
  std::memcpy(key_, o.key_, sizeof key_);
  ::OPENSSL_cleanse(o.key_, sizeof o.key_);
}

Kek::~Kek() {
  ::OPENSSL_cleanse(key_, sizeof key_);
}

policy::Result<Kek> Kek::derive(std::string_view secret, const KekParams& params) {
  ::ERR_clear_error();
  Kek k;
  if (auto s = scrypt_into(secret, params, k.key_, sizeof k.key_); !s) {
    return s.error();
  }
  if (params.check.size() < kNonceLen + kTagLen) {
    return unexpected(Errc::kUnavailable, "keystore key-check value is missing or truncated");
  }
  auto plain = gcm_open(k.key_, std::string_view(params.check).substr(0, kNonceLen), "kek-check",
                        std::string_view(params.check).substr(kNonceLen));
  if (!plain || *plain != kCheckText) {
    return unexpected(Errc::kWrongPassphrase,
                      "wrong key-encryption secret (key-check value does not match)");
  }
  return k;
}

policy::Result<std::pair<Kek, KekParams>> Kek::create(std::string_view secret) {
  KekParams params;
  params.salt = random_bytes(16);
  const std::string nonce = random_bytes(kNonceLen);
  if (params.salt.empty() || nonce.empty()) {
    return unexpected(Errc::kCrypto, "no randomness for the key-encryption key");
  }
  Kek k;
  if (auto s = scrypt_into(secret, params, k.key_, sizeof k.key_); !s) {
    return s.error();
  }
  auto sealed = gcm_seal(k.key_, nonce, "kek-check", kCheckText);
  if (!sealed) {
    return std::move(sealed).error();
  }
  params.check = nonce + *sealed;
  return std::pair<Kek, KekParams>(std::move(k), std::move(params));
}

policy::Result<Wrapped> Kek::wrap(const EVP_PKEY& key, std::string_view aad) const {
  unsigned char* der = nullptr;
  const int n = ::i2d_PrivateKey(&key, &der);
  if (n <= 0) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot encode private key"));
  }
  std::string plain(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  ::OPENSSL_clear_free(der, static_cast<std::size_t>(n));
  Wrapped w;
  w.nonce = random_bytes(kNonceLen);
  auto sealed = gcm_seal(key_, w.nonce, aad, plain);
  ::OPENSSL_cleanse(plain.data(), plain.size());
  if (w.nonce.empty() || !sealed) {
    return unexpected(Errc::kCrypto, "cannot wrap private key");
  }
  w.data = std::move(*sealed);
  return w;
}

policy::Result<ossl::PKey> Kek::unwrap(const Wrapped& w, std::string_view aad) const {
  auto plain = gcm_open(key_, w.nonce, aad, w.data);
  if (!plain) {
    if (plain.error().code() == Errc::kWrongPassphrase) {
      return unexpected(Errc::kUnavailable,
                        "wrapped private key does not authenticate (corrupt keystore record)");
    }
    return std::move(plain).error();
  }
  const auto* p = reinterpret_cast<const unsigned char*>(plain->data());
  ossl::PKey key(::d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(plain->size())));
  ::OPENSSL_cleanse(plain->data(), plain->size());
  if (!key) {
    return unexpected(Errc::kUnavailable, ossl::error_text("unwrapped private key does not parse"));
  }
  return key;
}

}  // namespace keystore
