#include "policy/result.h"

namespace policy {

std::string_view errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::kOk:
      return "ok";
    case Errc::kInvalidArgument:
      return "invalid-argument";
    case Errc::kMalformedInput:
      return "malformed";
    case Errc::kLimitExceeded:
      return "limit-exceeded";
    case Errc::kUnsupportedAlgorithm:
      return "unsupported-algorithm";
    case Errc::kBadSignature:
      return "bad-signature";
    case Errc::kUntrustedChain:
      return "untrusted-chain";
    case Errc::kExpired:
      return "expired";
    case Errc::kRevoked:
      return "revoked";
    case Errc::kRevocationUnknown:
      return "revocation-unknown";
    case Errc::kSenderMismatch:
      return "sender-mismatch";
    case Errc::kNoKey:
      return "no-key";
    case Errc::kNotFound:
      return "not-found";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kWrongPassphrase:
      return "wrong-passphrase";
    case Errc::kPermission:
      return "permission";
    case Errc::kConflict:
      return "conflict";
    case Errc::kIo:
      return "io";
    case Errc::kCrypto:
      return "crypto";
    case Errc::kConfig:
      return "config";
    case Errc::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string out(errc_name(code_));
  if (!detail_.empty()) {
    out += ": ";
    out += detail_;
  }
  return out;
}

}  // namespace policy
