// Keystore::harvest: external correspondents' certificates taken from verified signed
// mail (origin "harvested"), so later mail to them can be encrypted.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keystore/keystore.h"
#include "keystore/util.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;
namespace ossl = smime::ossl;

namespace {

std::string sha256_hex(const X509& cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (::X509_digest(&cert, ::EVP_sha256(), md, &len) != 1) {
    ::ERR_clear_error();
    return {};
  }
  return ossl::hex(md, len);
}

}  // namespace

// The steady state of inbound mail: the signer is held already. Answers from a lookup
// by fingerprint and a chain check against the cached CA set, without parsing, copying
// or writing anything, so other readers (the daemon's lookup handle) keep their caches.
// Anything else (new certificate, other capabilities, an issuer on the path not held,
// no longer valid or trusted) goes the full import way and gets its usual outcome.
policy::Result<std::optional<ImportOutcome>> Keystore::harvest_held_locked(
    const X509& cert, const std::vector<ossl::Cert>& chain, const Capabilities& caps) {
  const std::string fp = sha256_hex(cert);
  if (fp.empty()) {
    return std::optional<ImportOutcome>();
  }
  auto row = db_.first_row(
      "SELECT id, subject, serial, not_before, not_after, caps_aes_gcm FROM certs "
      "WHERE fingerprint=?1 AND not_before<=?2 AND not_after>?2",
      fp, detail::now_unix());
  if (!row) {
    return std::move(row).error();
  }
  if (!*row) {
    return std::optional<ImportOutcome>();
  }
  const Stmt& r = **row;
  if (caps.aes_gcm && (r.col_null(5) || (r.col_int(5) != 0) != *caps.aes_gcm)) {
    return std::optional<ImportOutcome>();
  }
  ImportOutcome out;
  out.fingerprint = fp;
  out.subject = r.col_text(1);
  out.serial = r.col_text(2);
  out.not_before = r.col_int(3);
  out.not_after = r.col_int(4);
  const std::int64_t id = r.col_int(0);
  auto path = verified_chain_locked(cert, chain, false);
  if (!path) {
    if (path.error().code() != Errc::kUntrustedChain) {
      return std::move(path).error();
    }
    return std::optional<ImportOutcome>();
  }
  for (const auto& ca : *path) {  // import would store a missing issuer
    auto held = db_.first_row("SELECT 1 FROM ca_certs WHERE fingerprint=?1", sha256_hex(*ca));
    if (!held) {
      return std::move(held).error();
    }
    if (!*held) {
      return std::optional<ImportOutcome>();
    }
  }
  auto emails = db_.query("SELECT email FROM cert_emails WHERE cert_id=?1 ORDER BY rowid", id);
  if (!emails) {
    return std::move(emails).error();
  }
  if (auto s = emails->each_row([&](const Stmt& e) { out.emails.push_back(e.col_text(0)); }); !s) {
    return s.error();
  }
  return std::optional<ImportOutcome>(std::move(out));
}

policy::Result<ImportOutcome> Keystore::harvest(const X509& cert,
                                                const std::vector<smime::ossl::Cert>& chain,
                                                const Capabilities& caps) {
  {
    const std::lock_guard lock(mu_);
    auto held = harvest_held_locked(cert, chain, caps);
    if (!held) {
      return std::move(held).error();
    }
    if (*held) {
      return std::move(**held);
    }
  }
  ImportRequest req;
  smime::ossl::Cert leaf(::X509_dup(&cert));
  if (!leaf) {
    return unexpected(Errc::kCrypto, "copying the certificate: " + smime::ossl::drain_errors());
  }
  req.certs.push_back(std::move(leaf));
  for (const auto& c : chain) {
    if (c) {
      req.certs.push_back(smime::ossl::share(c.get()));
    }
  }
  req.harvested = true;
  req.actor = "milter (harvested)";
  auto out = import(req);
  if (!out) {
    return out;
  }
  if (caps.aes_gcm.has_value()) {
    if (auto s = set_capabilities(out->fingerprint, caps); !s) {
      return s.error();
    }
  }
  return out;
}

}  // namespace keystore
