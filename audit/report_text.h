// Internal: the report's vocabulary lookup shared by the renderers.
#pragma once

#include <string_view>

#include "audit/report.h"

namespace audit {

// Localised label for a report term key ("signed", "staff", ...); the key when unknown.
std::string_view term(std::string_view key, Lang lang);

}  // namespace audit
