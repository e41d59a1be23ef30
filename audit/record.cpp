#include "audit/record.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "smime/ossl.h"

namespace audit {
namespace {

constexpr std::array<std::string_view, 9> kIncidentNames = {"",
                                                            "bad-signature",
                                                            "sender-mismatch",
                                                            "revoked-certificate-use",
                                                            "expired-certificate-use",
                                                            "key-compromise",
                                                            "keystore-failure",
                                                            "audit-failure",
                                                            "other"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string list_json(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump();
}

std::string certs_json(const std::vector<CertUse>& certs) {
  auto arr = nlohmann::json::array();
  for (const auto& c : certs) {
    arr.push_back({{"role", c.role},
                   {"fingerprint", c.fingerprint},
                   {"serial", c.serial_hex},
                   {"subject", c.subject}});
  }
  return arr.dump();
}

bool parse_list(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  if (text.empty()) {
    return true;
  }
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) {
    return false;
  }
  for (const auto& v : j) {
    if (!v.is_string()) {
      return false;
    }
    out.push_back(v.get<std::string>());
  }
  return true;
}

bool parse_certs(const std::string& text, std::vector<CertUse>& out) {
  out.clear();
  if (text.empty()) {
    return true;
  }
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) {
    return false;
  }
  for (const auto& v : j) {
    if (!v.is_object()) {
      return false;
    }
    out.push_back({v.value("role", ""), v.value("fingerprint", ""), v.value("serial", ""),
                   v.value("subject", "")});
  }
  return true;
}

// Inbound verification outcomes that are authenticity incidents (Art. 25(3)).
IncidentKind derive_incident(const DecisionRecord& r) {
  const std::string v = lower(r.verification);
  if (v == "fail" || v == "permerror" || v == "policy") {
    return r.reason == "sender-mismatch" ? IncidentKind::kSenderMismatch
                                         : IncidentKind::kBadSignature;
  }
  if (r.reason == "revoked") {
    return IncidentKind::kRevokedCertUse;
  }
  if (r.reason == "expired") {
    return IncidentKind::kExpiredCertUse;
  }
  return IncidentKind::kNone;
}

std::int64_t to_int(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

std::string_view incident_name(IncidentKind k) {
  return kIncidentNames.at(static_cast<size_t>(k));
}

std::optional<IncidentKind> incident_from_name(std::string_view name) {
  for (size_t i = 0; i < kIncidentNames.size(); ++i) {
    if (kIncidentNames[i] == name) {
      return static_cast<IncidentKind>(i);
    }
  }
  return std::nullopt;
}

std::string_view record_type_name(RecordType t) {
  return t == RecordType::kAdmin ? "admin" : "decision";
}

bool Entry::has_action(std::string_view a) const {
  return std::find(actions.begin(), actions.end(), a) != actions.end();
}

Entry to_entry(const DecisionRecord& r) {
  Entry e;
  e.time = r.time;
  e.type = RecordType::kDecision;
  e.incident = r.incident != IncidentKind::kNone ? r.incident : derive_incident(r);
  e.queue_id = r.queue_id;
  e.message_id = r.message_id;
  e.direction = r.direction;
  e.sender = r.sender;
  e.recipients = r.recipients;
  e.auth_user = r.auth_user;
  e.client_addr = r.client_addr;
  e.department = r.department;
  e.rule = r.rule;
  e.actions = r.actions;
  e.certificates = r.certificates;
  e.algorithms = r.algorithms;
  e.verification = r.verification;
  e.reason = r.reason;
  e.verdict = r.verdict;
  e.detail = r.detail;
  return e;
}

Entry to_entry(const AdminRecord& r) {
  Entry e;
  e.time = r.time;
  e.type = RecordType::kAdmin;
  e.incident = r.incident;
  const std::string reason = lower(r.reason);
  if (e.incident == IncidentKind::kNone && r.action == "revoke" &&
      (reason == "keycompromise" || reason == "key-compromise")) {
    e.incident = IncidentKind::kKeyCompromise;
  }
  e.os_user = r.os_user.empty() ? current_os_user() : r.os_user;
  e.action = r.action;
  e.subject = r.subject;
  e.department = r.department;
  e.fingerprint = r.fingerprint;
  e.serial_hex = r.serial_hex;
  e.not_before = r.not_before;
  e.not_after = r.not_after;
  e.reason = r.reason;
  e.verdict = r.result;
  e.detail = r.detail;
  return e;
}

std::vector<std::string> column_values(const Entry& e) {
  return {std::to_string(e.seq),
          std::to_string(e.time),
          std::string(record_type_name(e.type)),
          std::string(incident_name(e.incident)),
          e.queue_id,
          e.message_id,
          e.direction,
          e.sender,
          list_json(e.recipients),
          e.auth_user,
          e.client_addr,
          e.department,
          e.rule,
          list_json(e.actions),
          certs_json(e.certificates),
          list_json(e.algorithms),
          e.verification,
          e.reason,
          e.verdict,
          e.os_user,
          e.action,
          e.subject,
          e.fingerprint,
          e.serial_hex,
          std::to_string(e.not_before),
          std::to_string(e.not_after),
          e.detail,
          e.prev_hash,
          e.hash};
}

bool from_column_values(const std::vector<std::string>& v, Entry& e) {
  if (v.size() != kColumns.size()) {
    return false;
  }
  e.seq = static_cast<std::uint64_t>(to_int(v[0]));
  e.time = to_int(v[1]);
  e.type = v[2] == "admin" ? RecordType::kAdmin : RecordType::kDecision;
  e.incident = incident_from_name(v[3]).value_or(IncidentKind::kOther);
  e.queue_id = v[4];
  e.message_id = v[5];
  e.direction = v[6];
  e.sender = v[7];
  e.auth_user = v[9];
  e.client_addr = v[10];
  e.department = v[11];
  e.rule = v[12];
  e.verification = v[16];
  e.reason = v[17];
  e.verdict = v[18];
  e.os_user = v[19];
  e.action = v[20];
  e.subject = v[21];
  e.fingerprint = v[22];
  e.serial_hex = v[23];
  e.not_before = to_int(v[24]);
  e.not_after = to_int(v[25]);
  e.detail = v[26];
  e.prev_hash = v[27];
  e.hash = v[28];
  return parse_list(v[8], e.recipients) && parse_list(v[13], e.actions) &&
         parse_certs(v[14], e.certificates) && parse_list(v[15], e.algorithms);
}

std::string compute_hash(const Entry& e) {
  const auto values = column_values(e);
  smime::ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const auto feed = [&ctx](std::string_view s) {
    std::array<unsigned char, 8> len{};
    auto n = static_cast<std::uint64_t>(s.size());
    for (size_t i = 0; i < len.size(); ++i) {
      len[len.size() - 1 - i] = static_cast<unsigned char>(n & 0xffU);
      n >>= 8U;
    }
    EVP_DigestUpdate(ctx.get(), len.data(), len.size());
    EVP_DigestUpdate(ctx.get(), s.data(), s.size());
  };
  feed("smime-milter-audit/1");
  feed(e.prev_hash);
  // Columns "time" (1) .. "detail" (26); seq, prev_hash (fed above) and hash excluded.
  for (size_t i = 1; i + 2 < values.size(); ++i) {
    feed(values[i]);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &md_len);
  return smime::ossl::hex(md.data(), md_len);
}

std::string current_os_user() {
  const uid_t uid = ::geteuid();
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  std::string name = "uid:" + std::to_string(uid);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    name = found->pw_name;
  }
  // Admins usually run smimectl through sudo: keep who invoked it (set by sudo, which
  // only root could fake, and root is who we are recording anyway).
  const char* sudo_user = std::getenv("SUDO_USER");
  if (uid == 0 && sudo_user != nullptr && *sudo_user != '\0') {
    name += " (sudo by " + std::string(sudo_user).substr(0, 64) + ")";
  }
  return name;
}

}  // namespace audit
