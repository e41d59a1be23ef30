#include "audit/export.h"

#include <cstdio>
#include <ctime>

namespace audit {
namespace {

bool is_int_column(size_t i) {
  return i == 0 || i == 1 || i == 24 || i == 25;
}

}  // namespace

nlohmann::json to_json(const Entry& e) {
  auto certs = nlohmann::json::array();
  for (const auto& c : e.certificates) {
    certs.push_back({{"role", c.role},
                     {"fingerprint", c.fingerprint},
                     {"serial", c.serial_hex},
                     {"subject", c.subject}});
  }
  return {{"seq", e.seq},
          {"time", e.time},
          {"time_utc", iso_time(e.time)},
          {"type", record_type_name(e.type)},
          {"incident", incident_name(e.incident)},
          {"queue_id", e.queue_id},
          {"message_id", e.message_id},
          {"direction", e.direction},
          {"sender", e.sender},
          {"recipients", e.recipients},
          {"auth_user", e.auth_user},
          {"client_addr", e.client_addr},
          {"department", e.department},
          {"rule", e.rule},
          {"actions", e.actions},
          {"certificates", certs},
          {"algorithms", e.algorithms},
          {"verification", e.verification},
          {"reason", e.reason},
          {"verdict", e.verdict},
          {"os_user", e.os_user},
          {"action", e.action},
          {"subject", e.subject},
          {"fingerprint", e.fingerprint},
          {"serial", e.serial_hex},
          {"not_before", e.not_before},
          {"not_after", e.not_after},
          {"detail", e.detail},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

std::string csv_field(std::string_view value, bool is_text) {
  std::string v;
  if (is_text && !value.empty() &&
      (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
       value[0] == '\t' || value[0] == '\r')) {
    v = "'";
  }
  v += value;
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    return v;
  }
  std::string out = "\"";
  for (const char c : v) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  out += '"';
  return out;
}

std::string csv_header() {
  std::string out;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    out += (i != 0 ? "," : "") + std::string(kColumns[i]);
  }
  return out + "\r\n";
}

std::string csv_line(const Entry& e) {
  const auto values = column_values(e);
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i != 0 ? "," : "") + csv_field(values[i], !is_int_column(i));
  }
  return out + "\r\n";
}

std::string summary_line(const Entry& e) {
  std::string s = std::to_string(e.seq) + " " + iso_time(e.time) + " ";
  if (e.type == RecordType::kAdmin) {
    s += "admin " + e.action + " by " + e.os_user + " subject=" + e.subject;
    if (!e.reason.empty()) {
      s += " reason=" + e.reason;
    }
    s += " result=" + e.verdict;
  } else {
    s += e.direction + " " + e.queue_id + " from=" + e.sender +
         " rcpts=" + std::to_string(e.recipients.size());
    std::string acts;
    for (const auto& a : e.actions) {
      acts += (acts.empty() ? "" : ",") + a;
    }
    s += " actions=" + (acts.empty() ? "-" : acts) + " verdict=" + e.verdict;
    if (!e.verification.empty()) {
      s += " smime=" + e.verification;
    }
    if (!e.reason.empty()) {
      s += " reason=" + e.reason;
    }
  }
  if (e.is_incident()) {
    s += " INCIDENT=" + std::string(incident_name(e.incident));
  }
  return s;
}

std::string iso_time(std::int64_t t) {
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  std::array<char, 32> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

std::optional<std::int64_t> parse_time(std::string_view s) {
  const std::string str(s);
  if (!str.empty() && str.find_first_not_of("0123456789") == std::string::npos && str.size() < 15) {
    return std::stoll(str);
  }
  std::tm tm{};
  int consumed = 0;
  const bool date_only = str.size() == 10 &&
                         std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
                                     &tm.tm_mday, &consumed) == 3 &&
                         consumed == 10;
  const bool date_time =
      !date_only && str.size() == 20 &&
      std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) == 6 &&
      consumed == 20;
  if (!date_only && !date_time) {
    return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm));
}

}  // namespace audit
