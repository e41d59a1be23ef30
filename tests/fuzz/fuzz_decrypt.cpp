// libFuzzer target: MIME parse + decryption of arbitrary bytes with the keys named in
// SMIME_FUZZ_KEYS (see fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "smime/decrypt.h"

namespace {
smime::fuzz::Keys* g_keys = nullptr;  // process lifetime, created once in Initialize
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  static smime::fuzz::Keys keys;
  keys.load();
  g_keys = &keys;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  smime::DecryptOptions options;
  options.limits.max_message_bytes = 1U << 20;
  options.limits.max_mime_depth = 16;
  options.limits.max_mime_parts = 200;
  (void)smime::decrypt_message(input, *g_keys, options);
  return 0;
}
