#include "tests/harness/sink_capture.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace harness {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string angle_address(std::string_view args) {
  const auto open = args.find('<');
  const auto close = args.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) {
    return std::string(args.substr(0, args.find(' ')));
  }
  return std::string(args.substr(open + 1, close - open - 1));
}

std::string unfold(std::string_view raw) {
  std::string out;
  for (const char c : raw) {
    if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  const auto first = out.find_first_not_of(" \t");
  return first == std::string::npos ? "" : out.substr(first);
}

}  // namespace

CapturedMessage parse_sink_dump(std::string_view dump, const std::filesystem::path& file) {
  CapturedMessage m;
  m.file = file;
  std::size_t pos = 0;
  bool saw_received = false;
  while (pos < dump.size()) {
    const auto nl = dump.find('\n', pos);
    if (nl == std::string_view::npos) {
      throw std::runtime_error("smtp-sink dump " + file.string() + " ends inside its own records");
    }
    const std::string_view line = dump.substr(pos, nl - pos);
    if (saw_received && (line.empty() || (line.front() != '\t' && line.front() != ' '))) {
      break;  // first line after smtp-sink's folded Received header: the message starts
    }
    pos = nl + 1;
    const auto value = [&](std::string_view tag) { return std::string(line.substr(tag.size())); };
    if (saw_received) {
      continue;
    }
    if (starts_with(line, "X-Client-Addr: ")) {
      m.client_addr = value("X-Client-Addr: ");
    } else if (starts_with(line, "X-Helo-Args: ")) {
      m.helo = value("X-Helo-Args: ");
    } else if (starts_with(line, "X-Mail-Args: ")) {
      m.mail_args = value("X-Mail-Args: ");
    } else if (starts_with(line, "X-Rcpt-Args: ")) {
      m.rcpt_args.push_back(value("X-Rcpt-Args: "));
    } else if (starts_with(line, "Received: ")) {
      saw_received = true;
    } else if (!starts_with(line, "X-Client-Proto: ")) {
      throw std::runtime_error("smtp-sink dump " + file.string() +
                               ": unexpected record: " + std::string(line.substr(0, 80)));
    }
  }
  if (!saw_received || m.mail_args.empty()) {
    throw std::runtime_error("smtp-sink dump " + file.string() + " lacks X-Mail-Args or Received");
  }
  std::string_view rest = dump.substr(pos);
  if (!rest.empty() && rest.back() == '\n') {
    rest.remove_suffix(1);  // the empty line smtp-sink appends after each message
  }
  m.message = std::string(rest);
  return m;
}

std::vector<std::pair<std::string, std::string>> split_header_fields(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!block.empty()) {
    auto nl = block.find('\n');
    std::string_view line = block.substr(0, nl);
    block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
    if (line.empty() || line == "\r") {
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
      fields.back().second += "\n" + std::string(line);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;  // not a header line; Postfix would have ended the header before it
    }
    fields.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return fields;
}

std::string CapturedMessage::envelope_from() const {
  return angle_address(mail_args);
}

std::vector<std::string> CapturedMessage::envelope_to() const {
  std::vector<std::string> out;
  out.reserve(rcpt_args.size());
  for (const auto& r : rcpt_args) {
    out.push_back(angle_address(r));
  }
  return out;
}

std::string CapturedMessage::header_block() const {
  if (starts_with(message, "\n")) {
    return "";
  }
  const auto end = message.find("\n\n");
  return end == std::string::npos ? message : message.substr(0, end + 1);
}

std::string CapturedMessage::body() const {
  if (starts_with(message, "\n")) {
    return message.substr(1);
  }
  const auto end = message.find("\n\n");
  return end == std::string::npos ? "" : message.substr(end + 2);
}

std::vector<std::string> CapturedMessage::headers(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : split_header_fields(header_block())) {
    if (iequals(n, name)) {
      out.push_back(unfold(v));
    }
  }
  return out;
}

std::string CapturedMessage::header(std::string_view name) const {
  auto all = headers(name);
  return all.empty() ? "" : all.front();
}

}  // namespace harness
