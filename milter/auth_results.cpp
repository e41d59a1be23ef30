#include "milter/auth_results.h"

#include <cctype>

namespace milter {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Skips folding white space and (nested) comments; false on an unterminated comment.
bool skip_cfws(std::string_view& s) {
  for (;;) {
    while (!s.empty() && is_wsp(s.front())) {
      s.remove_prefix(1);
    }
    if (s.empty() || s.front() != '(') {
      return true;
    }
    int depth = 0;
    while (!s.empty()) {
      const char c = s.front();
      s.remove_prefix(1);
      if (c == '\\' && !s.empty()) {
        s.remove_prefix(1);
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        break;
      }
    }
    if (depth != 0) {
      return false;
    }
  }
}

// RFC 2045 token characters (RFC 8601 "value" = token / quoted-string).
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) {
    return false;
  }
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

std::optional<std::string> take_quoted(std::string_view& s) {
  std::string out;
  s.remove_prefix(1);  // opening quote
  while (!s.empty()) {
    const char c = s.front();
    s.remove_prefix(1);
    if (c == '"') {
      return out;
    }
    if (c == '\\' && !s.empty()) {
      out += s.front();
      s.remove_prefix(1);
    } else if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  return std::nullopt;
}

std::string quoted_string(std::string_view v) {
  std::string out = "\"";
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += ' ';  // never let peer data break the header line
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// Ordinary host names and addresses are tokens ('@' allowed: RFC 8601 pvalue).
std::string quote_if_needed(std::string_view v) {
  bool plain = !v.empty();
  for (const char c : v) {
    plain = plain && (is_token_char(c) || c == '@');
  }
  return plain ? std::string(v) : quoted_string(v);
}

std::string comment(std::string_view text) {
  std::string out = "(";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '(' || c == ')' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += ')';
  return out;
}

}  // namespace

std::optional<std::string> authserv_id_of(std::string_view value) {
  if (!skip_cfws(value) || value.empty()) {
    return std::nullopt;
  }
  if (value.front() == '"') {
    return take_quoted(value);
  }
  std::size_t n = 0;
  while (n < value.size() && is_token_char(value[n])) {
    ++n;
  }
  if (n == 0) {
    return std::nullopt;
  }
  return std::string(value.substr(0, n));
}

std::vector<HeaderEdit> remove_forged_auth_results(const std::vector<Header>& headers,
                                                   std::string_view ours) {
  std::vector<HeaderEdit> edits;
  int index = 0;
  for (const auto& h : headers) {
    if (!iequals(h.name, kAuthResultsHeader)) {
      continue;
    }
    ++index;
    const auto id = authserv_id_of(h.value);
    if (id && iequals(*id, ours)) {
      edits.insert(
          edits.begin(),
          HeaderEdit{HeaderEdit::Kind::kDelete, std::string(kAuthResultsHeader), index, {}});
    }
  }
  return edits;
}

std::string fold_header_value(std::string_view name, std::string_view value, std::size_t width) {
  std::string out;
  std::size_t line = name.size() + 2;  // "Name: "
  bool first = true;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    const auto sp = value.find(' ', pos);
    const auto word =
        value.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    if (first) {
      out += word;
      line += word.size();
      first = false;
    } else if (line + 1 + word.size() > width) {
      out += "\n\t";
      out += word;
      line = 1 + word.size();  // a tab counts as one column here; clients render 8
    } else {
      out += ' ';
      out += word;
      line += 1 + word.size();
    }
    if (sp == std::string_view::npos) {
      break;
    }
    pos = sp + 1;
  }
  return out;
}

std::string format_auth_results(std::string_view authserv_id,
                                std::span<const SmimeAuthResult> results) {
  std::string v = quote_if_needed(authserv_id) + ";";
  if (results.empty()) {
    v += " none";
  }
  bool first = true;
  for (const auto& r : results) {
    if (!first) {
      v += ";";
    }
    first = false;
    v += " smime=" + quote_if_needed(r.result.empty() ? "none" : r.result);
    if (!r.reason.empty()) {
      v += " " + comment(r.reason);
    }
    if (!r.identifier.empty()) {
      v += " body.smime-identifier=" + quote_if_needed(r.identifier);
    }
    if (!r.serial.empty()) {
      v += " body.smime-serial=" + quote_if_needed(r.serial);
    }
    if (!r.issuer.empty()) {
      // Always a quoted-string: DNs hold ',', '=' and spaces (RFC 7281 2).
      v += " body.smime-issuer=" + quoted_string(r.issuer);
    }
  }
  return fold_header_value(kAuthResultsHeader, v);
}

}  // namespace milter
