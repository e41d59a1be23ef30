#include "samples.h"

namespace signtest {

namespace {

std::string crlf(const std::string& lf) {
  std::string out;
  for (const char c : lf) {
    if (c == '\n') {
      out.push_back('\r');
    }
    out.push_back(c);
  }
  return out;
}

const char* const kHeaders =
    "From: Alice <alice@example.gov>\n"
    "To: Bob <bob@example.gov>\n"
    "Date: Tue, 24 Nov 2026 10:00:00 +0700\n"
    "Message-ID: <sample@example.gov>\n"
    "MIME-Version: 1.0\n";

std::string indonesian() {
  return std::string(kHeaders) +
         "Subject: Pemberitahuan\n"
         "Content-Type: text/plain; charset=utf-8\n"
         "Content-Transfer-Encoding: 8bit\n\n"
         "Surat Keputusan Walikota\n"
         "Dengan hormat, kami sampaikan bahwa rapat koordinasi akan diadakan pada hari Senin.\n"
         "Tempat: Balai Kota \xe2\x80\x94 ruang \xe2\x80\x9cMerdeka\xe2\x80\x9d, lantai 2; biaya "
         "Rp 1.500.000 \xc2\xb1 10%.\n"
         "Caf\xc3\xa9 di lobi tutup. Terima kasih.\n"
         "From the desk of the secretary (a line that mbox relays would mangle)\n";
}

std::string long_lines() {
  return std::string(kHeaders) +
         "Subject: Long lines\nContent-Type: text/plain; charset=us-ascii\n\n"
         "Surat Keputusan Walikota\n" +
         std::string(2500, 'x') + "\nend\n";
}

std::string binary_attachment() {
  return std::string(kHeaders) +
         "Subject: Binary\n"
         "Content-Type: multipart/mixed; boundary=\"outer-b\"\n\n"
         "--outer-b\nContent-Type: text/plain; charset=us-ascii\n\nSurat Keputusan Walikota "
         "attached.\n"
         "--outer-b\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
         "Content-Disposition: attachment; filename=\"data.bin\"\nContent-Transfer-Encoding: "
         "binary\n\n" +
         binary_bytes() + "\n--outer-b--\n";
}

std::string nested() {
  return std::string(kHeaders) +
         "Subject: Nested\n"
         "Content-Type: multipart/mixed; boundary=\"mix\"\n\n"
         "--mix\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n"
         "--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
         "Surat Keputusan Walikota \xe2\x80\x93 teks\n"
         "--alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
         "<p>Surat Keputusan Walikota \xe2\x80\x93 <b>html</b></p>\n"
         "--alt--\n"
         "--mix\nContent-Type: message/rfc822\n\n"
         "From: Bob <bob@example.gov>\nSubject: inner\nContent-Type: text/plain; charset=utf-8\n"
         "Content-Transfer-Encoding: 8bit\n\nPesan terlampir \xc3\xa9.\n"
         "--mix\nContent-Type: text/csv; name=\"a.csv\"\nContent-Disposition: attachment; "
         "filename=\"a.csv\"\n\n"
         "no,nama\n1,Budi\n"
         "--mix--\n";
}

std::string preamble_epilogue() {
  return std::string(kHeaders) +
         "Subject: Preamble\n"
         "Content-Type: multipart/mixed; boundary=\"pe\"\n\n"
         "This is a multi-part message in MIME format. PREAMBLE-TEXT\n\n"
         "--pe\nContent-Type: text/plain\n\nSurat Keputusan Walikota\n"
         "--pe\nContent-Type: text/plain\n\nsecond part\n"
         "--pe--\n\nEPILOGUE-TEXT added by some list software\n";
}

std::string rfc2047_headers() {
  return "From: =?UTF-8?B?QnVkaSBTYW50b3Nv?= <alice@example.gov>\n"
         "To: \"Bob\" <bob@example.gov>,\n"
         "  =?ISO-8859-1?Q?Andr=E9?= <erin@partner.example>\n"
         "Subject: =?UTF-8?Q?Undangan_rapat_koordinasi_=E2=80=93_Dinas_Komunikasi?=\n"
         " =?UTF-8?Q?_dan_Informatika_Kota?=\n"
         "Date: Tue, 24 Nov 2026 10:00:00 +0700\n"
         "Content-Type: text/plain;\n"
         "\tcharset=\"utf-8\";\n"
         "\tformat=flowed\n"
         "Content-Transfer-Encoding: 8bit\n\n"
         "Surat Keputusan Walikota \xc3\xa9\n";
}

std::string html_inline() {
  return std::string(kHeaders) +
         "Subject: HTML\n"
         "Content-Type: multipart/related; boundary=\"rel\"; type=\"text/html\"\n\n"
         "--rel\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
         "<html><body><p>Surat Keputusan Walikota \xe2\x80\x94 logo:</p><img "
         "src=\"cid:logo@example.gov\"></body></html>\n"
         "--rel\nContent-Type: image/png\nContent-ID: <logo@example.gov>\n"
         "Content-Disposition: inline; filename=\"logo.png\"\nContent-Transfer-Encoding: base64\n\n"
         "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+"
         "M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\n"
         "--rel--\n";
}

}  // namespace

std::string binary_bytes() {
  std::string b;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 256; ++i) {
      b.push_back(static_cast<char>(i));  // no CR LF pair: 13 is followed by 14
    }
  }
  return b;
}

std::string simple_message() {
  return crlf(std::string(kHeaders) +
              "Subject: Hello\nContent-Type: text/plain; charset=us-ascii\n\n"
              "Surat Keputusan Walikota\nHello Bob.\n");
}

std::vector<Sample> tricky_samples() {
  return {
      {"indonesian_8bit", crlf(indonesian()), "Surat Keputusan Walikota"},
      {"long_lines", crlf(long_lines()), "Surat Keputusan Walikota"},
      {"binary_attachment", crlf(binary_attachment()), "Surat Keputusan Walikota"},
      {"nested_multiparts", crlf(nested()), "Surat Keputusan Walikota"},
      {"bare_lf", indonesian(), "Surat Keputusan Walikota"},
      {"preamble_epilogue", crlf(preamble_epilogue()), "Surat Keputusan Walikota"},
      {"folded_rfc2047_headers", crlf(rfc2047_headers()), "Surat Keputusan Walikota"},
      {"html_inline_images", crlf(html_inline()), "Surat Keputusan Walikota"},
  };
}

}  // namespace signtest
