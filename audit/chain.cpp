// Trail members for the hash chain: verification walk and chain-head publication.
#include <array>
#include <map>
#include <syslog.h>

#include <openssl/err.h>

#include "audit/trail.h"
#include "smime/x509.h"

namespace audit {
namespace {

using policy::Errc;
using policy::unexpected;

namespace ossl = smime::ossl;

policy::Result<std::string> sign_statement(const std::string& statement,
                                           const smime::Credential& signer) {
  ERR_clear_error();
  auto data = ossl::mem_view(statement);
  auto chain = ossl::make_stack(signer.chain);
  ossl::Cms cms(CMS_sign(signer.cert.get(), signer.key.get(), chain.get(), data.get(),
                         CMS_DETACHED | CMS_BINARY));
  if (!cms) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot sign the audit chain head"));
  }
  auto out = ossl::mem_buffer();
  if (i2d_CMS_bio(out.get(), cms.get()) != 1) {
    return unexpected(Errc::kCrypto, ossl::error_text("cannot encode the head signature"));
  }
  return ossl::bio_contents(out.get());
}

// Checks the CMS signature over the head statement (integrity and signer identity;
// whether the signer is the gateway's certificate is shown by its fingerprint).
bool signature_valid(const Head& h) {
  ERR_clear_error();
  auto in = ossl::mem_view(h.signature_der);
  ossl::Cms cms(d2i_CMS_bio(in.get(), nullptr));
  if (!cms) {
    ossl::drain_errors();
    return false;
  }
  const std::string statement = h.statement();
  auto data = ossl::mem_view(statement);
  const bool ok = CMS_verify(cms.get(), nullptr, nullptr, data.get(), nullptr,
                             CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
  ossl::drain_errors();
  return ok;
}

void default_sink(std::string_view line) {
  ::syslog(LOG_MAIL | LOG_INFO, "%.*s", static_cast<int>(line.size()), line.data());
}

std::string select_all_sql() {
  std::string cols;
  for (size_t i = 0; i < kColumns.size(); ++i) {
    cols += (i != 0 ? "," : "") + std::string(kColumns[i]);
  }
  return "SELECT " + cols + " FROM records";
}

}  // namespace

std::string Head::statement() const {
  return "smime-milter-audit-head/1 seq=" + std::to_string(seq) + " hash=" + hash +
         " time=" + std::to_string(time);
}

std::string_view problem_name(Problem p) {
  constexpr std::array<std::string_view, 7> kNames = {
      "ok", "changed", "missing", "reordered", "truncated", "head-mismatch", "bad-head-signature"};
  return kNames.at(static_cast<size_t>(p));
}

policy::Result<Head> Trail::publish_head(const smime::Credential* signer) {
  Head h;
  h.time = now();
  const std::lock_guard lk(reader_mu_);
  auto q = reader_.prepare("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1");
  if (!q) {
    return q.error();
  }
  const int rc = q->step();
  if (rc == SQLITE_ROW) {
    h.seq = static_cast<std::uint64_t>(q->int_col(0));
    h.hash = q->text_col(1);
  } else if (rc == SQLITE_DONE) {
    h.hash = std::string(kGenesisHash);
  } else {
    return reader_.error("cannot read the chain head");
  }
  if (signer != nullptr) {
    auto sig = sign_statement(h.statement(), *signer);
    if (!sig) {
      return sig.error();
    }
    h.signature_der = std::move(*sig);
    h.signer_fingerprint = smime::inspect(*signer->cert).fingerprint_sha256;
  }
  if (!options_.read_only) {
    auto ins = reader_.prepare(
        "INSERT INTO heads(seq, hash, time, signature, signer) VALUES (?1,?2,?3,?4,?5)");
    if (!ins) {
      return ins.error();
    }
    ins->bind(1, static_cast<std::int64_t>(h.seq));
    ins->bind(2, h.hash);
    ins->bind(3, h.time);
    ::sqlite3_bind_blob64(ins->get(), 4, h.signature_der.data(), h.signature_der.size(),
                          SQLITE_TRANSIENT);
    ins->bind(5, h.signer_fingerprint);
    if (ins->step() != SQLITE_DONE) {
      return reader_.error("cannot record the chain head");
    }
  }
  const std::string line =
      "smime-milter audit head " + h.statement() +
      (h.signer_fingerprint.empty() ? " unsigned" : " signer=" + h.signer_fingerprint);
  (options_.head_sink ? options_.head_sink : default_sink)(line);
  return h;
}

policy::Result<std::vector<Head>> Trail::heads() {
  const std::lock_guard lk(reader_mu_);
  auto q =
      reader_.prepare("SELECT seq, hash, time, signature, signer FROM heads ORDER BY seq, time");
  if (!q) {
    return q.error();
  }
  std::vector<Head> out;
  int rc = 0;
  while ((rc = q->step()) == SQLITE_ROW) {
    Head h;
    h.seq = static_cast<std::uint64_t>(q->int_col(0));
    h.hash = q->text_col(1);
    h.time = q->int_col(2);
    const auto* blob = static_cast<const char*>(::sqlite3_column_blob(q->get(), 3));
    const int n = ::sqlite3_column_bytes(q->get(), 3);
    if (blob != nullptr && n > 0) {
      h.signature_der.assign(blob, static_cast<size_t>(n));
    }
    h.signer_fingerprint = q->text_col(4);
    out.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) {
    return reader_.error("cannot read the chain heads");
  }
  return out;
}

namespace {

// One step of the walk: the problem with `e` given its predecessor, if any.
Problem check_link(const Entry& e, std::uint64_t prev_seq, const std::string& prev_hash,
                   std::string& detail) {
  const std::string at = "record " + std::to_string(e.seq);
  if (compute_hash(e) != e.hash) {
    detail = at + " was changed: its contents do not match its stored hash";
    return Problem::kChanged;
  }
  if (e.prev_hash != prev_hash) {
    if (e.seq > prev_seq + 1) {
      detail = at + " follows record " + std::to_string(prev_seq) + ": record(s) " +
               std::to_string(prev_seq + 1) +
               (e.seq > prev_seq + 2 ? ".." + std::to_string(e.seq - 1) : "") + " were removed";
      return Problem::kMissing;
    }
    detail = at + " is out of order: it does not follow record " + std::to_string(prev_seq) +
             " in the chain (records reordered, or removed and renumbered)";
    return Problem::kReordered;
  }
  if (e.seq != prev_seq + 1) {
    detail = at + " has an altered sequence number (expected " + std::to_string(prev_seq + 1) + ")";
    return Problem::kChanged;
  }
  return Problem::kNone;
}

}  // namespace

namespace {

// Checks published heads against a chain walked clean; `named` maps head seqs to the
// hashes the walk found.
void check_heads(const std::vector<Head>& stored, std::map<std::uint64_t, std::string>& named,
                 VerifyReport& rep) {
  for (const auto& h : stored) {
    ++rep.heads_checked;
    const std::string at =
        "head published at " + std::to_string(h.time) + " for record " + std::to_string(h.seq);
    if (h.seq > rep.last_seq) {
      rep.problem = Problem::kTruncated;
      rep.bad_seq = rep.last_seq + 1;
      rep.detail = "the trail ends at record " + std::to_string(rep.last_seq) + " but a " + at +
                   " exists: records " + std::to_string(rep.last_seq + 1) + ".." +
                   std::to_string(h.seq) + " were removed";
      return;
    }
    const std::string& have = named[h.seq];
    if (have != h.hash) {
      rep.problem = Problem::kHeadMismatch;
      rep.bad_seq = h.seq;
      rep.detail = "the " + at + " names hash " + h.hash + " but the trail has " + have +
                   ": the chain up to that record was rewritten";
      return;
    }
    if (!h.signature_der.empty()) {
      if (!signature_valid(h)) {
        rep.problem = Problem::kBadHeadSignature;
        rep.bad_seq = h.seq;
        rep.detail = "the signature of the " + at + " does not verify";
        return;
      }
      ++rep.heads_signed;
    }
  }
}

}  // namespace

policy::Status Trail::walk_chain(std::map<std::uint64_t, std::string>& named, VerifyReport& rep) {
  const std::lock_guard lk(reader_mu_);
  auto q = reader_.prepare(select_all_sql() + " ORDER BY seq");
  if (!q) {
    return q.error();
  }
  std::vector<std::string> values(kColumns.size());
  int rc = 0;
  while ((rc = q->step()) == SQLITE_ROW) {
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] = q->text_col(static_cast<int>(i));
    }
    Entry e;
    if (!from_column_values(values, e)) {
      rep.problem = Problem::kChanged;
      rep.bad_seq = e.seq;
      rep.detail = "record " + values[0] + " was changed: a list column is not valid JSON";
      return {};
    }
    rep.problem = check_link(e, rep.last_seq, rep.head_hash, rep.detail);
    if (rep.problem != Problem::kNone) {
      // A removal is named by the first missing record; anything else by the row found.
      rep.bad_seq = rep.problem == Problem::kMissing ? rep.last_seq + 1 : e.seq;
      return {};
    }
    ++rep.records;
    rep.last_seq = e.seq;
    rep.head_hash = e.hash;
    if (const auto it = named.find(e.seq); it != named.end()) {
      it->second = e.hash;
    }
  }
  return rc == SQLITE_DONE ? policy::Status{}
                           : policy::Status{reader_.error("cannot read the audit records")};
}

policy::Result<VerifyReport> Trail::verify(const VerifyOptions& options) {
  VerifyReport rep;
  rep.head_hash = std::string(kGenesisHash);
  auto stored = heads();
  if (!stored) {
    return stored.error();
  }
  if (options.expect_head) {
    stored->push_back(*options.expect_head);
  }
  // Hashes of the records that published heads name (memory stays small on big trails).
  std::map<std::uint64_t, std::string> named;
  for (const auto& h : *stored) {
    named[h.seq] = h.seq == 0 ? std::string(kGenesisHash) : std::string();
  }
  if (auto s = walk_chain(named, rep); !s) {
    return s.error();
  }
  if (rep.ok()) {
    check_heads(*stored, named, rep);
  }
  return rep;
}

}  // namespace audit
