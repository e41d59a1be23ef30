// The real smime-milter daemon harvesting after its privilege drop: the keystore is a
// root-owned 0600 file in a root-only directory and the daemon runs as `nobody`, so only
// the writable handle it opened before dropping privileges can store the certificate of
// an inbound signer (milter/README.md, "Harvesting"). Driven by a generated miltertest
// script carrying mail signed by `openssl cms`.
#include <chrono>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "keystore/keystore.h"
#include "tests/common/test_support.h"
#include "tests/harness/milter_tools.h"
#include "tests/milter/smime_fixture.h"

namespace milter {
namespace {

namespace fs = std::filesystem;

// Lua long-bracket literal of `s` (level chosen so that `s` cannot close it).
std::string lua_string(const std::string& s) {
  std::string eq = "=";
  while (s.find("]" + eq + "]") != std::string::npos) {
    eq += "=";
  }
  return "[" + eq + "[\n" + s + "]" + eq + "]";
}

// A miltertest script sending `message` (CRLF) from outside as queue id HARVEST1.
std::string script_for(const std::string& message, const std::string& sender) {
  const ParsedMessage p = parse_message(message);
  std::string lua = "dofile(script_dir .. \"/common.lua\")\nlocal conn = open_conn()\n";
  lua += "envelope(conn, \"HARVEST1\", \"<" + sender + ">\", {\"<alice@example.gov>\"})\n";
  lua += "headers(conn, {\n";
  for (const auto& h : p.headers) {
    std::string v = h.value;
    if (!v.empty() && v.front() == ' ') {
      v.erase(0, 1);  // miltertest sends the value after ": "
    }
    lua += "  {" + lua_string(h.name) + ", " + lua_string(v) + "},\n";
  }
  lua += "})\nmt.bodystring(conn, " + lua_string(p.body) + ")\n";
  lua += "finish(conn, \"signed inbound\")\nmt.disconnect(conn)\n";
  return lua;
}

std::string proc_uid_line(pid_t pid) {
  const std::string status = testsupport::read_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find("Uid:");
  return at == std::string::npos ? std::string() : status.substr(at, status.find('\n', at) - at);
}

TEST(DaemonHarvest, SignerIsHarvestedAfterThePrivilegeDropIntoARootOnlyKeystore) {
  if (::geteuid() != 0) {
    GTEST_FAIL() << "needs root to drop privileges to nobody (the CI runs as root)";
  }
  testsupport::TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all);  // root only
  ASSERT_TRUE(fixture::make_keystore(dir.path(), {{"alice", ""}}));
  testsupport::write_file(dir / "m.conf",
                          "[daemon]\nuser = \"nobody\"\ngroup = \"nogroup\"\n"
                          "[milter]\nauthserv_id = \"mx.example.gov\"\ninternal_hosts = []\n"
                          "[keystore]\npath = \"" +
                              (dir / "keystore.db").string() + "\"\nsecret_file = \"" +
                              (dir / "secret").string() + "\"\n[audit]\ndatabase = \"" +
                              (dir / "audit.db").string() + "\"\n",
                          0644);
  harness::MilterProcess milter(SMIME_MILTER_BINARY, {"-f", "-c", (dir / "m.conf").string()});
  // The socket accepts (into its backlog) before the drop; messages are served after it.
  bool dropped = false;
  for (int i = 0; i < 200 && !dropped; ++i) {
    dropped = proc_uid_line(milter.pid()).find("\t65534\t65534") != std::string::npos;
    if (!dropped) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ASSERT_TRUE(dropped) << proc_uid_line(milter.pid()) << "\n" << milter.output();

  const std::string msg = fixture::crlf(
      fixture::openssl_signed(dir.path(), "carol", "carol@example.gov", "Hello Alice."));
  const fs::path scripts = SMIME_MILTERTEST_DIR;
  const auto r = harness::run_miltertest(script_for(msg, "carol@example.gov"),
                                         {{"socket", milter.libmilter_spec()},
                                          {"authserv_id", "mx.example.gov"},
                                          {"script_dir", scripts.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- milter log:\n" << milter.output();
  const std::string log = milter.output();
  EXPECT_NE(log.find("HARVEST1: verdict=continue"), std::string::npos) << log;
  EXPECT_NE(
      log.find("harvested=" + fixture::fingerprint(testsupport::pki("carol.crt")).substr(0, 16)),
      std::string::npos)
      << log;

  keystore::OpenOptions o;
  o.read_only = true;
  auto ks = keystore::Keystore::open((dir / "keystore.db").string(), o);
  ASSERT_TRUE(ks.has_value()) << ks.error().message();
  auto recs = (*ks)->find_certs("carol@example.gov");
  ASSERT_TRUE(recs.has_value()) << recs.error().message();
  ASSERT_EQ(recs->size(), 1U) << log;
  EXPECT_EQ(recs->front().origin, "harvested");
}

}  // namespace
}  // namespace milter
