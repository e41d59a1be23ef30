// Internal to the config loader: reads [default] and [[rule]] into Config::default_rule
// and Config::rules, then checks rules against [milter] mode. Throws detail::ConfigFault.
#pragma once

#include <toml++/toml.h>

#include "policy/config.h"
#include "policy/toml_reader.h"

namespace policy::detail {

void read_rules(const TomlReader& r, const toml::table& root, Config& c);

}  // namespace policy::detail
