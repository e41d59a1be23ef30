// Helpers shared by the test binaries: the generated test PKI, the third-party corpus,
// temporary directories and small file utilities. Test-only code.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace testsupport {

// Directory holding the PKI made by tests/common/make_pki.sh (see its header for the
// layout). Generated on first use per build tree (under a file lock, so parallel
// tests share one), by the openssl CLI, never by our code.
const std::filesystem::path& pki_dir();
// pki_dir() / name
std::filesystem::path pki(std::string_view name);

// The third-party corpus: $SMIME_CORPUS_DIR, else the path configured at build time
// (../shared/corpus beside the checkout). Tests fail (not skip) when it is missing.
std::filesystem::path corpus_dir();

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, std::string_view data, unsigned mode = 0600);

// A fresh private (0700) directory removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout and stderr together
};
// Runs `argv` (no shell), feeding `input` on stdin; captures stdout+stderr.
CommandResult run(const std::vector<std::string>& argv, std::string_view input = {});

}  // namespace testsupport
