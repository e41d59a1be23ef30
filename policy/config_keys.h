// The table of every configuration key: where it lives, its type, default and meaning.
// It is the single source of docs/configuration.md (a test regenerates the document and
// compares) and of the check that packaging/smime-milter.conf documents every key.
// Thread-safety: static constant data.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace policy {

struct ConfigKey {
  std::string_view table;  // "daemon", "rule", "rule.match", "rule.match.headers", ...
  std::string_view key;
  std::string_view type;
  std::string_view default_value;
  std::string_view doc;
};

std::span<const ConfigKey> config_keys();

// The Markdown reference, exactly as committed in docs/configuration.md.
std::string configuration_reference();

}  // namespace policy
