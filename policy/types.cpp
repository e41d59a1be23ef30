#include "policy/types.h"

#include <array>
#include <utility>

namespace policy {
namespace {

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<std::string_view, E>, N>& table,
                        std::string_view s) noexcept {
  for (const auto& [n, e] : table) {
    if (n == s) {
      return e;
    }
  }
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, DirectionMatch>, 3> kDirections{{
    {"any", DirectionMatch::kAny},
    {"inbound", DirectionMatch::kInbound},
    {"outbound", DirectionMatch::kOutbound},
}};
constexpr std::array<std::pair<std::string_view, Requirement>, 3> kRequirements{{
    {"never", Requirement::kNever},
    {"if-possible", Requirement::kIfPossible},
    {"required", Requirement::kRequired},
}};
constexpr std::array<std::pair<std::string_view, CertType>, 3> kCertTypes{{
    {"individual", CertType::kIndividual},
    {"role", CertType::kRole},
    {"system", CertType::kSystem},
}};
constexpr std::array<std::pair<std::string_view, Profile>, 3> kProfiles{{
    {"compatible", Profile::kCompatible},
    {"modern", Profile::kModern},
    {"per-recipient", Profile::kPerRecipient},
}};
constexpr std::array<std::pair<std::string_view, Action>, 5> kActions{{
    {"accept", Action::kAccept},
    {"reject", Action::kReject},
    {"tempfail", Action::kTempfail},
    {"quarantine", Action::kQuarantine},
    {"discard", Action::kDiscard},
}};

template <class E, std::size_t N>
std::string_view reverse(const std::array<std::pair<std::string_view, E>, N>& table, E e) noexcept {
  for (const auto& [n, v] : table) {
    if (v == e) {
      return n;
    }
  }
  return "?";
}

}  // namespace

std::string_view name(Direction d) noexcept {
  return d == Direction::kInbound ? "inbound" : "outbound";
}
std::string_view name(DirectionMatch d) noexcept {
  return reverse(kDirections, d);
}
std::string_view name(Requirement r) noexcept {
  return reverse(kRequirements, r);
}
std::string_view name(CertType t) noexcept {
  return reverse(kCertTypes, t);
}
std::string_view name(Profile p) noexcept {
  return reverse(kProfiles, p);
}
std::string_view name(Action a) noexcept {
  return reverse(kActions, a);
}

std::string_view name(Cipher c) noexcept {
  return c == Cipher::kAes256Gcm ? "aes-256-gcm" : "aes-256-cbc";
}
std::string_view name(SignaturePadding p) noexcept {
  return p == SignaturePadding::kPss ? "rsassa-pss" : "rsa-pkcs1-v1_5";
}
std::string_view name(KeyTransport k) noexcept {
  return k == KeyTransport::kRsaOaep ? "rsaes-oaep" : "rsa-pkcs1-v1_5";
}
std::string_view name(Digest /*d*/) noexcept {
  return "sha256";
}

std::string_view name(Failure f) noexcept {
  switch (f) {
    case Failure::kNoSigningCert:
      return "no_signing_cert";
    case Failure::kNoRecipientCert:
      return "no_recipient_cert";
    case Failure::kRevoked:
      return "revoked";
    case Failure::kRevocationUnknown:
      return "revocation_unknown";
    case Failure::kBadSignature:
      return "bad_signature";
    case Failure::kDecryptError:
      return "decrypt_error";
    case Failure::kKeystoreUnavailable:
      return "keystore_unavailable";
    case Failure::kInternalError:
      return "internal_error";
  }
  return "?";
}

std::optional<DirectionMatch> parse_direction_match(std::string_view s) noexcept {
  return lookup(kDirections, s);
}
std::optional<Requirement> parse_requirement(std::string_view s) noexcept {
  return lookup(kRequirements, s);
}
std::optional<CertType> parse_cert_type(std::string_view s) noexcept {
  return lookup(kCertTypes, s);
}
std::optional<Profile> parse_profile(std::string_view s) noexcept {
  return lookup(kProfiles, s);
}
std::optional<Action> parse_action(std::string_view s) noexcept {
  return lookup(kActions, s);
}

Algorithms algorithms_for(Profile profile, bool all_recipients_modern) noexcept {
  Algorithms a;
  a.profile = profile;
  a.modern =
      profile == Profile::kModern || (profile == Profile::kPerRecipient && all_recipients_modern);
  if (a.modern) {
    a.cipher = Cipher::kAes256Gcm;
    a.signature_padding = SignaturePadding::kPss;
    a.key_transport = KeyTransport::kRsaOaep;
  }
  return a;
}

std::string Verdict::to_string() const {
  std::string out(name(action));
  for (const std::string* part : {&rcode, &xcode, &text}) {
    if (!part->empty()) {
      out += ' ';
      out += *part;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    out += out.empty() ? "" : sep;
    out += s;
  }
  return out;
}

}  // namespace policy
