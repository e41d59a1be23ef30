// Keystore::import_crl: a CRL is accepted only when its signature verifies against
// its issuer's certificate held in the directory (anchor or intermediate), and only
// when its CRL number is not lower than the one held (RFC 5280 5.2.3). Its entries
// replace the previous CRL's entries for that issuer in one transaction.
#include <algorithm>
#include <array>
#include <string>

#include <openssl/err.h>

#include "keystore/keystore.h"
#include "keystore/util.h"
#include "smime/x509.h"

namespace keystore {
using policy::Errc;
using policy::unexpected;
namespace ossl = smime::ossl;

namespace {

// RFC 5280 5.3.1 CRLReason codes (7 is unused).
std::string reason_name(long code) {
  static constexpr std::array<const char*, 11> kNames = {
      "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
      "superseded",    "cessationOfOperation", "certificateHold", "unspecified",
      "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
  return code >= 0 && code < static_cast<long>(kNames.size())
             ? kNames[static_cast<std::size_t>(code)]
             : "unspecified";
}

std::string int_hex(const ASN1_INTEGER* v) {
  if (v == nullptr) {
    return "0";
  }
  ossl::BigNum bn(::ASN1_INTEGER_to_BN(v, nullptr));
  char* h = bn ? ::BN_bn2hex(bn.get()) : nullptr;
  if (h == nullptr) {
    return "0";
  }
  std::string out = detail::norm_serial(h);
  ::OPENSSL_free(h);
  return out;
}

// Compares two canonical hex numbers (no leading zeros).
int compare_hex(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return a.size() < b.size() ? -1 : 1;
  }
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::string crl_number(const X509_CRL& crl) {
  auto* num =
      static_cast<ASN1_INTEGER*>(::X509_CRL_get_ext_d2i(&crl, NID_crl_number, nullptr, nullptr));
  const ossl::Asn1Int owned(num);
  return int_hex(num);
}

struct Entry {
  std::string serial, reason;
  std::int64_t at = 0;
};

std::vector<Entry> crl_entries(const X509_CRL& crl) {
  std::vector<Entry> out;
  STACK_OF(X509_REVOKED)* revs = ::X509_CRL_get_REVOKED(const_cast<X509_CRL*>(&crl));  // borrowed
  for (int i = 0; i < sk_X509_REVOKED_num(revs); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revs, i);
    Entry e;
    e.serial = int_hex(::X509_REVOKED_get0_serialNumber(r));
    e.at = smime::to_unix(::X509_REVOKED_get0_revocationDate(r));
    auto* code = static_cast<ASN1_ENUMERATED*>(
        ::X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr));
    e.reason = reason_name(code != nullptr ? ::ASN1_ENUMERATED_get(code) : 0);
    ::ASN1_ENUMERATED_free(code);
    if (e.reason != "removeFromCRL") {
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace

policy::Result<std::vector<CrlRevocation>> Keystore::crl_revoked_locked(
    std::string_view issuer_der) {
  return db_.rows<CrlRevocation>(
      "SELECT c.fingerprint, c.serial, min(r.reason) FROM certs c JOIN revocations r "
      "ON r.issuer_der=c.issuer_der AND r.serial=c.serial WHERE c.issuer_der=?1 "
      "GROUP BY c.fingerprint ORDER BY c.fingerprint",
      [](const Stmt& r) {
        return CrlRevocation{r.col_text(0), r.col_text(1), r.col_text(2)};
      },
      Blob{issuer_der});
}

policy::Status Keystore::record_newly_revoked_locked(std::string_view issuer_der,
                                                     const std::vector<CrlRevocation>& before,
                                                     std::string_view actor, CrlOutcome& out) {
  auto after = crl_revoked_locked(issuer_der);
  if (!after) {
    return std::move(after).error();
  }
  for (auto& r : *after) {
    const bool held = std::any_of(before.begin(), before.end(), [&](const CrlRevocation& b) {
      return b.fingerprint == r.fingerprint;
    });
    if (held) {
      continue;
    }
    if (auto s = history_locked(r.fingerprint, "revoked", r.reason + " (CRL)", actor); !s) {
      return s;
    }
    out.newly_revoked.push_back(std::move(r));
  }
  return {};
}

policy::Result<CrlOutcome> Keystore::import_crl(const X509_CRL& crl, std::string_view actor) {
  auto* c = const_cast<X509_CRL*>(&crl);  // OpenSSL 3.0 getters are not all const
  const X509_NAME* issuer_name = ::X509_CRL_get_issuer(c);
  const std::string issuer_der = detail::name_der(issuer_name);
  CrlOutcome out;
  out.crl_number = crl_number(crl);
  const std::lock_guard lock(mu_);
  auto st = db_.query("SELECT der, subject, fingerprint FROM ca_certs WHERE subject_der=?1",
                      Blob{issuer_der});
  if (!st) {
    return std::move(st).error();
  }
  bool any = false;
  std::string issuer_fp;
  for (;;) {
    auto row = st->step();
    if (!row) {
      return std::move(row).error();
    }
    if (!*row) {
      break;
    }
    any = true;
    out.issuer = st->col_text(1);
    auto ca = smime::parse_cert(st->col_blob(0));
    if (ca && ::X509_CRL_verify(c, ::X509_get0_pubkey(ca->get())) == 1) {
      issuer_fp = st->col_text(2);
      break;
    }
    ::ERR_clear_error();
  }
  if (!any) {
    return unexpected(Errc::kUntrustedChain,
                      "CRL issuer is not in the directory (add it with `smimectl trust add` or "
                      "import a chain that contains it)");
  }
  if (issuer_fp.empty()) {
    return unexpected(Errc::kBadSignature,
                      "CRL signature does not verify against its issuer " + out.issuer);
  }
  auto held = db_.first_row("SELECT crl_number FROM crls WHERE issuer_der=?1", Blob{issuer_der});
  if (!held) {
    return std::move(held).error();
  }
  if (*held) {
    const std::string held_number = (*held)->col_text(0);
    const int cmp = compare_hex(out.crl_number, held_number);
    if (cmp < 0) {
      return unexpected(Errc::kConflict, "CRL number " + out.crl_number + " from " + out.issuer +
                                             " is older than the one held (" + held_number + ")");
    }
    if (cmp == 0) {
      return out;  // the same CRL again: nothing changes
    }
  }
  const auto entries = crl_entries(crl);
  auto tx = Transaction::begin(db_);
  if (!tx) {
    return std::move(tx).error();
  }
  auto before = crl_revoked_locked(issuer_der);
  if (!before) {
    return std::move(before).error();
  }
  if (auto s = db_.execute("DELETE FROM revocations WHERE issuer_der=?1 AND source='crl'",
                           Blob{issuer_der});
      !s) {
    return s.error();
  }
  const std::int64_t now = detail::now_unix();
  for (const auto& e : entries) {
    if (auto s = db_.execute(
            "INSERT OR IGNORE INTO revocations(issuer_der, serial, reason, revoked_at, source, "
            "by_whom, recorded_at) VALUES(?1,?2,?3,?4,'crl',?5,?6)",
            Blob{issuer_der}, e.serial, e.reason, e.at, actor, now);
        !s) {
      return s.error();
    }
  }
  unsigned char* der = nullptr;
  const int n = ::i2d_X509_CRL(c, &der);
  const std::string crl_der =
      n > 0 ? std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n)) : "";
  ::OPENSSL_free(der);
  const ASN1_TIME* next = ::X509_CRL_get0_nextUpdate(c);
  if (auto s = db_.execute(
          "INSERT OR REPLACE INTO crls(issuer_der, issuer, this_update, next_update, crl_number, "
          "der, imported_at) VALUES(?1,?2,?3,?4,?5,?6,?7)",
          Blob{issuer_der}, out.issuer, smime::to_unix(::X509_CRL_get0_lastUpdate(c)),
          next != nullptr ? smime::to_unix(next) : std::int64_t{0}, out.crl_number, Blob{crl_der},
          now);
      !s) {
    return s.error();
  }
  if (auto s = record_newly_revoked_locked(issuer_der, *before, actor, out); !s) {
    return s.error();
  }
  if (auto s = history_locked(
          issuer_fp, "crl-imported",
          "CRL number " + out.crl_number + ", " + std::to_string(entries.size()) + " entries",
          actor);
      !s) {
    return s.error();
  }
  if (auto s = tx->commit(); !s) {
    return s.error();
  }
  cache_.clear();
  out.revoked_entries = entries.size();
  out.changed = true;
  return out;
}

}  // namespace keystore
