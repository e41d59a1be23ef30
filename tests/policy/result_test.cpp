#include "policy/result.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace policy {
namespace {

Result<int> half(int v) {
  if (v % 2 != 0) {
    return unexpected(Errc::kInvalidArgument, "odd value " + std::to_string(v));
  }
  return v / 2;
}

TEST(Result, CarriesValueOrError) {
  struct Case {
    int in;
    bool ok;
    int value;
    std::string message;
  };
  const Case cases[] = {
      {4, true, 2, ""},
      {3, false, 0, "invalid-argument: odd value 3"},
  };
  for (const auto& c : cases) {
    auto r = half(c.in);
    ASSERT_EQ(r.has_value(), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(*r, c.value);
    } else {
      EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
      EXPECT_EQ(r.error().message(), c.message);
    }
  }
}

TEST(Result, StatusDefaultsToOk) {
  Status ok;
  EXPECT_TRUE(ok);
  Status bad = unexpected(Errc::kUnavailable, "db locked");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "unavailable: db locked");
}

TEST(Errc, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Errc::kInternal); ++i) {
    names.insert(errc_name(static_cast<Errc>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Errc::kInternal) + 1);
  EXPECT_EQ(names.count("unknown"), 0U);
}

}  // namespace
}  // namespace policy
