#include "milter/snapshot.h"

#include <unistd.h>

#include <array>
#include <cstdlib>

namespace milter {
namespace {
std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') {
    return "localhost";
  }
  return buf.data();
}
}  // namespace

std::shared_ptr<const Snapshot> make_snapshot(policy::ConfigPtr config,
                                              const SnapshotOverrides& overrides) {
  auto s = std::make_shared<Snapshot>();
  Settings& st = s->settings;
  if (config) {
    st.max_message_bytes = config->limits.max_message_size;
    st.max_headers = config->limits.max_headers;
    st.spool_threshold = config->limits.spool_threshold;
    st.authserv_id = config->authserv_id;
  }
  if (!overrides.authserv_id.empty()) {
    st.authserv_id = overrides.authserv_id;
  }
  if (st.authserv_id.empty()) {
    st.authserv_id = host_name();
  }
  if (!overrides.spool_dir.empty()) {
    st.spool_dir = overrides.spool_dir;
  } else if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t == '/') {
    st.spool_dir = t;
  }
  s->config = std::move(config);
  s->pipeline = std::make_shared<BasicPipeline>();
  return s;
}

}  // namespace milter
