// The daemon's view of libmilter, without libmilter types: main.cpp configures and runs
// the filter through these functions, implemented in libmilter_glue.cpp (the only file
// that includes <libmilter/mfapi.h>). libmilter keeps global state, so there is one
// filter per process.
#pragma once

#include <cstddef>
#include <string>

#include "milter/pipeline.h"
#include "policy/result.h"

namespace milter {

struct GlueOptions {
  std::string name = "smime-milter";
  std::string libmilter_socket;  // "local:/path", "inet:port@host" ...
  int backlog = 128;
  int timeout_seconds = 300;
};

// smfi_register + smfi_setconn + smfi_opensocket. Sessions get snapshots from `source`.
policy::Status glue_open(const GlueOptions& options, SnapshotSource source);
// smfi_main: serves until glue_stop(); returns false when libmilter failed.
bool glue_run();
void glue_stop();
// Messages between MAIL FROM and end-of-message/abort, over all connections.
std::size_t glue_messages_in_flight();

}  // namespace milter
