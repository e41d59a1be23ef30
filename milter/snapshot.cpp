#include "milter/snapshot.h"

#include <array>
#include <cstdlib>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "audit/trail.h"
#include "milter/audit_hook.h"
#include "milter/smime_pipeline.h"

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

policy::Result<std::shared_ptr<keystore::Keystore>> open_keystore(const policy::Config& config) {
  keystore::OpenOptions o;
  o.read_only = true;
  o.secret_file = config.keystore.secret_file;
  o.allow_unsafe_permissions = config.keystore.allow_unsafe_permissions;
  auto ks = keystore::Keystore::open(config.keystore.path, o);
  if (!ks) {
    return std::move(ks).error();
  }
  return std::shared_ptr<keystore::Keystore>(std::move(*ks));
}

policy::Result<std::shared_ptr<keystore::Keystore>> open_harvest_keystore(
    const policy::Config& config) {
  keystore::OpenOptions o;
  o.read_only = false;
  o.allow_unsafe_permissions = config.keystore.allow_unsafe_permissions;
  auto ks = keystore::Keystore::open(config.keystore.path, o);
  if (!ks) {
    return std::move(ks).error();
  }
  return std::shared_ptr<keystore::Keystore>(std::move(*ks));
}

std::shared_ptr<const Snapshot> make_snapshot(policy::ConfigPtr config,
                                              const SnapshotOverrides& overrides,
                                              std::shared_ptr<keystore::Keystore> keystore,
                                              std::shared_ptr<audit::Recorder> recorder,
                                              std::shared_ptr<keystore::Keystore> harvester) {
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
  if (config && !config->trust.harvest_certificates) {
    harvester.reset();
  }
  s->config = std::move(config);
  s->pipeline = std::make_shared<SmimePipeline>(std::move(keystore), std::move(harvester));
  s->recorder = std::move(recorder);
  return s;
}

namespace {
// The system certificate (with its key) named by audit.head_signer, or nullptr (logged):
// heads are then published unsigned rather than not at all.
std::shared_ptr<const smime::Credential> head_signer(const policy::Config& config) {
  auto ks = open_keystore(config);
  if (!ks) {
    spdlog::error("audit chain heads will be unsigned: keystore {}: {}", config.keystore.path,
                  ks.error().message());
    return nullptr;
  }
  constexpr std::array kSystem{keystore::CertType::kSystem};
  auto c = (*ks)->signing_credential(config.audit.head_signer, kSystem);
  if (!c || !c->has_value()) {
    spdlog::error(
        "audit chain heads will be unsigned: no usable system certificate with a key for {}{}",
        config.audit.head_signer, c ? "" : ": " + c.error().message());
    return nullptr;
  }
  return std::make_shared<const smime::Credential>(std::move(**c));
}
}  // namespace

std::shared_ptr<audit::Recorder> open_audit_trail(const policy::Config& config) {
  audit::Options o;
  o.head_interval = static_cast<std::int64_t>(config.audit.head_interval);
  if (o.head_interval > 0 && !config.audit.head_signer.empty()) {
    o.head_signer = head_signer(config);
  }
  auto t = audit::Trail::open(config.audit.database, std::move(o));
  if (!t) {
    spdlog::error("audit trail {} unavailable, on_audit_failure applies to every message: {}",
                  config.audit.database, t.error().message());
    return unavailable_recorder("audit trail " + config.audit.database +
                                " could not be opened: " + t.error().message());
  }
  return std::shared_ptr<audit::Recorder>(std::move(*t));
}

}  // namespace milter
