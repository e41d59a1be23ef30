// The file-based engine (sign_file, encrypt_file, canonical_entity_file) and the
// streaming text classes behind it (mime_detail.h). The streaming forms are checked
// against the whole-string functions they replace, over every split of small inputs
// and over inputs larger than one read chunk (256 KiB); the file-based results are
// checked by the OpenSSL CLI, GnuPG gpgsm, NSS cmsutil and the engine's own readers.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "peers.h"
#include "samples.h"
#include "smime/decrypt.h"
#include "smime/encrypt.h"
#include "smime/mime.h"
#include "smime/mime_detail.h"
#include "smime/sign.h"
#include "smime/temp_file.h"
#include "tests/common/test_support.h"

namespace {

namespace fs = std::filesystem;

// Deterministic bytes over an alphabet rich in line ends, "From " and boundary text.
std::string soup(std::size_t n, std::uint32_t seed) {
  static const std::vector<std::string_view> kWords = {
      "\r", "\n", "\r\n", "a", "Z", " ", "From ", "boundary=", "BOUNDARY=", "\xC4", "x"};
  std::string s;
  std::uint32_t x = seed;
  while (s.size() < n) {
    x = x * 1664525U + 1013904223U;
    s.append(kWords[(x >> 16) % kWords.size()]);
  }
  s.resize(n);
  return s;
}

// Splits `s` at the given cut points and feeds the pieces to `feed`.
template <class Feed>
void in_pieces(std::string_view s, const std::vector<std::size_t>& cuts, Feed feed) {
  std::size_t pos = 0;
  for (std::size_t cut : cuts) {
    cut = std::min(cut, s.size());
    if (cut >= pos) {
      feed(s.substr(pos, cut - pos));
      pos = cut;
    }
  }
  feed(s.substr(pos));
}

std::size_t ref_longest_crlf_line(std::string_view s) {
  std::size_t longest = 0;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    longest = std::max(longest, end - start);
    start = end + 2;
  }
  return longest;
}

bool ref_needs_transfer_encoding(std::string_view s) {
  std::size_t line_start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      const std::string_view line = s.substr(line_start, i - line_start);
      if (line.size() >= 998 || line.starts_with("From ")) {
        return true;
      }
      line_start = i + 1;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0 || c == '\r' || c >= 0x80) {
      return true;
    }
  }
  return false;
}

void expect_streams_match(std::string_view s, const std::vector<std::size_t>& cuts) {
  smime::detail::ToLfStream lf;
  smime::detail::LfToCrlfStream crlf;
  smime::detail::CountCiStream count("boundary=");
  smime::detail::LineLengthStream lines;
  std::string lf_out;
  std::string crlf_out;
  in_pieces(s, cuts, [&](std::string_view p) {
    lf.feed(p, lf_out);
    crlf.feed(p, crlf_out);
    count.feed(p);
    lines.feed(p);
  });
  lf.finish(lf_out);
  EXPECT_EQ(lf_out, smime::to_lf(s));
  EXPECT_EQ(crlf_out, smime::lf_to_crlf(s));
  EXPECT_EQ(count.count(), smime::count_ci(s, "boundary="));
  EXPECT_EQ(lines.longest(), ref_longest_crlf_line(s));
  // TransferCheck reads LF text (what GMime hands over); without a CR in it.
  std::string plain(s);
  std::erase(plain, '\r');
  std::erase(plain, '\xC4');
  smime::detail::TransferCheck check;
  in_pieces(plain, cuts, [&](std::string_view p) { check.feed(p); });
  EXPECT_EQ(check.needs(), ref_needs_transfer_encoding(plain)) << plain;
}

TEST(StreamText, EverySplitOfShortInputsGivesTheWholeStringResult) {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    const std::string s = soup(48, seed);
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " cut " + std::to_string(cut));
      expect_streams_match(s, {cut});
    }
    expect_streams_match(s, {1, 2, 3, 5, 8, 13, 21, 34});  // many small pieces
  }
}

TEST(StreamText, LongLinesAndFromLinesAcrossPieces) {
  const std::string long_line = std::string(997, 'a') + "\n" + std::string(998, 'b');
  smime::detail::TransferCheck check;
  in_pieces(long_line, {500, 997, 998, 1500}, [&](std::string_view p) { check.feed(p); });
  EXPECT_TRUE(check.needs());
  smime::detail::TransferCheck short_lines;
  in_pieces(std::string(997, 'a') + "\n" + std::string(997, 'b'), {996, 1000},
            [&](std::string_view p) { short_lines.feed(p); });
  EXPECT_FALSE(short_lines.needs());
  smime::detail::TransferCheck from;
  in_pieces(std::string("ok\nFro") + "m here\n", {3, 5}, [&](std::string_view p) { from.feed(p); });
  EXPECT_TRUE(from.needs());
}

fs::path scratch_dir() {
  const fs::path dir =
      fs::temp_directory_path() / ("smime-file-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

smime::TempFile file_with(std::string_view data) {
  auto f = smime::TempFile::create(scratch_dir());
  EXPECT_TRUE(f) << f.error().message();
  EXPECT_TRUE(f->append(data));
  return std::move(*f);
}

// The same entity from canonical_entity() and canonical_entity_file(); true when both
// made one (false: both refused the message with the same error).
bool expect_same_entity(const std::string& message) {
  auto split = smime::split_message(message, smime::Limits{});
  EXPECT_TRUE(split) << split.error().message();
  if (!split) {
    return false;
  }
  auto want = smime::canonical_entity(*split, smime::Limits{});
  smime::TempFile body = file_with(split->body);
  auto out = smime::TempFile::create(scratch_dir());
  EXPECT_TRUE(out);
  auto st = smime::canonical_entity_file(split->content_headers, body.fd(), *out, scratch_dir(),
                                         smime::Limits{});
  EXPECT_EQ(static_cast<bool>(want), static_cast<bool>(st));
  if (!want || !st) {
    if (!want && !st) {
      EXPECT_EQ(want.error().code(), st.error().code());
    }
    return false;
  }
  auto got = out->contents();
  EXPECT_TRUE(got);
  EXPECT_EQ(*got, *want);
  return true;
}

// A message bigger than one read chunk: 8-bit text, bare LFs, CRs at awkward places,
// a long line, a base64 attachment, preamble and epilogue.
std::string big_tricky_message() {
  std::string text;
  while (text.size() < 700U * 1024U) {
    text +=
        "Gr\xC3\xBC\xC3\x9F"
        "e aus Jakarta, baris ke-" +
        std::to_string(text.size()) + "\r\n";
    text += "From the city\n";
    text += "lone CR\r here\r\n";
  }
  text += std::string(1200, 'L') + "\r\n";
  std::string attachment = smime::base64_lines(signtest::binary_bytes() + std::string(400000, 'q'));
  return "From: Alice <alice@example.gov>\r\nTo: bob@example.gov\r\nSubject: big\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "preamble text\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         text + "\r\n--b1\r\nContent-Type: application/octet-stream\r\n" +
         "Content-Transfer-Encoding: base64\r\n\r\n" + attachment + "--b1--\r\nepilogue\r\n";
}

TEST(FileEngine, CanonicalEntityFileEqualsTheStringForm) {
  for (const auto& sample : signtest::tricky_samples()) {
    SCOPED_TRACE(sample.name);
    EXPECT_TRUE(expect_same_entity(sample.message));
  }
  EXPECT_TRUE(expect_same_entity(signtest::simple_message()));
  EXPECT_TRUE(expect_same_entity(big_tricky_message()));
  // No Content-Type at all, 8-bit body: the default type must match too.
  EXPECT_TRUE(expect_same_entity("From: a@example.gov\r\nSubject: x\r\n\r\nK\xC3\xB6ln\r\n"));
}

TEST(FileEngine, CanonicalEntityFileEqualsTheStringFormOnTheCorpus) {
  std::size_t seen = 0;
  std::size_t compared = 0;
  const fs::path root = testsupport::corpus_dir() / "thunderbird-comm-central";
  for (const char* dir : {"smime", "smime-interop"}) {
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      if (entry.path().extension() != ".eml") {
        continue;
      }
      SCOPED_TRACE(entry.path().string());
      compared += expect_same_entity(testsupport::read_file(entry.path())) ? 1U : 0U;
      ++seen;
    }
  }
  EXPECT_GE(seen, 40U) << "corpus incomplete";
  EXPECT_GE(compared, seen * 9 / 10) << "most corpus entities must canonicalise";
}

TEST(FileEngine, TooManyPartsIsRefusedBeforeParsing) {
  std::string body;
  for (int i = 0; i < 30; ++i) {
    body += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n";
  }
  smime::TempFile f = file_with(body);
  auto out = smime::TempFile::create(scratch_dir());
  ASSERT_TRUE(out);
  smime::Limits limits;
  limits.max_mime_parts = 20;
  auto st = smime::canonical_entity_file("Content-Type: text/plain\r\n", f.fd(), *out,
                                         scratch_dir(), limits);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), policy::Errc::kLimitExceeded);
}

struct Parts {
  std::string headers;
  std::string body;
};

Parts parts_of(const std::string& message) {
  return {signtest::headers_of(message), signtest::body_of(message)};
}

std::string whole(const smime::FileMessage& m) {
  auto body = m.body.contents();
  EXPECT_TRUE(body);
  return m.headers + "\r\n" + *body;
}

TEST(FileEngine, SignFileVerifiesWithThreeImplementationsAndSignsTheCanonicalEntity) {
  const std::string message = big_tricky_message();
  const Parts p = parts_of(message);
  smime::TempFile body = file_with(p.body);
  // headers_of() keeps the blank line; sign_file takes the block without it.
  const std::string headers = p.headers.substr(0, p.headers.size() - 2);
  auto signed_file =
      smime::sign_file(headers, body.fd(), signtest::credential("alice"), {}, scratch_dir());
  ASSERT_TRUE(signed_file) << signed_file.error().message();
  const std::string out = whole(*signed_file);
  std::string content;
  std::string der;
  ASSERT_TRUE(signtest::split_signed(out, content, der));
  auto split = smime::split_message(message, smime::Limits{});
  ASSERT_TRUE(split);
  auto entity = smime::canonical_entity(*split, smime::Limits{});
  ASSERT_TRUE(entity);
  EXPECT_EQ(content, *entity);
  for (const auto& r :
       {signtest::openssl_verify(out), signtest::gpgsm_verify(out), signtest::nss_verify(out)}) {
    EXPECT_TRUE(r.ok) << r.log;
    EXPECT_EQ(r.content, *entity);
  }
  EXPECT_NE(out.find("Subject: big\r\n"), std::string::npos);
}

TEST(FileEngine, EncryptFileDecryptsWithThreeImplementationsBothCiphers) {
  const std::string message = signtest::simple_message() + std::string(300000, 'x') + "\r\n";
  const Parts p = parts_of(message);
  const std::string headers = p.headers.substr(0, p.headers.size() - 2);
  smime::TempFile body = file_with(p.body);
  auto split = smime::split_message(message, smime::Limits{});
  ASSERT_TRUE(split);
  const std::string plain = smime::plain_entity(*split);
  for (const auto cipher : {smime::Cipher::kAes256Cbc, smime::Cipher::kAes256Gcm}) {
    SCOPED_TRACE(std::string(smime::cipher_name(cipher)));
    smime::EncryptOptions o;
    o.cipher = cipher;
    auto enc = smime::encrypt_file(headers, body.fd(), signtest::certs({"alice", "erin"}), o,
                                   scratch_dir());
    ASSERT_TRUE(enc) << enc.error().message();
    const std::string out = whole(*enc);
    auto a = signtest::openssl_decrypt(out, "alice");
    EXPECT_TRUE(a.ok) << a.log;
    EXPECT_EQ(a.content, plain);
    if (cipher == smime::Cipher::kAes256Cbc) {  // gpgsm and NSS 3.87 lack AuthEnvelopedData
      auto g = signtest::gpgsm_decrypt(out);
      EXPECT_TRUE(g.ok) << g.log;
      EXPECT_EQ(g.content, plain);
      auto n = signtest::nss_decrypt(out);
      EXPECT_TRUE(n.ok) << n.log;
      EXPECT_EQ(n.content, plain);
    }
  }
}

TEST(FileEngine, SignThenEncryptFileRoundTripsThroughOpenSsl) {
  const Parts p = parts_of(big_tricky_message());
  const std::string headers = p.headers.substr(0, p.headers.size() - 2);
  smime::TempFile body = file_with(p.body);
  auto s = smime::sign_file(headers, body.fd(), signtest::credential("alice"), {}, scratch_dir());
  ASSERT_TRUE(s) << s.error().message();
  auto e =
      smime::encrypt_file(s->headers, s->body.fd(), signtest::certs({"bob"}), {}, scratch_dir());
  ASSERT_TRUE(e) << e.error().message();
  auto d = signtest::openssl_decrypt(whole(*e), "bob");
  ASSERT_TRUE(d.ok) << d.log;
  // The decrypted entity is the signed message's MIME part: it verifies.
  auto v = signtest::openssl_verify(d.content);
  EXPECT_TRUE(v.ok) << v.log;
}

TEST(FileEngine, ProtectedOrOversizedMessagesAreRefused) {
  smime::TempFile body = file_with("MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n");
  auto s = smime::sign_file(
      "From: a@example.gov\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data",
      body.fd(), signtest::credential("alice"), {}, scratch_dir());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), policy::Errc::kConflict);
  smime::SignOptions small;
  small.limits.max_message_bytes = 10;
  auto big = smime::sign_file("From: a@example.gov", body.fd(), signtest::credential("alice"),
                              small, scratch_dir());
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), policy::Errc::kLimitExceeded);
}

TEST(FileEngine, ScratchFilesArePrivateAndGoneAfterwards) {
  const fs::path dir = scratch_dir() / "private";
  fs::create_directories(dir);
  smime::TempFile body = file_with(std::string(300000, 'y') + "\r\n");
  {
    auto s = smime::sign_file("From: a@example.gov\r\nSubject: s", body.fd(),
                              signtest::credential("alice"), {}, dir);
    ASSERT_TRUE(s) << s.error().message();
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      ++files;
      EXPECT_EQ(fs::status(e.path()).permissions() & fs::perms::all,
                fs::perms::owner_read | fs::perms::owner_write);
    }
    EXPECT_EQ(files, 1U);  // only the result's body; the scratch files are gone
  }
  EXPECT_TRUE(fs::is_empty(dir));
  auto bad = smime::sign_file("From: a@example.gov", body.fd(), signtest::credential("alice"), {},
                              dir / "missing");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), policy::Errc::kIo);
}

}  // namespace
