// Process chores of the daemon: pid file, dropping root, owning the unix socket.
// Thread-safety: call from main before any thread starts.
#pragma once

#include <string>

#include "policy/result.h"

namespace milter {

// Writes our pid to `path` (O_NOFOLLOW, mode 0644). Refuses when the file names a
// live process other than us (another instance); a stale file is replaced.
policy::Status write_pid_file(const std::string& path);

// When running as root: chown `socket_path` (if not empty) to user:group, then
// setgroups/setgid/setuid to them. Not root: nothing to drop, ok.
policy::Status drop_privileges(const std::string& user, const std::string& group,
                               const std::string& socket_path);

}  // namespace milter
