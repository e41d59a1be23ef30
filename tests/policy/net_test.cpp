// CIDR matching (v4, v6, v4-mapped v6) and socket spellings.
#include <string>

#include <gtest/gtest.h>

#include "policy/cidr.h"
#include "policy/socket.h"

namespace policy {
namespace {

TEST(Cidr, MatchesV4V6AndMapped) {
  struct Case {
    std::string cidr;
    std::string ip;
    bool want;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.1.2.3", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"10.0.0.0/8", "::ffff:10.1.2.3", true},  // Postfix on a dual-stack socket
      {"10.0.0.0/8", "::ffff:11.1.2.3", false},
      {"192.168.1.0/24", "192.168.1.255", true},
      {"192.168.1.0/24", "192.168.2.0", false},
      {"192.168.1.128/25", "192.168.1.127", false},
      {"192.168.1.128/25", "192.168.1.200", true},
      {"192.0.2.7", "192.0.2.7", true},
      {"192.0.2.7", "192.0.2.8", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},  // an IPv4 prefix never matches native IPv6
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"2001:db8::/33", "2001:db8:8000::1", false},
      {"::1/128", "::1", true},
      {"::1", "::2", false},
      {"[::1]/128", "[::1]", true},
      {"10.0.0.0/8", "not-an-ip", false},
      {"10.0.0.0/8", "", false},
  };
  for (const auto& c : cases) {
    auto cidr = Cidr::parse(c.cidr);
    ASSERT_TRUE(cidr) << c.cidr << ": " << cidr.error().message();
    EXPECT_EQ(in_any({*cidr}, c.ip), c.want) << c.cidr << " vs " << c.ip;
  }
}

TEST(Cidr, RejectsBadPrefixes) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"10.0.0.0/33", "'10.0.0.0/33': prefix length must be 0..32"},
      {"2001:db8::/129", "'2001:db8::/129': prefix length must be 0..128"},
      {"10.0.0.0/", "'10.0.0.0/': prefix length must be 0..32"},
      {"10.0.0.0/8x", "'10.0.0.0/8x': prefix length must be 0..32"},
      {"10.1.0.0/8", "'10.1.0.0/8' has host bits set below the /8 prefix"},
      {"10.0.0", "'10.0.0' is not an IPv4 or IPv6 address or CIDR prefix"},
      {"example.org", "'example.org' is not an IPv4 or IPv6 address or CIDR prefix"},
  };
  for (const auto& c : cases) {
    auto cidr = Cidr::parse(c.text);
    ASSERT_FALSE(cidr) << c.text;
    EXPECT_EQ(cidr.error().code(), Errc::kConfig);
    EXPECT_EQ(cidr.error().detail(), c.message);
  }
}

TEST(Socket, AcceptsLibmilterSpellings) {
  struct Case {
    std::string text;
    SocketSpec::Kind kind;
    std::string path;
    unsigned port;
    std::string host;
    std::string libmilter;
  };
  const Case cases[] = {
      {"local:/run/s.sock", SocketSpec::Kind::kLocal, "/run/s.sock", 0, "", "local:/run/s.sock"},
      {"unix:/run/s.sock", SocketSpec::Kind::kLocal, "/run/s.sock", 0, "", "local:/run/s.sock"},
      {"inet:8891", SocketSpec::Kind::kInet, "", 8891, "", "inet:8891"},
      {"inet:8891@127.0.0.1", SocketSpec::Kind::kInet, "", 8891, "127.0.0.1",
       "inet:8891@127.0.0.1"},
      {"inet:8891@localhost", SocketSpec::Kind::kInet, "", 8891, "localhost",
       "inet:8891@localhost"},
      {"inet6:8891@[::1]", SocketSpec::Kind::kInet6, "", 8891, "[::1]", "inet6:8891@[::1]"},
  };
  for (const auto& c : cases) {
    auto s = parse_socket(c.text);
    ASSERT_TRUE(s) << c.text << ": " << s.error().message();
    EXPECT_EQ(s->kind, c.kind) << c.text;
    EXPECT_EQ(s->path, c.path) << c.text;
    EXPECT_EQ(s->port, c.port) << c.text;
    EXPECT_EQ(s->host, c.host) << c.text;
    EXPECT_EQ(s->libmilter, c.libmilter) << c.text;
  }
}

TEST(Socket, RejectsWithExplanation) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"inet:127.0.0.1:8891",
       "socket 'inet:127.0.0.1:8891' uses Postfix's inet:host:port spelling; libmilter writes "
       "the port first: use \"inet:8891@127.0.0.1\""},
      {"inet:localhost:8891",
       "socket 'inet:localhost:8891' uses Postfix's inet:host:port spelling; libmilter writes "
       "the port first: use \"inet:8891@localhost\""},
      {"inet:0@127.0.0.1", "socket 'inet:0@127.0.0.1': port must be 1..65535 (inet:PORT@HOST)"},
      {"inet:70000", "socket 'inet:70000': port must be 1..65535 (inet:PORT@HOST)"},
      {"inet:8891@", "socket 'inet:8891@': empty host after '@'"},
      {"inet6:8891@example.org",
       "socket 'inet6:8891@example.org': inet6 host must be an IPv6 address, e.g. [::1]"},
      {"local:relative.sock",
       "local socket path must be absolute, e.g. "
       "local:/var/spool/postfix/smime-milter/smime-milter.sock"},
      {"tcp:8891", "socket 'tcp:8891' must start with local:, unix:, inet: or inet6:"},
  };
  for (const auto& c : cases) {
    auto s = parse_socket(c.text);
    ASSERT_FALSE(s) << c.text;
    EXPECT_EQ(s.error().code(), Errc::kConfig);
    EXPECT_EQ(s.error().detail(), c.message);
  }
}

}  // namespace
}  // namespace policy
