// Measures the audit trail's durable write rate (records/s, synchronous=FULL) with N
// concurrent writers, as the milter's sessions append one record per message and wait
// for it: group commit (the writer commits whatever is queued as one transaction) vs
// one commit per record (max_batch = 1). Not a test (no timing assertion anywhere);
// the numbers in audit/README.md come from it.
// Usage: audit_trail_throughput [DIR] [SECONDS_PER_RUN]   (DIR on the disk to measure)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "audit/trail.h"

namespace {

audit::DecisionRecord record(int i) {
  audit::DecisionRecord r;
  r.queue_id = "Q" + std::to_string(i);
  r.message_id = "<m" + std::to_string(i) + "@example.gov>";
  r.direction = "outbound";
  r.sender = "alice@example.gov";
  r.recipients = {"bob@example.gov"};
  r.department = "Dinas Komunikasi";
  r.actions = {"sign", "encrypt"};
  r.certificates = {{"signer", std::string(64, 'a'), "01", "alice@example.gov"}};
  r.verdict = "accept";
  return r;
}

// Records/s over `seconds` with `writers` threads each appending and waiting.
double measure(const std::filesystem::path& file, int writers, std::size_t max_batch,
               double seconds) {
  std::filesystem::remove(file);
  audit::Options o;
  o.max_batch = max_batch;
  o.head_sink = [](std::string_view) {};
  auto t = audit::Trail::open(file.string(), o);
  if (!t) {
    std::fprintf(stderr, "%s\n", t.error().message().c_str());
    std::exit(1);
  }
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; !stop.load(); ++i) {
        if ((*t)->append_decision(record(w * 1000000 + i))) {
          done.fetch_add(1);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& th : threads) {
    th.join();
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  auto v = (*t)->verify();
  if (!v || !v->ok()) {
    std::fprintf(stderr, "chain does not verify after the run\n");
    std::exit(1);
  }
  return static_cast<double>(done.load()) / took.count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path();
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  const auto file = dir / "audit-throughput.db";
  std::printf("writers  one-commit-per-record  group-commit   (durable records/s, %s)\n",
              dir.c_str());
  for (const int writers : {1, 4, 16, 64}) {
    const double single = measure(file, writers, 1, seconds);
    const double grouped = measure(file, writers, 512, seconds);
    std::printf("%7d  %21.0f  %12.0f\n", writers, single, grouped);
    std::fflush(stdout);
  }
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
  return 0;
}
