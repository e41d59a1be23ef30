// smimectl audit search|export|verify: the auditor's view of the audit trail. Opens the
// trail read-only (an auditor needs no access to the keystore or its keys).
#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sys/stat.h>

#include "audit/export.h"
#include "audit/trail.h"
#include "cli/exit_codes.h"
#include "cli/ks_common.h"
#include "cli/registry.h"
#include "keystore/keystore.h"
#include "policy/config.h"
#include "smime/x509.h"

namespace cli {
namespace {

int fail(const policy::Error& e) {
  std::fprintf(stderr, "smimectl: %s\n", e.message().c_str());
  return exit_code_for(e.code());
}

struct FilterArgs {
  std::string from, to, since, until, direction, verdict;
  bool incidents_only = false;
  std::size_t limit = 0;
};

void add_filter_options(CLI::App& cmd, FilterArgs& a) {
  cmd.add_option("--from", a.from, "envelope sender (exact, case-insensitive)");
  cmd.add_option("--to", a.to, "one of the recipients (exact, case-insensitive)");
  cmd.add_option("--since", a.since,
                 "from this time on: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds");
  cmd.add_option("--until", a.until, "before this time (same forms)");
  cmd.add_option("--direction", a.direction, "inbound, outbound, internal, ...");
  cmd.add_option("--verdict", a.verdict, "accept, tempfail, reject, discard, quarantine");
  cmd.add_flag("--incidents-only", a.incidents_only, "only records flagged as security incidents");
  cmd.add_option("--limit", a.limit, "at most this many records");
}

policy::Result<audit::Filter> to_filter(const FilterArgs& a) {
  audit::Filter f;
  f.sender = a.from;
  f.recipient = a.to;
  f.direction = a.direction;
  f.verdict = a.verdict;
  f.incidents_only = a.incidents_only;
  f.limit = a.limit;
  for (const auto& [text, out] : {std::pair{&a.since, &f.since}, std::pair{&a.until, &f.until}}) {
    if (text->empty()) {
      continue;
    }
    const auto t = audit::parse_time(*text);
    if (!t) {
      return policy::unexpected(
          policy::Errc::kInvalidArgument,
          "bad time '" + *text + "' (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds)");
    }
    *out = *t;
  }
  return f;
}

int run_search(const std::string& db, const FilterArgs& args, bool json) {
  auto f = to_filter(args);
  if (!f) {
    return fail(f.error());
  }
  auto t = audit::Trail::open_read_only(db);
  if (!t) {
    return fail(t.error());
  }
  auto s = (*t)->scan(*f, [json](const audit::Entry& e) {
    std::cout << (json ? audit::to_json(e).dump() : audit::summary_line(e)) << "\n";
    return true;
  });
  return s ? kExitOk : fail(s.error());
}

int run_export(const std::string& db, const FilterArgs& args, const std::string& format,
               const std::string& out) {
  auto f = to_filter(args);
  if (!f) {
    return fail(f.error());
  }
  auto t = audit::Trail::open_read_only(db);
  if (!t) {
    return fail(t.error());
  }
  std::ofstream file;
  if (!out.empty() && out != "-") {
    const mode_t old_mask = ::umask(077);  // the export holds addresses: 0600 like the trail
    file.open(out, std::ios::binary | std::ios::trunc);
    ::umask(old_mask);
    if (!file) {
      return fail(policy::unexpected(policy::Errc::kIo, "cannot write " + out));
    }
  }
  std::ostream& os = file.is_open() ? static_cast<std::ostream&>(file) : std::cout;
  const bool csv = format == "csv";
  if (csv) {
    os << audit::csv_header();
  }
  auto s = (*t)->scan(*f, [&os, csv](const audit::Entry& e) {
    os << (csv ? audit::csv_line(e) : audit::to_json(e).dump() + "\n");
    return true;
  });
  os.flush();
  if (!s) {
    return fail(s.error());
  }
  return os ? kExitOk : fail(policy::unexpected(policy::Errc::kIo, "write failed"));
}

std::optional<audit::Head> parse_head(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || text.size() - colon - 1 != 64 ||
      text.find_first_not_of("0123456789") < colon) {
    return std::nullopt;
  }
  audit::Head h;
  h.seq = std::stoull(text.substr(0, colon));
  h.hash = text.substr(colon + 1);
  return h;
}

int run_verify(const std::string& db, const std::string& expect, bool json) {
  audit::VerifyOptions vo;
  if (!expect.empty()) {
    vo.expect_head = parse_head(expect);
    if (!vo.expect_head) {
      return fail(policy::unexpected(policy::Errc::kInvalidArgument,
                                     "--expect-head wants SEQ:HASH (64 hex digits)"));
    }
  }
  auto t = audit::Trail::open_read_only(db);
  if (!t) {
    return fail(t.error());
  }
  auto v = (*t)->verify(vo);
  if (!v) {
    return fail(v.error());
  }
  if (json) {
    std::cout << nlohmann::json{{"ok", v->ok()},
                                {"records", v->records},
                                {"last_seq", v->last_seq},
                                {"head_hash", v->head_hash},
                                {"heads_checked", v->heads_checked},
                                {"heads_signed", v->heads_signed},
                                {"problem", audit::problem_name(v->problem)},
                                {"bad_seq", v->bad_seq},
                                {"detail", v->detail}}
                     .dump()
              << "\n";
  } else if (v->ok()) {
    std::cout << "audit trail intact: " << v->records << " records, head " << v->last_seq << ":"
              << v->head_hash << ", " << v->heads_checked << " published heads checked ("
              << v->heads_signed << " signed)\n";
  } else {
    std::cout << "audit trail TAMPERED (" << audit::problem_name(v->problem) << "): " << v->detail
              << "\n";
  }
  return v->ok() ? kExitOk : kExitFailure;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return f ? std::string(std::istreambuf_iterator<char>(f), {}) : std::string{};
}

// The daemon's head signer: the system certificate (with its key, from the keystore)
// that `address`, else the configuration's [audit] head_signer, names.
policy::Result<smime::Credential> keystore_signer(const Globals& g, std::string address) {
  if (address.empty()) {
    auto cfg = policy::load_config(g.config_path);
    if (!cfg) {
      return cfg.error();
    }
    address = (*cfg)->audit.head_signer;
    if (address.empty()) {
      return policy::unexpected(policy::Errc::kInvalidArgument,
                                "no [audit] head_signer in " + g.config_path +
                                    " (name the system mailbox with --signer ADDRESS)");
    }
  }
  auto ks = ks::open_keystore(g, ks::KsOptions{}, true);
  if (!ks) {
    return ks.error();
  }
  constexpr std::array kSystem{keystore::CertType::kSystem};
  auto c = (*ks)->signing_credential(address, kSystem);
  if (!c) {
    return c.error();
  }
  if (!c->has_value()) {
    return policy::unexpected(policy::Errc::kNotFound,
                              "no usable system certificate with a key for " + address);
  }
  return std::move(**c);
}

struct HeadArgs {
  std::string cert, key;  // PEM files
  bool sign = false;      // with the keystore's system certificate
  std::string signer;     // its address (default: [audit] head_signer)
};

// Publishes the chain head now (for cron, or before handing a copy to an auditor),
// signed with the keystore's system certificate (--sign), or with the given certificate
// and unencrypted PEM key when both are given.
int run_head(const Globals& g, const std::string& db, const HeadArgs& a, bool json) {
  std::optional<smime::Credential> signer;
  const std::string& cert_path = a.cert;
  const std::string& key_path = a.key;
  if (a.sign || !a.signer.empty()) {
    auto c = keystore_signer(g, a.signer);
    if (!c) {
      return fail(c.error());
    }
    signer.emplace(std::move(*c));
  } else if (!cert_path.empty() || !key_path.empty()) {
    auto cert = smime::parse_cert(slurp(cert_path));
    if (!cert) {
      return fail(cert.error());
    }
    auto key = smime::parse_private_key(slurp(key_path));
    if (!key) {
      return fail(key.error());
    }
    if (!smime::key_matches(**cert, **key)) {
      return fail(policy::unexpected(policy::Errc::kInvalidArgument,
                                     "the key does not belong to the certificate"));
    }
    signer.emplace();
    signer->cert = std::move(*cert);
    signer->key = std::move(*key);
  }
  auto t = audit::Trail::open(db);
  if (!t) {
    return fail(t.error());
  }
  auto h = (*t)->publish_head(signer ? &*signer : nullptr);
  if (!h) {
    return fail(h.error());
  }
  if (json) {
    std::cout << nlohmann::json{{"seq", h->seq},
                                {"hash", h->hash},
                                {"time", h->time},
                                {"signer", h->signer_fingerprint}}
                     .dump()
              << "\n";
  } else {
    std::cout << h->seq << ":" << h->hash
              << (signer ? " signed by " + h->signer_fingerprint : " unsigned") << "\n";
  }
  return kExitOk;
}

const bool kReg = register_group([](CLI::App& app, Globals& g, int& rc) {
  auto* audit_cmd = app.add_subcommand("audit", "search, export and verify the audit trail");
  audit_cmd->require_subcommand(1);
  struct State {
    std::string db = audit::kDefaultPath;
    FilterArgs filter;
    bool json = false;
    std::string format = "jsonl", out, expect_head;
    HeadArgs head;
  };
  auto st = std::make_shared<State>();

  auto* search = audit_cmd->add_subcommand("search", "list matching records (oldest first)");
  search->add_option("--audit-db", st->db, "audit trail file")->capture_default_str();
  add_filter_options(*search, st->filter);
  search->add_flag("--json", st->json, "one JSON object per line");
  search->callback([st, &g, &rc] { rc = run_search(st->db, st->filter, st->json || g.json); });

  auto* exp = audit_cmd->add_subcommand("export", "export records as CSV or JSON Lines");
  exp->add_option("--audit-db", st->db, "audit trail file")->capture_default_str();
  add_filter_options(*exp, st->filter);
  exp->add_option("--format", st->format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  exp->add_option("-o,--output", st->out, "output file (default stdout)");
  exp->callback([st, &rc] { rc = run_export(st->db, st->filter, st->format, st->out); });

  auto* ver = audit_cmd->add_subcommand(
      "verify", "walk the hash chain; name the first changed, removed or reordered record");
  ver->add_option("--audit-db", st->db, "audit trail file")->capture_default_str();
  ver->add_option("--expect-head", st->expect_head,
                  "a head from syslog or a report, SEQ:HASH, that must be in the chain");
  ver->add_flag("--json", st->json, "JSON result");
  ver->callback([st, &g, &rc] { rc = run_verify(st->db, st->expect_head, st->json || g.json); });

  auto* head =
      audit_cmd->add_subcommand("head", "record, sign and log the chain head now (SEQ:HASH)");
  head->add_option("--audit-db", st->db, "audit trail file")->capture_default_str();
  auto* sign = head->add_flag(
      "--sign", st->head.sign,
      "sign with the system certificate [audit] head_signer names in the keystore (as the "
      "milter does; needs the key-encryption secret)");
  auto* signer = head->add_option("--signer", st->head.signer,
                                  "sign with this system mailbox's certificate instead (implies "
                                  "--sign)");
  head->add_option("--cert", st->head.cert,
                   "signing certificate (PEM), e.g. the gateway's system certificate")
      ->excludes(sign)
      ->excludes(signer);
  head->add_option("--key", st->head.key, "its private key (PEM, unencrypted)")
      ->excludes(sign)
      ->excludes(signer);
  head->add_flag("--json", st->json, "JSON result");
  head->callback([st, &g, &rc] { rc = run_head(g, st->db, st->head, st->json || g.json); });
});

}  // namespace
}  // namespace cli
