// Mail that other clients already protected (the third-party corpus, see its
// SOURCE.md): we never wrap it again. Thunderbird's file names spell the layers
// innermost first, so the last layer named is the outermost one.
#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "peers.h"
#include "smime/encrypt.h"
#include "smime/sign.h"
#include "tests/common/test_support.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_messages(std::string_view dir) {
  std::vector<fs::path> out;
  const fs::path root = testsupport::corpus_dir() / "thunderbird-comm-central" / dir;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() == ".eml") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool outermost_enveloped(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.ends_with(".env.eml") || name == "alice.env.eml";
}

TEST(Corpus, ProtectedMailIsNeverSignedAgain) {
  const auto alice = signtest::credential("alice");
  std::size_t seen = 0;
  for (const char* dir : {"smime", "smime-interop", "smime-manual"}) {
    for (const auto& path : corpus_messages(dir)) {
      SCOPED_TRACE(path.string());
      auto r = smime::sign_message(testsupport::read_file(path), alice);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code(), policy::Errc::kConflict) << r.error().message();
      ++seen;
    }
  }
  EXPECT_GE(seen, 60U) << "corpus incomplete";
}

TEST(Corpus, EncryptedMailIsNotEncryptedAgainButSignedMailIs) {
  std::size_t enveloped = 0;
  std::size_t signed_outer = 0;
  for (const auto& path : corpus_messages("smime")) {
    SCOPED_TRACE(path.string());
    const std::string message = testsupport::read_file(path);
    std::vector<smime::ossl::Cert> to;
    to.push_back(signtest::cert("bob"));
    auto r = smime::encrypt_message(message, to);
    if (outermost_enveloped(path)) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code(), policy::Errc::kConflict) << r.error().message();
      ++enveloped;
    } else {
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_NE(r->find("smime-type=enveloped-data"), std::string::npos);
      ++signed_outer;
    }
  }
  EXPECT_GE(enveloped, 10U);
  EXPECT_GE(signed_outer, 10U);
  for (const auto& path : corpus_messages("smime-interop")) {
    SCOPED_TRACE(path.string());
    std::vector<smime::ossl::Cert> to;
    to.push_back(signtest::cert("bob"));
    auto r = smime::encrypt_message(testsupport::read_file(path), to);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), policy::Errc::kConflict);
  }
}

}  // namespace
