#include "smime/encrypt.h"

#include <algorithm>
#include <ctime>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "smime/detect.h"
#include "smime/mime.h"
#include "smime/mime_detail.h"
#include "smime/x509.h"

namespace smime {

namespace {

using policy::Errc;
using policy::unexpected;

const EVP_CIPHER* evp_cipher(Cipher c) {
  switch (c) {
    case Cipher::kAes128Cbc:
      return ::EVP_aes_128_cbc();
    case Cipher::kAes256Gcm:
      return ::EVP_aes_256_gcm();
    case Cipher::kAes128Gcm:
      return ::EVP_aes_128_gcm();
    case Cipher::kAes256Cbc:
      break;
  }
  return ::EVP_aes_256_cbc();
}

bool is_gcm(Cipher c) {
  return c == Cipher::kAes256Gcm || c == Cipher::kAes128Gcm;
}

policy::Status check_recipient(const X509* cert, const EncryptOptions& options) {
  if (cert == nullptr) {
    return unexpected(Errc::kInvalidArgument, "null recipient certificate");
  }
  const CertInfo info = inspect(*cert);
  if (info.key_type != "RSA" && info.key_type != "EC") {
    return unexpected(Errc::kUnsupportedAlgorithm,
                      "cannot encrypt to " + info.subject + ": " + info.key_type + " key");
  }
  if (info.key_type == "EC" && !options.allow_key_agreement) {
    return unexpected(Errc::kUnsupportedAlgorithm,
                      "EC recipient " + info.subject + " needs ECDH, which these options refuse");
  }
  if (!fit_for_encryption(info)) {
    return unexpected(
        Errc::kInvalidArgument,
        "certificate " + info.subject + " is not fit for e-mail encryption (keyUsage/EKU)");
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (info.not_after < now || info.not_before > now) {
    return unexpected(Errc::kExpired,
                      "recipient certificate " + info.subject + " is outside its validity");
  }
  return {};
}

policy::Status add_recipient(CMS_ContentInfo& cms, X509& cert, const EncryptOptions& options) {
  const bool oaep = options.rsa == KeyTransport::kRsaOaep &&
                    ::EVP_PKEY_get_id(::X509_get0_pubkey(&cert)) == EVP_PKEY_RSA;
  CMS_RecipientInfo* ri =
      ::CMS_add1_recipient_cert(&cms, &cert, oaep ? CMS_KEY_PARAM : 0U);  // owned by cms
  if (ri == nullptr) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot add a recipient"));
  }
  if (oaep) {
    // RFC 8017 default parameters (SHA-1, MGF1-SHA-1): what every OAEP reader accepts.
    EVP_PKEY_CTX* pctx = ::CMS_RecipientInfo_get0_pkey_ctx(ri);  // borrowed
    if (pctx == nullptr || ::EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0) {
      return unexpected(Errc::kCrypto, ossl::error_text("cannot select RSAES-OAEP"));
    }
  }
  return {};
}

policy::Result<std::string> cms_encrypt(std::string_view content,
                                        const std::vector<ossl::Cert>& recipients,
                                        const EncryptOptions& options) {
  ossl::Cms cms(
      ::CMS_encrypt(nullptr, nullptr, evp_cipher(options.cipher), CMS_PARTIAL | CMS_BINARY));
  if (!cms) {
    return unexpected(is_gcm(options.cipher) ? Errc::kUnsupportedAlgorithm : Errc::kCrypto,
                      ossl::error_text("cannot create the encrypted envelope"));
  }
  for (const auto& cert : recipients) {
    if (auto st = add_recipient(*cms, *cert, options); !st) {
      return st.error();
    }
  }
  ossl::Bio in = ossl::mem_view(content);
  if (!in || ::CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("encryption failed"));
  }
  ossl::Bio out = ossl::mem_buffer();
  if (!out || ::i2d_CMS_bio(out.get(), cms.get()) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot encode the envelope"));
  }
  return ossl::bio_contents(out.get());
}

policy::Status check_recipients(const std::vector<ossl::Cert>& recipients,
                                const EncryptOptions& options) {
  if (recipients.empty()) {
    return unexpected(Errc::kInvalidArgument, "no recipient certificates");
  }
  for (const auto& cert : recipients) {
    if (auto st = check_recipient(cert.get(), options); !st) {
      return st;
    }
  }
  return {};
}

policy::Status check_not_encrypted(std::string_view message, const SplitMessage& split) {
  const SmimeKind smime_kind = classify(message);
  if (top_level_kind(split) == TopLevel::kEncrypted || smime_kind == SmimeKind::kEnveloped ||
      smime_kind == SmimeKind::kAuthEnveloped) {
    return unexpected(Errc::kConflict, "message is already S/MIME encrypted; not wrapped again");
  }
  return {};
}

std::string_view smime_type(const EncryptOptions& options) {
  return is_gcm(options.cipher) ? "authEnveloped-data" : "enveloped-data";
}

// plain_entity() of `content_headers` and the body file, written to `out`.
policy::Status write_plain_entity(std::string_view content_headers, int body_fd, TempFile& out) {
  std::string headers(content_headers);
  if (header_value(headers, "Content-Type").empty()) {
    bool eight_bit = false;
    auto st = for_each_chunk(body_fd, 0, [&](std::string_view chunk) -> policy::Status {
      eight_bit = eight_bit || detail::has_8bit(chunk);
      return {};
    });
    if (!st) {
      return st;
    }
    headers.insert(0, eight_bit ? "Content-Type: text/plain; charset=utf-8\r\n"
                                : "Content-Type: text/plain; charset=us-ascii\r\n");
  }
  headers += "\r\n";
  if (auto st = out.append(headers); !st) {
    return st;
  }
  // split_message() makes a body CRLF canonical as to_lf() then lf_to_crlf().
  detail::ToLfStream lf;
  detail::LfToCrlfStream crlf;
  std::string a;
  std::string b;
  auto st = for_each_chunk(body_fd, 0, [&](std::string_view chunk) {
    a.clear();
    b.clear();
    lf.feed(chunk, a);
    crlf.feed(a, b);
    return out.append(b);
  });
  if (!st) {
    return st;
  }
  a.clear();
  b.clear();
  lf.finish(a);
  crlf.feed(a, b);
  return out.append(b);
}

// Encrypts what `in` holds and writes the CMS to `out` as it goes (BER with indefinite
// lengths, CMS_STREAM): the content is never held in memory.
policy::Status cms_encrypt_stream(BIO& in, BIO& out, const std::vector<ossl::Cert>& recipients,
                                  const EncryptOptions& options) {
  ossl::Cms cms(::CMS_encrypt(nullptr, nullptr, evp_cipher(options.cipher),
                              CMS_PARTIAL | CMS_BINARY | CMS_STREAM));
  if (!cms) {
    return unexpected(is_gcm(options.cipher) ? Errc::kUnsupportedAlgorithm : Errc::kCrypto,
                      ossl::error_text("cannot create the encrypted envelope"));
  }
  for (const auto& cert : recipients) {
    if (auto st = add_recipient(*cms, *cert, options); !st) {
      return st;
    }
  }
  if (::i2d_CMS_bio_stream(&out, cms.get(), &in, CMS_STREAM | CMS_BINARY) != 1 ||
      BIO_flush(&out) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("encryption failed"));
  }
  return {};
}

// base64_lines() of the file behind `fd`, appended to `out` (57-octet groups carried
// across chunks so the lines are those of the whole file).
policy::Status append_base64(int fd, TempFile& out) {
  constexpr std::size_t kGroup = 57;
  std::string pending;
  auto st = for_each_chunk(fd, 0, [&](std::string_view chunk) {
    pending.append(chunk);
    const std::size_t whole = pending.size() / kGroup * kGroup;
    auto written = out.append(base64_lines(std::string_view(pending).substr(0, whole)));
    pending.erase(0, whole);
    return written;
  });
  if (!st) {
    return st;
  }
  return out.append(base64_lines(pending));
}

}  // namespace

std::string_view cipher_name(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Cbc:
      return "aes-128-cbc";
    case Cipher::kAes256Gcm:
      return "aes-256-gcm";
    case Cipher::kAes128Gcm:
      return "aes-128-gcm";
    case Cipher::kAes256Cbc:
      break;
  }
  return "aes-256-cbc";
}

Cipher choose_cipher(const std::vector<Capabilities>& peers, bool allow_gcm) {
  const auto all = [&](bool Capabilities::*field) {
    return !peers.empty() && std::all_of(peers.begin(), peers.end(), [&](const Capabilities& c) {
      return c.present && c.*field;
    });
  };
  if (allow_gcm && all(&Capabilities::aes256_gcm)) {
    return Cipher::kAes256Gcm;
  }
  if (allow_gcm && all(&Capabilities::aes128_gcm)) {
    return Cipher::kAes128Gcm;
  }
  const bool any_unknown =
      std::any_of(peers.begin(), peers.end(), [](const Capabilities& c) { return !c.present; });
  if (!any_unknown && !all(&Capabilities::aes256_cbc) && all(&Capabilities::aes128_cbc)) {
    return Cipher::kAes128Cbc;
  }
  return Cipher::kAes256Cbc;
}

policy::Result<std::string> encrypt_message(std::string_view message,
                                            const std::vector<ossl::Cert>& recipients,
                                            const EncryptOptions& options) {
  ::ERR_clear_error();
  if (auto st = check_recipients(recipients, options); !st) {
    return st.error();
  }
  auto split = split_message(message, options.limits);
  if (!split) {
    return std::move(split).error();
  }
  if (auto st = check_not_encrypted(message, *split); !st) {
    return st.error();
  }
  auto der = cms_encrypt(plain_entity(*split), recipients, options);
  if (!der) {
    return std::move(der).error();
  }
  return build_pkcs7_mime(split->outer_headers, *der, smime_type(options));
}

policy::Result<FileMessage> encrypt_file(std::string_view headers, int body_fd,
                                         const std::vector<ossl::Cert>& recipients,
                                         const EncryptOptions& options,
                                         const std::filesystem::path& tmpdir) {
  ::ERR_clear_error();
  if (auto st = check_recipients(recipients, options); !st) {
    return st.error();
  }
  auto head = split_file_head(headers, body_fd, options.limits);
  if (!head) {
    return std::move(head).error();
  }
  const SplitMessage& split = head->split;
  if (auto st = check_not_encrypted(head->text, split); !st) {
    return st.error();
  }
  auto entity = TempFile::create(tmpdir);
  auto der = TempFile::create(tmpdir);
  auto body = TempFile::create(tmpdir);
  if (!entity || !der || !body) {
    return !entity ? std::move(entity).error()
                   : (!der ? std::move(der).error() : std::move(body).error());
  }
  if (auto st = write_plain_entity(split.content_headers, body_fd, *entity); !st) {
    return st.error();
  }
  {
    ossl::Bio in(::BIO_new_file(entity->path().c_str(), "rb"));
    ossl::Bio out(::BIO_new_file(der->path().c_str(), "wb"));
    if (!in || !out) {
      return unexpected(Errc::kIo, ossl::error_text("cannot open the files of the envelope"));
    }
    if (auto st = cms_encrypt_stream(*in, *out, recipients, options); !st) {
      return st.error();
    }
  }
  if (auto st = append_base64(der->fd(), *body); !st) {
    return st.error();
  }
  return FileMessage{pkcs7_mime_headers(split.outer_headers, smime_type(options)),
                     std::move(*body)};
}

}  // namespace smime
