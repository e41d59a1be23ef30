#include "milter/department.h"

namespace milter {

policy::DepartmentFact department_of(keystore::Keystore& ks, std::string_view address) {
  policy::DepartmentFact f;
  if (address.find('@') == std::string_view::npos) {
    return f;  // find_certs would treat it as a fingerprint or serial
  }
  auto recs = ks.find_certs(address);
  if (!recs) {
    f.state = policy::FactState::kUnavailable;
    return f;
  }
  // Prefer an unrevoked certificate's record: the staff member's current department.
  for (const bool want_unrevoked : {true, false}) {
    for (const auto& r : *recs) {
      if (!r.department.empty() && (!want_unrevoked || r.revoked_reason.empty())) {
        f.state = policy::FactState::kKnown;
        f.name = r.department;
        return f;
      }
    }
  }
  return f;
}

policy::DepartmentFact department_of_any(keystore::Keystore& ks,
                                         const std::vector<std::string>& addresses) {
  policy::DepartmentFact out;
  for (const auto& a : addresses) {
    auto f = department_of(ks, a);
    if (f.state == policy::FactState::kKnown) {
      return f;
    }
    if (f.state == policy::FactState::kUnavailable) {
      out = f;
    }
  }
  return out;
}

}  // namespace milter
