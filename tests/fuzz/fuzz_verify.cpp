// libFuzzer target: MIME parse + S/MIME detection + verification of arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "smime/detect.h"
#include "smime/verify.h"

namespace {
smime::fuzz::Trust* g_trust = nullptr;  // process lifetime, created once in Initialize
smime::fuzz::Revocation* g_revocation = nullptr;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  static smime::fuzz::Trust trust;
  static smime::fuzz::Revocation revocation;
  trust.load();
  g_trust = &trust;
  g_revocation = &revocation;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)smime::classify(input);
  smime::VerifyOptions options;
  options.from_address = "alice@example.com";
  options.at_time = 1780272000;  // inside the corpus certificates' validity
  options.limits.max_message_bytes = 1U << 20;
  options.limits.max_mime_depth = 16;
  options.limits.max_mime_parts = 200;
  auto report = smime::verify_message(input, *g_trust, *g_revocation, options);
  if (report) {
    for (const auto& s : report->signers) {
      (void)smime::auth_result_name(s.result);
    }
  }
  return 0;
}
