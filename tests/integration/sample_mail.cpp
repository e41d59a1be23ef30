#include "tests/integration/sample_mail.h"

#include <cstdint>

namespace integration {

std::string sample_binary(std::size_t size) {
  std::string out;
  out.reserve(size);
  std::uint32_t state = 0x12345678U;
  for (std::size_t i = 0; i < size; ++i) {
    if (i < 512) {
      out += static_cast<char>(static_cast<unsigned char>(i % 256));
    } else {
      state = state * 1664525U + 1013904223U;  // LCG: fixed, reproducible bytes
      out += static_cast<char>(static_cast<unsigned char>(state >> 24U));
    }
  }
  return out;
}

std::string base64_lines(const std::string& data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string flat;
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 2 < data.size(); i += 3) {
    const unsigned n = (byte(i) << 16U) | (byte(i + 1) << 8U) | byte(i + 2);
    for (const unsigned shift : {18U, 12U, 6U, 0U}) {
      flat += kAlphabet[(n >> shift) & 63U];
    }
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    const unsigned n = (byte(i) << 16U) | (rest == 2 ? byte(i + 1) << 8U : 0U);
    flat += kAlphabet[(n >> 18U) & 63U];
    flat += kAlphabet[(n >> 12U) & 63U];
    flat += rest == 2 ? kAlphabet[(n >> 6U) & 63U] : '=';
    flat += '=';
  }
  std::string out;
  for (std::size_t pos = 0; pos < flat.size(); pos += 76) {
    out += flat.substr(pos, 76) + "\n";
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    }
    if (v < 0) {
      continue;
    }
    acc = (acc << 6U) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(
          static_cast<unsigned char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

std::string long_line(std::size_t octets, char fill) {
  std::string s;
  s.reserve(octets);
  for (std::size_t i = 0; i < octets; ++i) {
    s += (i % 10 == 9) ? static_cast<char>('0' + (i / 10) % 10) : fill;
  }
  return s;
}

std::string indonesian_text() {
  return "Selamat pagi, Bapak dan Ibu sekalian.\n"
         "Terlampir laporan keuangan triwulan ketiga (Rp 1.500.000,00) — mohon diperiksa\n"
         "sebelum rapat hari Kamis. Catatan: “sudah diverifikasi oleh bagian akuntansi”.\n"
         "Terima kasih atas kerja samanya. Salam hangat dari Yogyakarta ☕\n";
}

std::string sample_message(const std::string& subject_tag) {
  const std::string boundary = "=_harness_boundary_0001";
  std::string m;
  m += "From: Alice Wijaya <alice@example.org>\n";
  m += "To: Bob Santoso <bob@example.net>\n";
  m += "Subject: =?UTF-8?B?TGFwb3JhbiBrZXVhbmdhbg==?= " + subject_tag + "\n";
  m += "Date: Tue, 24 Nov 2026 10:00:00 +0700\n";
  m += "Message-ID: <" + subject_tag + ".harness@example.org>\n";
  m += "MIME-Version: 1.0\n";
  m += "X-Long-Folded: first part of a folded header value\n";
  m += "\tsecond part after a tab\n";
  m += "Content-Type: multipart/mixed;\n boundary=\"" + boundary + "\"\n";
  m += "\n";
  m += "This is a multi-part message in MIME format.\n";
  m += "--" + boundary + "\n";
  m += "Content-Type: text/plain; charset=utf-8\n";
  m += "Content-Transfer-Encoding: 8bit\n";
  m += "\n";
  m += indonesian_text();
  m += long_line(990) + "\n";
  m += ".a line that starts with a dot (SMTP dot-stuffing)\n";
  m += "..and one with two\n";
  m += "\n";
  m += "--" + boundary + "\n";
  m += "Content-Type: application/octet-stream; name=\"laporan.bin\"\n";
  m += "Content-Transfer-Encoding: base64\n";
  m += "Content-Disposition: attachment; filename=\"laporan.bin\"\n";
  m += "\n";
  m += base64_lines(sample_binary());
  m += "--" + boundary + "--\n";
  return m;
}

}  // namespace integration
