// Auditor-facing renderings of trail records: JSON objects (search --json, JSONL
// export) and CSV (RFC 4180). Pure functions over Entry values.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "audit/record.h"

namespace audit {

// Every column with its natural JSON type (lists as arrays, times as integers).
nlohmann::json to_json(const Entry& e);

// One CSV field, quoted when it holds a comma, quote, CR or LF. A text cell starting
// with = + - @ TAB or CR gets a leading apostrophe so spreadsheets do not run it as a
// formula (peer-controlled values such as Message-ID end up here).
std::string csv_field(std::string_view value, bool is_text = true);
// Header line (kColumns) and one record line, each ending in CRLF.
std::string csv_header();
std::string csv_line(const Entry& e);

// A short human line for `audit search` without --json.
std::string summary_line(const Entry& e);

// "2026-03-01T12:00:00Z"
std::string iso_time(std::int64_t t);
// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or unix seconds; nullopt when malformed.
std::optional<std::int64_t> parse_time(std::string_view s);

}  // namespace audit
