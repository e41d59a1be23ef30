// smimectl's documented exit codes, one per error class (see README "smimectl").
#pragma once

#include "policy/result.h"

namespace cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // generic failure / check found problems
  kExitUsage = 2,        // bad command line (CLI11's own errors use this too)
  kExitInput = 3,        // input file malformed: certificate, PKCS#12, CRL, message
  kExitPassphrase = 4,   // wrong passphrase or key-encryption secret
  kExitTrust = 5,        // untrusted chain, expired, revoked, bad CRL signature
  kExitNotFound = 6,     // no such certificate / staff / entry
  kExitUnavailable = 7,  // keystore or audit database missing, locked, corrupt, too new
  kExitPermission = 8,   // unsafe permissions or not allowed
  kExitConflict = 9,     // older CRL than held, duplicate with different content
  kExitConfig = 10,      // configuration file error
  kExitInternal = 70,    // a bug (EX_SOFTWARE)
  // `smimectl process`: the milter verdict for the message
  kExitReject = 20,
  kExitTempfail = 21,
  kExitDiscard = 22,
  kExitQuarantine = 23,
};

inline int exit_code_for(policy::Errc e) {
  using policy::Errc;
  switch (e) {
    case Errc::kOk:
      return kExitOk;
    case Errc::kInvalidArgument:
      return kExitUsage;
    case Errc::kMalformedInput:
    case Errc::kLimitExceeded:
    case Errc::kUnsupportedAlgorithm:
      return kExitInput;
    case Errc::kWrongPassphrase:
      return kExitPassphrase;
    case Errc::kBadSignature:
    case Errc::kUntrustedChain:
    case Errc::kExpired:
    case Errc::kRevoked:
    case Errc::kRevocationUnknown:
    case Errc::kSenderMismatch:
      return kExitTrust;
    case Errc::kNoKey:
    case Errc::kNotFound:
      return kExitNotFound;
    case Errc::kUnavailable:
    case Errc::kIo:
      return kExitUnavailable;
    case Errc::kPermission:
      return kExitPermission;
    case Errc::kConflict:
      return kExitConflict;
    case Errc::kConfig:
      return kExitConfig;
    case Errc::kCrypto:
    case Errc::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace cli
