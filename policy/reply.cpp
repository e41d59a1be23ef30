#include "policy/reply.h"

#include <array>
#include <cctype>

namespace policy {
namespace {

constexpr std::size_t kMaxValue = 200;  // one substituted value
constexpr std::size_t kMaxText = 400;   // the whole text after substitution
constexpr std::array<std::string_view, 4> kVariables{"sender", "recipients", "rule", "reason"};

struct Defaults {
  std::string_view status_suffix;  // ".7.1": the X.Y.Z without its class digit
  std::string_view text;
};

Defaults defaults_for(Failure f) {
  switch (f) {
    case Failure::kNoSigningCert:
      return {".7.1", "no usable signing certificate for %{sender}"};
    case Failure::kNoRecipientCert:
      return {".7.1", "encryption required but no certificate for %{recipients}"};
    case Failure::kRevoked:
      return {".7.1", "certificate revoked: %{reason}"};
    case Failure::kRevocationUnknown:
      return {".7.5", "certificate revocation status unknown, try again later"};
    case Failure::kBadSignature:
      return {".7.5", "S/MIME signature did not verify: %{reason}"};
    case Failure::kDecryptError:
      return {".7.5", "cannot decrypt the S/MIME message"};
    case Failure::kKeystoreUnavailable:
      return {".3.0", "certificate directory unavailable, try again later"};
    case Failure::kInternalError:
      return {".3.0", "S/MIME gateway error, try again later"};
  }
  return {".3.0", "error"};
}

bool all_digits(std::string_view s) {
  for (const char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return !s.empty();
}

bool is_xcode(std::string_view s) {
  const auto d1 = s.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : s.find('.', d1 + 1);
  if (d2 == std::string_view::npos || d1 != 1) {
    return false;
  }
  const auto b = s.substr(2, d2 - 2);
  const auto c = s.substr(d2 + 1);
  return all_digits(s.substr(0, 1)) && all_digits(b) && b.size() <= 3 && all_digits(c) &&
         c.size() <= 3;
}

Status check_template(std::string_view t) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '\r' || c == '\n') {
      return unexpected(Errc::kConfig, "reply must be one line");
    }
    if (c != '%') {
      continue;
    }
    if (i + 1 < t.size() && t[i + 1] == '%') {
      ++i;
      continue;
    }
    const auto close = t.find('}', i);
    if (i + 1 >= t.size() || t[i + 1] != '{' || close == std::string_view::npos) {
      return unexpected(Errc::kConfig, "'%' must start %{variable} or be written %%");
    }
    const auto var = t.substr(i + 2, close - i - 2);
    bool known = false;
    for (const auto k : kVariables) {
      known = known || k == var;
    }
    if (!known) {
      return unexpected(Errc::kConfig,
                        "unknown reply variable %{" + std::string(var) +
                            "}; known: %{recipients}, %{sender}, %{rule}, %{reason}");
    }
    i = close;
  }
  return {};
}

std::string clean(std::string_view v, std::size_t max) {
  std::string out;
  for (const char c : v) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F) ? '?' : c;
  }
  return out;
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& item : items) {
    if (out.size() > kMaxValue) {
      break;
    }
    out += shown == 0 ? "" : ", ";
    out += clean(item, kMaxValue);
    ++shown;
  }
  if (shown < items.size()) {
    out += " and " + std::to_string(items.size() - shown) + " more";
  }
  return out;
}

}  // namespace

FailureAction default_failure_action(Failure f, Action action) {
  const Defaults d = defaults_for(f);
  FailureAction fa;
  fa.action = action;
  fa.text_template = std::string(d.text);
  if (action == Action::kReject) {
    fa.rcode = "550";
    fa.xcode = "5" + std::string(d.status_suffix);
  } else if (action == Action::kTempfail) {
    fa.rcode = "451";
    fa.xcode = "4" + std::string(d.status_suffix);
  }
  return fa;
}

Result<FailureAction> parse_failure_reply(Action action, std::string_view reply) {
  FailureAction fa;
  fa.action = action;
  std::string_view rest = reply;
  const bool smtp = action == Action::kReject || action == Action::kTempfail;
  const char cls = action == Action::kReject ? '5' : '4';
  const auto word = rest.substr(0, rest.find(' '));
  if (word.size() == 3 && all_digits(word)) {
    if (!smtp || word[0] != cls) {
      return unexpected(Errc::kConfig, "reply code " + std::string(word) +
                                           " does not fit action '" + std::string(name(action)) +
                                           "'" + (smtp ? std::string(" (use ") + cls + "xx)" : ""));
    }
    fa.rcode = std::string(word);
    rest = rest.substr(std::min(rest.size(), word.size() + 1));
  }
  const auto xword = rest.substr(0, rest.find(' '));
  if (is_xcode(xword)) {
    if (!smtp || xword[0] != cls) {
      return unexpected(Errc::kConfig, "enhanced status " + std::string(xword) +
                                           " does not fit action '" + std::string(name(action)) +
                                           "'");
    }
    fa.xcode = std::string(xword);
    rest = rest.substr(std::min(rest.size(), xword.size() + 1));
  }
  if (smtp && fa.rcode.empty()) {
    fa.rcode = action == Action::kReject ? "550" : "451";
  }
  if (smtp && fa.xcode.empty()) {
    fa.xcode = action == Action::kReject ? "5.7.1" : "4.7.1";
  }
  if (auto st = check_template(rest); !st) {
    return st.error();
  }
  fa.text_template = std::string(rest);
  return fa;
}

std::string render_template(std::string_view t, const ReplyVars& vars) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '%') {
      out += t[i];
      continue;
    }
    if (i + 1 < t.size() && t[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    const auto close = t.find('}', i);
    if (i + 1 >= t.size() || t[i + 1] != '{' || close == std::string_view::npos) {
      out += '%';
      continue;
    }
    const auto var = t.substr(i + 2, close - i - 2);
    if (var == "sender") {
      out += clean(vars.sender.empty() ? "<>" : vars.sender, kMaxValue);
    } else if (var == "recipients") {
      out += list(vars.recipients);
    } else if (var == "rule") {
      out += clean(vars.rule, kMaxValue);
    } else if (var == "reason") {
      out += clean(vars.reason, kMaxValue);
    }
    i = close;
  }
  if (out.size() > kMaxText) {
    out.resize(kMaxText);
    out += "...";
  }
  return out;
}

}  // namespace policy
