// The department a message belongs to, from the keystore's staff directory: the
// department recorded with the certificates of an address (outbound: the sender;
// inbound: the first recipient that has one). Used for department rules and for the
// audit trail's per-department report.
// Thread-safety: reentrant (Keystore serialises its own access).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keystore/keystore.h"
#include "policy/decide.h"

namespace milter {

// kKnown with the name; kNone when the address has no staff record with a
// department; kUnavailable when the keystore could not be read.
policy::DepartmentFact department_of(keystore::Keystore& ks, std::string_view address);

// The first known department among `addresses` (kUnavailable wins over kNone).
policy::DepartmentFact department_of_any(keystore::Keystore& ks,
                                         const std::vector<std::string>& addresses);

}  // namespace milter
