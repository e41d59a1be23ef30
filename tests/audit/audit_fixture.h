// Shared helpers for the audit tests: sample records and the sqlite3 CLI.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "audit/trail.h"
#include "tests/common/test_support.h"

namespace audittest {

inline audit::DecisionRecord decision(int i, std::string direction = "outbound") {
  audit::DecisionRecord r;
  r.time = 1735689600 + i;  // 2025-01-01
  r.queue_id = "Q" + std::to_string(i);
  r.message_id = "<m" + std::to_string(i) + "@example.gov>";
  r.direction = std::move(direction);
  r.sender = "alice@example.gov";
  r.recipients = {"bob@example.gov", "erin@partner.example"};
  r.auth_user = "alice";
  r.client_addr = "192.0.2.10";
  r.department = "Dinas Komunikasi";
  r.rule = "sign-all";
  r.actions = {"sign"};
  r.certificates = {{"signer", "ab12", "01", "alice@example.gov"}};
  r.algorithms = {"sha256", "rsa-pkcs1"};
  r.verdict = "accept";
  return r;
}

inline audit::Options quiet_options() {
  audit::Options o;
  o.head_sink = [](std::string_view) {};
  return o;
}

inline std::unique_ptr<audit::Trail> open_trail(const std::filesystem::path& p,
                                                audit::Options o = quiet_options()) {
  auto t = audit::Trail::open(p.string(), std::move(o));
  if (!t) {
    ADD_FAILURE() << t.error().message();
    return nullptr;
  }
  return std::move(*t);
}

// Appends n decisions through the batching writer (futures, so batches form).
inline void fill(audit::Trail& t, int n, int first = 1) {
  std::vector<std::future<policy::Result<std::uint64_t>>> futs;
  futs.reserve(static_cast<size_t>(n));
  for (int i = first; i < first + n; ++i) {
    futs.push_back(t.submit(audit::to_entry(decision(i))));
  }
  for (auto& f : futs) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message();
  }
}

// Runs SQL on the trail with the sqlite3 command-line tool (a third party).
inline void sqlite_cli(const std::filesystem::path& db, const std::string& sql) {
  const auto r = testsupport::run({"sqlite3", db.string(), sql});
  ASSERT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace audittest
