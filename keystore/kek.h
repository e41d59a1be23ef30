// The key-encryption key (KEK) that wraps every private key in the keystore.
// Derived once per process with scrypt from the contents of a secret file and a random
// salt kept in the database; a key-check value (an AES-GCM encryption of a fixed text)
// tells a wrong secret apart from corrupt data. Private keys are wrapped as PKCS#8 DER
// under AES-256-GCM with a fresh 96-bit nonce and the certificate fingerprint as AAD.
// Ownership: Kek holds the 32 key bytes and cleanses them on destruction.
// Thread-safety: a const Kek may be used from several threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/result.h"
#include "smime/ossl.h"

namespace keystore {

struct KekParams {
  std::string salt;            // 16 random bytes
  std::uint64_t n = 1U << 14;  // scrypt cost
  std::uint64_t r = 8;
  std::uint64_t p = 1;
  std::string check;  // nonce || ciphertext || tag of kCheckText
};

struct Wrapped {
  std::string nonce;
  std::string data;  // ciphertext || 16-byte tag
};

// Reads the secret file, refusing one readable or writable by group/others unless
// `allow_unsafe`. Trailing newlines are not part of the secret.
policy::Result<std::string> read_secret_file(const std::string& path, bool allow_unsafe);
// Writes a new random secret (base64 of 32 bytes) with mode 0600; refuses to overwrite.
policy::Status create_secret_file(const std::string& path);
// Refuses a file that group or others may read or write (unless allow_unsafe).
policy::Status check_private_file(const std::string& path, std::string_view what,
                                  bool allow_unsafe);

class Kek {
 public:
  // Derives the KEK for existing parameters and checks it against params.check:
  // Errc::kWrongPassphrase when the secret is not the one the keystore was made with.
  static policy::Result<Kek> derive(std::string_view secret, const KekParams& params);
  // Fresh parameters (new salt) and their check value for `secret`.
  static policy::Result<std::pair<Kek, KekParams>> create(std::string_view secret);

  Kek(Kek&& o) noexcept;
  Kek& operator=(Kek&&) = delete;
  Kek(const Kek&) = delete;
  ~Kek();

  policy::Result<Wrapped> wrap(const EVP_PKEY& key, std::string_view aad) const;
  policy::Result<smime::ossl::PKey> unwrap(const Wrapped& w, std::string_view aad) const;

 private:
  Kek() = default;
  unsigned char key_[32] = {};
};

}  // namespace keystore
