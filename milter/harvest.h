// Harvesting (trust.harvest_certificates, default true): after an inbound signature
// verified with a chain to one of our trust anchors (result pass), the signer's
// certificate and SMIMECapabilities are stored in the keystore as an external
// correspondent (origin "harvested", keystore/harvest.cpp), so that a later outbound
// message to that address can be encrypted to it.
// Off the critical path: a harvest failure (store locked, read-only, certificate refused)
// is logged as a warning and noted in the message's log line; it never changes the
// message's verdict. Only passing signers are harvested: a failed, untrusted, expired,
// revoked or sender-mismatched signature teaches us nothing.
// The handle must be writable (the daemon's lookup handle is read-only):
// open_harvest_keystore() in snapshot.h. Thread-safety: reentrant (Keystore locks).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keystore/keystore.h"
#include "smime/verify.h"

namespace milter {

// Harvests every passing signer of `report` into `store`; returns notes for the log line
// ("harvested=<fp16>" when something new was stored, "harvest-failed=<fp16>" on error).
// `queue_id` prefixes the warning logged on failure.
std::vector<std::string> harvest_signers(keystore::Keystore& store,
                                         const smime::VerifyReport& report,
                                         std::string_view queue_id);

// The keystore's view of what a correspondent announced: AES-GCM known to work when the
// attribute lists either GCM size, known not to when it lists neither, unknown without it.
keystore::Capabilities keystore_capabilities(const smime::Capabilities& caps);

}  // namespace milter
