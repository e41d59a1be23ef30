// One writer revoking while 8 threads look up: no errors, and no stale answer once
// the revocation is committed (every lookup that starts after the commit must miss).
#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/keystore/fixture.h"

namespace keystore::test {
namespace {

TEST_F(KeystoreTest, RevocationWhileEightReadersLookUp) {
  import_ok(p12_request("alice"));
  import_ok(cert_request("bob"));
  auto reader = open_store();  // the milter's connection; the writer is ks_
  ASSERT_TRUE(reader);
  constexpr std::array<CertType, 0> kAny{};
  std::atomic<bool> committed{false};
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, stale{0}, hits{0}, misses{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        const bool after_commit = committed.load();  // read before the lookup starts
        if (t % 2 == 0) {
          auto r = reader->signing_credential("alice@example.gov", kAny);
          if (!r) {
            ++errors;
          } else if (r->has_value()) {
            ++hits;
            if (after_commit) {
              ++stale;
            }
          } else {
            ++misses;
          }
        } else {
          auto r = reader->encryption_certs("alice@example.gov");
          if (!r) {
            ++errors;
          } else if (!r->empty() && after_commit) {
            ++stale;
          }
          auto b = reader->encryption_certs("bob@example.gov");  // unaffected
          if (!b || b->size() != 1U) {
            ++errors;
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto rev = ks_->revoke("alice@example.gov", "keyCompromise", "test");
  ASSERT_TRUE(rev.has_value()) << rev.error().message();
  committed.store(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop.store(true);
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(hits.load(), 0);    // lookups did find alice before the revocation
  EXPECT_GT(misses.load(), 0);  // and stopped finding her after it
}

}  // namespace
}  // namespace keystore::test
