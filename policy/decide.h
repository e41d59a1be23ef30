// The pure decision: (config snapshot, envelope, headers, keystore facts) -> Decision.
// No I/O. Split in two steps so the milter can look up only what it needs:
//   1. classify(): direction and the matching rule from the envelope alone (plus the
//      sender's department when Config::uses_department);
//   2. decide(): with the keystore facts for that rule (signing certificate when the
//      rule may sign, recipients' certificates when it may encrypt).
// Every step appends a line to Decision::reasons (OpenDKIM's LogWhy).
// Thread-safety: pure functions of their arguments. A Classification points into the
// Config it was made from: keep the snapshot (ConfigPtr) alive while using it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/config.h"
#include "policy/reply.h"
#include "policy/types.h"

namespace policy {

struct Header {
  std::string name;
  std::string value;  // unfolded
};

struct Envelope {
  std::string sender;                   // MAIL FROM address without <>; "" for bounces
  std::vector<std::string> recipients;  // RCPT TO addresses
  std::string auth_user;                // {auth_authen}; "" when not authenticated
  std::string client_ip;                // connecting client's address as text
  std::string daemon_name;              // {daemon_name}
  std::vector<Header> headers;          // in message order
};

// A three-valued keystore fact (Postfix: found / not found / DICT_ERR_RETRY).
enum class FactState { kKnown, kNone, kUnavailable };

struct DepartmentFact {
  FactState state = FactState::kNone;
  std::string name;
};

// State of the best certificate the keystore holds for an address and purpose.
enum class CertStatus { kUsable, kNone, kExpired, kRevoked, kRevocationUnknown, kUnavailable };
std::string_view name(CertStatus s) noexcept;

struct SignerFact {
  CertStatus status = CertStatus::kNone;
  std::string detail;  // e.g. "role certificate 3F:..:A1" (for reasons only)
};

struct RecipientFact {
  std::string address;
  CertStatus status = CertStatus::kNone;
  bool modern_capable = false;  // announced AES-GCM / RSAES-OAEP in SMIMECapabilities
};

struct Facts {
  SignerFact signer;                      // ignored unless Classification::wants_signer
  std::vector<RecipientFact> recipients;  // ignored unless wants_recipients; missing = kNone
};

struct Classification {
  Direction direction = Direction::kInbound;
  const Rule* rule = nullptr;              // into the Config; never null after classify()
  bool department_unavailable = false;     // a department condition could not be evaluated
  std::optional<std::string> new_subject;  // Subject with the tag removed (strip_subject_tag)
  bool wants_signer = false;               // outbound and the rule may sign
  bool wants_recipients = false;           // outbound and the rule may encrypt
  std::vector<std::string> reasons;
};

struct Decision {
  Direction direction = Direction::kInbound;
  std::string rule;  // matched rule name, "default" for the default rule
  bool sign = false;
  bool encrypt = false;
  bool verify = false;
  bool decrypt = false;
  std::vector<CertType> signer_preference;
  Algorithms algorithms;
  std::vector<std::string> recipients_without_cert;
  std::optional<std::string> new_subject;  // "rewrite Subject to ..."
  std::optional<Failure> failure;          // the failure that set the verdict, if any
  Verdict verdict;                         // accept = go on with sign/encrypt as decided
  std::vector<std::string> reasons;        // step by step (LogWhy)
  FailureActions on;                       // the matched rule's failure actions
  ReplyVars vars;                          // for templates rendered later

  // The verdict for a failure found later (signing failed, inbound signature bad, ...).
  Verdict verdict_for(Failure f, std::string_view reason) const;
  // One place that maps error codes to the configured action (house style on_error):
  // kNoKey while decrypting means "not for us" and accepts.
  Verdict on_error(Errc e, std::string_view reason, bool decrypting = false) const;
};

Direction classify_direction(const Config& c, const Envelope& env,
                             std::vector<std::string>& reasons);
Classification classify(const Config& c, const Envelope& env, const DepartmentFact& department);
Decision decide(const Config& c, const Classification& cls, const Envelope& env,
                const Facts& facts);
// Both steps at once.
Decision decide(const Config& c, const Envelope& env, const DepartmentFact& department,
                const Facts& facts);

// Glob helpers (fnmatch, case-insensitive), exposed for tests and explain.
bool address_matches(std::string_view address, std::string_view pattern);

}  // namespace policy
