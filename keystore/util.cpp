#include "keystore/util.h"

#include <cctype>
#include <chrono>
#include <ctime>

#include <openssl/crypto.h>

namespace keystore::detail {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utc_date(std::int64_t t) {
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string name_der(const X509_NAME* name) {
  unsigned char* der = nullptr;
  const int n = ::i2d_X509_NAME(name, &der);
  if (n <= 0) {
    return {};
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  ::OPENSSL_free(der);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool is_hex(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (const char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

std::string norm_serial(std::string_view hex) {
  std::string s = lower(hex);
  std::string out;
  for (const char c : s) {
    if (c != ':' && c != ' ') {
      out += c;
    }
  }
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : out.substr(first);
}

}  // namespace keystore::detail
