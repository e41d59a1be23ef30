// The man pages and bash completion against the real smimectl: smime-milter.conf(5)
// must equal what packaging/man/conf-man.sh makes of `smimectl policy reference` (the
// key table), every key must be in it, every subcommand and option smimectl offers must
// be completed, and the roff pages must format without warnings.
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

namespace {
using testsupport::run;
namespace fs = std::filesystem;

const fs::path kSrc = SMIME_SOURCE_DIR;

// Subcommand names listed under "Subcommands:" in CLI11's help text.
std::vector<std::string> subcommands(const std::vector<std::string>& path) {
  std::vector<std::string> argv{SMIMECTL};
  argv.insert(argv.end(), path.begin(), path.end());
  argv.emplace_back("--help");
  const auto r = run(argv);
  std::vector<std::string> out;
  const auto at = r.out.find("Subcommands:");
  if (at == std::string::npos) {
    return out;
  }
  static const std::regex kLine(R"(\n  ([a-z][a-z-]*) )");
  const std::string rest = r.out.substr(at);
  for (std::sregex_iterator it(rest.begin(), rest.end(), kLine), end; it != end; ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

std::vector<std::string> long_options(const std::vector<std::string>& path) {
  std::vector<std::string> argv{SMIMECTL};
  argv.insert(argv.end(), path.begin(), path.end());
  argv.emplace_back("--help");
  const auto r = run(argv);
  std::vector<std::string> out;
  static const std::regex kOpt(R"(\n  (?:-[a-zA-Z],)?(--[a-z][a-z-]*))");
  const std::string opts = r.out.substr(0, r.out.find("Subcommands:"));
  for (std::sregex_iterator it(opts.begin(), opts.end(), kOpt), end; it != end; ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

// What the completion function offers after `words` (the last word is the one being
// completed).
std::set<std::string> complete(const std::vector<std::string>& words) {
  std::string script = "source '" + (kSrc / "packaging/bash-completion/smimectl").string() +
                       "'; COMP_WORDS=(smimectl";
  for (const auto& w : words) {
    script += " '" + w + "'";
  }
  script += "); COMP_CWORD=" + std::to_string(words.size()) +
            "; _smimectl; printf '%s\\n' \"${COMPREPLY[@]}\"";
  const auto r = run({"bash", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::set<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.insert(r.out.substr(start, nl - start));
  }
  return out;
}

TEST(ManPage, ConfPageIsGeneratedFromTheKeyTable) {
  const auto ref = run({SMIMECTL, "policy", "reference"});
  ASSERT_EQ(ref.exit_code, 0) << ref.out;
  const auto gen = run({"sh", (kSrc / "packaging/man/conf-man.sh").string()}, ref.out);
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  EXPECT_EQ(gen.out, testsupport::read_file(kSrc / "packaging/man/smime-milter.conf.5"))
      << "regenerate: smimectl policy reference | packaging/man/conf-man.sh > "
         "packaging/man/smime-milter.conf.5";
  // Every key row of the reference appears as a tagged paragraph.
  static const std::regex kKey(R"(\n\| `([a-z_]+)` \|)");
  int keys = 0;
  for (std::sregex_iterator it(ref.out.begin(), ref.out.end(), kKey), end; it != end; ++it) {
    std::string k = (*it)[1].str();
    EXPECT_NE(gen.out.find("\n\\fB" + k + "\\fR ("), std::string::npos) << k;
    ++keys;
  }
  EXPECT_GT(keys, 30);
}

TEST(ManPage, PagesFormatWithoutWarnings) {
  for (const char* page : {"smime-milter.8", "smimectl.8", "smime-milter.conf.5"}) {
    const auto r = run({"sh", "-c",
                        "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '" +
                            (kSrc / "packaging/man" / page).string() + "' 2>&1 >/dev/null"});
    EXPECT_EQ(r.exit_code, 0) << page;
    EXPECT_EQ(r.out, "") << page;
  }
}

TEST(ManPage, SmimectlPageNamesEveryCommand) {
  const std::string page = testsupport::read_file(kSrc / "packaging/man/smimectl.8");
  const auto top = subcommands({});
  ASSERT_GT(top.size(), 10U);
  for (const auto& c : top) {
    EXPECT_NE(page.find(c), std::string::npos) << c;
  }
}

TEST(Completion, OffersEverySubcommandAndOption) {
  const auto top = subcommands({});
  ASSERT_GT(top.size(), 10U);
  const auto offered = complete({""});
  for (const auto& c : top) {
    EXPECT_TRUE(offered.count(c)) << "top-level command " << c;
    const auto subs = subcommands({c});
    if (!subs.empty()) {
      const auto offered_sub = complete({c, ""});
      for (const auto& s : subs) {
        EXPECT_TRUE(offered_sub.count(s)) << c << " " << s;
        const auto opts = complete({c, s, "--"});
        for (const auto& o : long_options({c, s})) {
          EXPECT_TRUE(opts.count(o)) << c << " " << s << " " << o;
        }
      }
    } else {
      const auto opts = complete({c, "--"});
      for (const auto& o : long_options({c})) {
        EXPECT_TRUE(opts.count(o)) << c << " " << o;
      }
    }
  }
  for (const char* g : {"--config", "--db", "--json"}) {
    EXPECT_TRUE(complete({"-"}).count(g)) << g;
  }
}

TEST(Completion, ValuesAndPrefixes) {
  EXPECT_EQ(complete({"tr"}), std::set<std::string>{"trust"});
  EXPECT_EQ(complete({"import", "--type", "r"}), std::set<std::string>{"role"});
  EXPECT_EQ(complete({"revoke", "x", "--reason", "key"}), std::set<std::string>{"keyCompromise"});
  EXPECT_EQ(complete({"--config", "/etc/x.conf", "status", "--js"}),
            std::set<std::string>{"--json"});
  EXPECT_EQ(complete({"report", "--format", "h"}), std::set<std::string>{"html"});
  EXPECT_EQ(complete({"audit", "export", "--format", "j"}), std::set<std::string>{"jsonl"});
}

}  // namespace
