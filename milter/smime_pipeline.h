// SmimePipeline: the real per-message processing. Direction and rule from the policy
// (policy::classify/decide), facts from the keystore (signing credential of the sender,
// encryption certificates of the recipients, revocation), then smime/ does the work:
//   outbound: sign (and encrypt) the message, or, when the sender's client already
//             protected it, verify and log that signature and only encrypt if required;
//   inbound:  remove forged Authentication-Results, decrypt when the key is held and
//             policy allows, verify every signature and add Authentication-Results.
// Every failure goes through Decision::on_error / verdict_for (the configured On-*
// action); nothing is ever delivered in clear when protection was required.
// Thread-safety: process() is reentrant (Keystore serialises its own access).
#pragma once

#include <memory>

#include "keystore/keystore.h"
#include "milter/pipeline.h"

namespace milter {

class SmimePipeline final : public Pipeline {
 public:
  // `keystore` answers every lookup (read-only in the daemon); `harvester`, when set, is a
  // writable handle on the same database that verified inbound signers' certificates are
  // stored through (trust.harvest_certificates; harvest.h). Null: nothing is harvested.
  explicit SmimePipeline(std::shared_ptr<keystore::Keystore> keystore,
                         std::shared_ptr<keystore::Keystore> harvester = nullptr)
      : keystore_(std::move(keystore)), harvester_(std::move(harvester)) {}
  Outcome process(const Message& message, const Snapshot& snapshot) override;

 private:
  std::shared_ptr<keystore::Keystore> keystore_;
  std::shared_ptr<keystore::Keystore> harvester_;
};

// True when the SMTP AUTH login `auth_user` may sign as `sender`: the login is the
// address itself, or its local part (before any '@realm') is the sender's local part
// (case-insensitive). No login -> true (policy decides by direction alone).
// Limitation: a login -> address map from the keystore's staff table would be exact.
bool auth_owns_sender(std::string_view auth_user, std::string_view sender);

}  // namespace milter
