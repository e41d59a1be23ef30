// Small helpers shared by the keystore's translation units (internal header).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smime/ossl.h"

namespace keystore::detail {

std::int64_t now_unix();
// "YYYY-MM-DD" (UTC) of unix seconds `t`.
std::string utc_date(std::int64_t t);
// DER encoding of an X.509 Name ("" on failure).
std::string name_der(const X509_NAME* name);
// Canonical serial form used in the database: lowercase hex without leading zeros.
std::string norm_serial(std::string_view hex);
std::string lower(std::string_view s);
bool is_hex(std::string_view s);

}  // namespace keystore::detail
