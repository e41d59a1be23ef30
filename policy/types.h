// Vocabulary of the policy: directions, requirements, certificate types, algorithm
// profiles, failure kinds and their actions, and the Verdict handed to the milter.
// Every enum has a stable lowercase name (used in the TOML file, logs and JSON) and a
// parser from that name. Plain values; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

enum class Direction { kInbound, kOutbound };

// Direction condition of a rule ("any" matches both).
enum class DirectionMatch { kAny, kInbound, kOutbound };

// `sign = ...` / `encrypt = ...` in a rule.
enum class Requirement { kNever, kIfPossible, kRequired };

// Which kind of certificate signs, in order of preference (`signer = [...]`).
enum class CertType { kIndividual, kRole, kSystem };

// Algorithm profiles (issue 5): compatible = AES-256-CBC, RSA PKCS#1 v1.5, SHA-256;
// modern = AES-256-GCM, RSASSA-PSS/RSAES-OAEP, SHA-256; per-recipient = modern when every
// recipient announced it (SMIMECapabilities), else compatible.
enum class Profile { kCompatible, kModern, kPerRecipient };

enum class Cipher { kAes256Cbc, kAes256Gcm };
enum class SignaturePadding { kPkcs1v15, kPss };
enum class KeyTransport { kRsaPkcs1v15, kRsaOaep };
enum class Digest { kSha256 };

// What the milter does with the message (OpenDKIM's On-* vocabulary).
enum class Action { kAccept, kReject, kTempfail, kQuarantine, kDiscard };

// The failure classes a rule maps to actions (`on_<name>` keys).
enum class Failure {
  kNoSigningCert,
  kNoRecipientCert,
  kRevoked,
  kRevocationUnknown,
  kBadSignature,
  kDecryptError,
  kKeystoreUnavailable,
  kInternalError,
};
inline constexpr Failure kAllFailures[] = {
    Failure::kNoSigningCert,       Failure::kNoRecipientCert, Failure::kRevoked,
    Failure::kRevocationUnknown,   Failure::kBadSignature,    Failure::kDecryptError,
    Failure::kKeystoreUnavailable, Failure::kInternalError,
};

// Names as written in the configuration file.
std::string_view name(Direction d) noexcept;
std::string_view name(DirectionMatch d) noexcept;
std::string_view name(Requirement r) noexcept;
std::string_view name(CertType t) noexcept;
std::string_view name(Profile p) noexcept;
std::string_view name(Cipher c) noexcept;
std::string_view name(SignaturePadding p) noexcept;
std::string_view name(KeyTransport k) noexcept;
std::string_view name(Digest d) noexcept;
std::string_view name(Action a) noexcept;
// "no_signing_cert" ...; the configuration key is "on_" + name.
std::string_view name(Failure f) noexcept;

// The items with `sep` between them ("a, b, c").
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

std::optional<DirectionMatch> parse_direction_match(std::string_view s) noexcept;
std::optional<Requirement> parse_requirement(std::string_view s) noexcept;
std::optional<CertType> parse_cert_type(std::string_view s) noexcept;
std::optional<Profile> parse_profile(std::string_view s) noexcept;
std::optional<Action> parse_action(std::string_view s) noexcept;

// The concrete algorithms a profile resolved to for one message.
struct Algorithms {
  Profile profile = Profile::kCompatible;  // as configured on the rule
  bool modern = false;                     // what it resolved to
  Cipher cipher = Cipher::kAes256Cbc;
  SignaturePadding signature_padding = SignaturePadding::kPkcs1v15;
  KeyTransport key_transport = KeyTransport::kRsaPkcs1v15;
  Digest digest = Digest::kSha256;
};
Algorithms algorithms_for(Profile profile, bool all_recipients_modern) noexcept;

// An SMTP reply: "550" "5.7.1" "text". Empty code for accept/discard.
struct Verdict {
  Action action = Action::kAccept;
  std::string rcode;
  std::string xcode;
  std::string text;
  // "reject 550 5.7.1 text" / "accept"
  std::string to_string() const;
};

}  // namespace policy
