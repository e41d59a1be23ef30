// smimectl: admin and auditor CLI for smime-milter. Command groups live in cmd_*.cpp
// and register through cli/registry.h.
#include <cstdio>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "cli/registry.h"

namespace cli {
namespace {
std::vector<Registrar>& registrars() {
  static std::vector<Registrar> r;
  return r;
}
}  // namespace

bool register_group(Registrar registrar) {
  registrars().push_back(std::move(registrar));
  return true;
}

}  // namespace cli

int main(int argc, char** argv) {
  CLI::App app{"smimectl: manage the smime-milter certificate directory, policy and audit trail"};
  app.require_subcommand(1);
  cli::Globals globals;
  app.add_option("-c,--config", globals.config_path, "configuration file")->capture_default_str();
  app.add_option("--db", globals.db_path, "keystore database (overrides the configuration)");
  app.add_flag("--json", globals.json, "machine-readable JSON output");
  int exit_code = cli::kExitOk;
  for (auto& r : cli::registrars()) {
    r(app, globals, exit_code);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smimectl: internal error: %s\n", e.what());
    return cli::kExitInternal;
  }
  return exit_code;
}
