// The raw MIME splitter: exact byte ranges, delimiter rules (RFC 2046 5.1.1), decoding.
#include "smime/parse_mime.h"

#include <gtest/gtest.h>

namespace smime {
namespace {

TEST(ParseMime, SplitsExactRangesWithoutPreambleOrEpilogue) {
  const std::string msg =
      "Content-Type: multipart/mixed;\r\n boundary=\"XY\"\r\n\r\npreamble\r\n--XY\r\nA: "
      "1\r\n\r\none\r\n"
      "--XYZ not a delimiter\r\n--XY  \r\n\r\ntwo\r\n\r\n--XY--\r\nepilogue\r\n";
  auto e = parse_raw_entity(msg, Limits{});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "multipart/mixed");
  EXPECT_EQ(e->boundary, "XY");
  auto parts = split_multipart(*e);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2U);
  EXPECT_EQ((*parts)[0], "A: 1\r\n\r\none\r\n--XYZ not a delimiter");
  EXPECT_EQ((*parts)[1], "\r\ntwo\r\n");  // the CRLF before the delimiter belongs to it
}

TEST(ParseMime, BareLfAndMissingCloseDelimiter) {
  const std::string msg =
      "Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: "
      "text/plain\n\nx\n--b\n\ny";
  auto e = parse_raw_entity(msg, Limits{});
  ASSERT_TRUE(e.has_value());
  auto parts = split_multipart(*e);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2U);
  EXPECT_EQ((*parts)[0], "Content-Type: text/plain\n\nx");
  EXPECT_EQ((*parts)[1], "\ny");
}

TEST(ParseMime, HeadersParametersAndNames) {
  const std::string msg =
      "Subject: =?UTF-8?B?U3VyYXQ=?=\r\n  continued\r\ncontent-type: Application/X-PKCS7-MIME; "
      "smime-type=\"Enveloped-Data\";"
      " name=\"smime.p7m\"\r\nContent-Transfer-Encoding:  BASE64 \r\n\r\nAAAA\r\n";
  auto e = parse_raw_entity(msg, Limits{});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, "application/x-pkcs7-mime");
  EXPECT_EQ(e->smime_type, "enveloped-data");
  EXPECT_EQ(e->name, "smime.p7m");
  EXPECT_EQ(e->encoding, "base64");
  EXPECT_TRUE(is_pkcs7_mime(*e));
  EXPECT_EQ(raw_header_value(e->header, "subject").value_or(""), "=?UTF-8?B?U3VyYXQ=?= continued");
  EXPECT_EQ(outer_headers(e->header), "Subject: =?UTF-8?B?U3VyYXQ=?=\r\n  continued\r\n");
}

TEST(ParseMime, OctetStreamNamedLikeSmime) {
  auto e = parse_raw_entity(
      "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
      "filename=\"SMIME.P7S\"\r\n\r\nx",
      Limits{});
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(is_pkcs7_signature(*e));
  EXPECT_FALSE(is_pkcs7_mime(*e));
}

TEST(ParseMime, EntityWithoutHeaders) {
  auto e = parse_raw_entity("This is the content to be signed.\r\n", Limits{});
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->header.empty());
  EXPECT_EQ(e->type, "text/plain");
  EXPECT_EQ(e->body, "This is the content to be signed.\r\n");
}

TEST(ParseMime, Decoding) {
  struct Case {
    const char* encoding;
    const char* body;
    bool ok;
    const char* want;
  };
  const Case cases[] = {
      {"base64", "U2VsYW1h\r\ndA==\r\n", true, "Selamat"},
      {"base64", "U2Vs*W1h", false, ""},
      {"base64", "U", false, ""},
      {"quoted-printable", "caf=C3=A9 =\r\nlanjut=3D", true, "caf\xC3\xA9 lanjut="},
      {"7bit", "as is", true, "as is"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    const std::string msg =
        std::string("Content-Transfer-Encoding: ") + c.encoding + "\r\n\r\n" + c.body;
    auto e = parse_raw_entity(msg, Limits{});
    ASSERT_TRUE(e.has_value());
    auto d = decode_body(*e);
    EXPECT_EQ(d.has_value(), c.ok);
    if (d) {
      EXPECT_EQ(*d, c.want);
    } else {
      EXPECT_EQ(d.error().code(), policy::Errc::kMalformedInput);
    }
  }
}

TEST(ParseMime, ToCrlf) {
  EXPECT_EQ(to_crlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(to_crlf(""), "");
}

}  // namespace
}  // namespace smime
