// Result<T> and Status: expected failures as values (house style). Errc is the one
// error vocabulary shared by every module; milter maps it to a configured action.
// Method names follow std::expected so this can be swapped for it later.
// Thread-safety: plain values.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace policy {

enum class Errc {
  kOk = 0,
  kInvalidArgument,       // caller passed something malformed (bad address, bad option)
  kMalformedInput,        // peer data that does not parse: MIME, CMS, DER, PEM
  kLimitExceeded,         // a configured or built-in limit was exceeded
  kUnsupportedAlgorithm,  // the installed OpenSSL cannot do what was asked
  kBadSignature,          // signature or digest does not match
  kUntrustedChain,        // no path to a trust anchor
  kExpired,               // certificate outside its validity period
  kRevoked,               // certificate revoked
  kRevocationUnknown,     // no fresh revocation information
  kSenderMismatch,        // signer address is not the From address
  kNoKey,                 // no private key / no recipient info for our keys
  kNotFound,              // lookup found nothing (never used for "unavailable")
  kUnavailable,           // store locked, missing, corrupt: try again later
  kWrongPassphrase,       // PKCS#12 passphrase or key-encryption secret is wrong
  kPermission,            // unsafe file permissions, not allowed to do this
  kConflict,              // already exists / newer version present
  kIo,                    // file or socket I/O failed
  kCrypto,                // an OpenSSL operation failed for another reason
  kConfig,                // configuration file error
  kInternal,              // a bug: should not happen
};

// Stable lowercase name, e.g. "bad-signature"; used in logs, JSON and reason codes.
std::string_view errc_name(Errc e) noexcept;

class Error {
 public:
  Error(Errc code, std::string detail) : code_(code), detail_(std::move(detail)) {}
  Errc code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }
  // "<name>: <detail>"
  std::string message() const;

 private:
  Errc code_;
  std::string detail_;
};

// Like std::unexpected: marks a value as the error alternative.
inline Error unexpected(Errc code, std::string detail) {
  return Error(code, std::move(detail));
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{Errc::kOk, {}};
  bool ok_ = true;
};

}  // namespace policy
