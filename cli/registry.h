// smimectl's command groups register themselves here, one source file per group
// (cmd_keystore.cpp, cmd_policy.cpp, ...), so groups can be added without touching
// main.cpp. Registration runs during static initialisation of the smimectl binary.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace cli {

// Context shared by every command: global options parsed by main.
struct Globals {
  std::string config_path = "/etc/smime-milter/smime-milter.conf";
  std::string db_path;  // --db overrides the keystore path from the configuration
  bool json = false;
};

// A registrar adds its subcommands to `app`; their callbacks set `exit_code`.
using Registrar = std::function<void(CLI::App& app, Globals& globals, int& exit_code)>;

// Returns true so it can initialise a namespace-scope constant.
bool register_group(Registrar registrar);

}  // namespace cli
