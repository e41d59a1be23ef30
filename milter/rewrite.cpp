#include "milter/rewrite.h"

#include <algorithm>
#include <map>

namespace milter {

ParsedMessage parse_message(std::string_view text) {
  ParsedMessage out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = text.size();
    }
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const std::size_t next = eol + 1;
    if (line.empty()) {
      pos = next;
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !out.headers.empty()) {
      out.headers.back().value += "\n";
      out.headers.back().value += line;
    } else {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) {
        break;  // not a header: the rest is body
      }
      out.headers.push_back(
          Header{std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))});
    }
    pos = next;
  }
  if (pos < text.size()) {
    out.body = std::string(text.substr(pos));
  }
  return out;
}

bool is_mime_header(std::string_view name) {
  return iequals(name, "MIME-Version") ||
         (name.size() > 8 && iequals(name.substr(0, 8), "Content-"));
}

void rewrite_to(const std::vector<Header>& original, std::string_view replacement, Outcome& out) {
  std::map<std::string, int> seen;  // by lower-case name: occurrences so far
  for (const auto& h : original) {
    std::string key = h.name;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const int index = ++seen[key];
    if (is_mime_header(h.name)) {
      out.header_edits.push_back(HeaderEdit{HeaderEdit::Kind::kDelete, h.name, index, {}});
    }
  }
  ParsedMessage p = parse_message(replacement);
  for (auto& h : p.headers) {
    if (!is_mime_header(h.name)) {
      continue;
    }
    std::string_view v = h.value;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
      v.remove_prefix(1);
    }
    out.header_edits.push_back(HeaderEdit{HeaderEdit::Kind::kAdd, h.name, 0, std::string(v)});
  }
  out.new_body = std::move(p.body);
}

void order_edits(std::vector<HeaderEdit>& edits) {
  auto rank = [](HeaderEdit::Kind k) {
    return k == HeaderEdit::Kind::kDelete ? 0 : (k == HeaderEdit::Kind::kChange ? 1 : 2);
  };
  std::stable_sort(edits.begin(), edits.end(), [&](const HeaderEdit& a, const HeaderEdit& b) {
    if (rank(a.kind) != rank(b.kind)) {
      return rank(a.kind) < rank(b.kind);
    }
    if (a.kind == HeaderEdit::Kind::kDelete) {
      return a.index > b.index;
    }
    return false;
  });
}

std::string delivered_message(const std::vector<Header>& headers, std::string_view body,
                              const Outcome& o) {
  std::vector<const std::string*> value(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    value[i] = &headers[i].value;
  }
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kAdd) {
      continue;
    }
    int n = 0;
    for (std::size_t i = 0; i < headers.size(); ++i) {
      if (iequals(headers[i].name, e.name) && ++n == e.index) {
        value[i] = e.kind == HeaderEdit::Kind::kDelete ? nullptr : &e.value;
      }
    }
  }
  std::string out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (value[i] == nullptr) {
      continue;
    }
    const bool changed = value[i] != &headers[i].value;
    out += headers[i].name + (changed ? ": " : ":") + *value[i] + "\r\n";
  }
  for (const auto& e : o.header_edits) {
    if (e.kind == HeaderEdit::Kind::kAdd) {
      out += e.name + ": " + e.value + "\r\n";
    }
  }
  out += "\r\n";
  if (o.new_body_file) {
    auto file_body = o.new_body_file->contents();
    out += file_body ? std::string_view(*file_body) : std::string_view();
  } else {
    out += o.new_body ? std::string_view(*o.new_body) : body;
  }
  return out;
}

}  // namespace milter
