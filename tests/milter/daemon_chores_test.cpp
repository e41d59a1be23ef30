#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "milter/daemon.h"
#include "milter/listen_socket.h"
#include "tests/common/test_support.h"

namespace milter {
namespace {

namespace fs = std::filesystem;

// A bound unix socket; listening or not.
int bind_unix(const fs::path& p, bool listen) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, p.c_str(), sizeof(a.sun_path) - 1);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  if (listen) {
    EXPECT_EQ(::listen(fd, 1), 0);
  }
  return fd;
}

TEST(StaleSocket, RemovesOnlyDeadSockets) {
  testsupport::TempDir dir;
  const fs::path stale = dir / "stale.sock";
  ::close(bind_unix(stale, false));  // the file stays, nobody listens
  ASSERT_TRUE(fs::exists(stale));
  EXPECT_TRUE(remove_stale_unix_socket(stale.string()));
  EXPECT_FALSE(fs::exists(stale));

  EXPECT_TRUE(remove_stale_unix_socket((dir / "missing.sock").string()));

  const fs::path live = dir / "live.sock";
  const int fd = bind_unix(live, true);
  const auto st = remove_stale_unix_socket(live.string());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), policy::Errc::kConflict);
  EXPECT_NE(st.error().detail().find("already running"), std::string::npos);
  EXPECT_TRUE(fs::exists(live));
  ::close(fd);

  const fs::path file = dir / "regular";
  testsupport::write_file(file, "not a socket");
  const auto st2 = remove_stale_unix_socket(file.string());
  ASSERT_FALSE(st2);
  EXPECT_NE(st2.error().detail().find("not a socket"), std::string::npos);
  EXPECT_TRUE(fs::exists(file));
}

int nodelay_of(int fd) {
  int v = 0;
  socklen_t len = sizeof(v);
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  return v;
}

TEST(NoDelay, SetOnListenerAndInheritedByAcceptedSockets) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  socklen_t al = sizeof(a);
  ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &al), 0);
  const int unrelated = ::socket(AF_INET, SOCK_STREAM, 0);  // not listening: untouched
  ASSERT_EQ(nodelay_of(lfd), 0);

  EXPECT_GE(set_nodelay_on_inet_listeners(), 1);
  EXPECT_NE(nodelay_of(lfd), 0);
  EXPECT_EQ(nodelay_of(unrelated), 0);

  const int cfd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(cfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const int afd = ::accept(lfd, nullptr, nullptr);
  ASSERT_GE(afd, 0);
  EXPECT_NE(nodelay_of(afd), 0) << "Linux copies TCP_NODELAY to accepted sockets";
  for (const int fd : {afd, cfd, unrelated, lfd}) {
    ::close(fd);
  }
}

TEST(PidFile, WritesOurPidAndRefusesALiveOther) {
  testsupport::TempDir dir;
  const fs::path p = dir / "m.pid";
  ASSERT_TRUE(write_pid_file(p.string()));
  EXPECT_EQ(testsupport::read_file(p), std::to_string(::getpid()) + "\n");

  testsupport::write_file(p, "1\n", 0644);  // pid 1 is always alive
  const auto st = write_pid_file(p.string());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), policy::Errc::kConflict);

  testsupport::write_file(p, "999999999\n", 0644);  // stale: no such process
  EXPECT_TRUE(write_pid_file(p.string()));
  EXPECT_EQ(testsupport::read_file(p), std::to_string(::getpid()) + "\n");

  const fs::path link = dir / "link.pid";
  fs::create_symlink(dir / "target", link);
  EXPECT_FALSE(write_pid_file(link.string())) << "never follows a symlink";
  EXPECT_FALSE(fs::exists(dir / "target"));
}

}  // namespace
}  // namespace milter
