// integration_child: tests that fail on purpose, run as a child by fixture_test.cpp
// to prove PostfixInstance cleans up. Not registered with ctest. Each test prints
//   INSTANCE dir=<dir> smtp=<port> sink=<port>
// on stdout once its instance is up, then fails in its own way.
#include <cstdio>
#include <signal.h>
#include <stdexcept>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/harness/postfix_fixture.h"

namespace {

void announce(const harness::PostfixInstance& pf) {
  std::printf("INSTANCE dir=%s smtp=%u sink=%u\n", pf.dir().c_str(),
              static_cast<unsigned>(pf.smtp_port()), static_cast<unsigned>(pf.sink_port()));
  std::fflush(stdout);
}

TEST(Child, FailsAnAssertion) {
  const harness::PostfixInstance pf;
  announce(pf);
  ASSERT_EQ(1, 2) << "fails on purpose";
}

TEST(Child, Throws) {
  const harness::PostfixInstance pf;
  announce(pf);
  throw std::runtime_error("throws on purpose");
}

TEST(Child, IsKilled) {
  const harness::PostfixInstance pf;
  announce(pf);
  ::kill(::getpid(), SIGKILL);  // no unwinding: the watchdog must clean up
}

}  // namespace
