// smimectl listings: list, show, export, expiring.
#include <cstdio>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/ks_common.h"
#include "keystore/util.h"
#include "policy/types.h"
#include "smime/x509.h"

namespace cli::ks {
using policy::Errc;
using Json = nlohmann::json;

namespace {

Json to_json(const keystore::CertRecord& r) {
  Json j{{"fingerprint", r.fingerprint},
         {"subject", r.subject},
         {"issuer", r.issuer},
         {"serial", r.serial},
         {"emails", r.emails},
         {"type", std::string(keystore::cert_type_name(r.type))},
         {"owner", r.owner},
         {"department", r.department},
         {"origin", r.origin},
         {"key_type", r.key_type},
         {"key_bits", r.key_bits},
         {"not_before", utc_date(r.not_before)},
         {"not_after", utc_date(r.not_after)},
         {"has_private_key", r.has_key},
         {"fit_for_signing", r.fit_sign},
         {"fit_for_encryption", r.fit_encrypt},
         {"revoked", !r.revoked_reason.empty()}};
  if (!r.revoked_reason.empty()) {
    j["revocation_reason"] = r.revoked_reason;
    j["revoked_at"] = r.revoked_at;
  }
  return j;
}

std::string state(const keystore::CertRecord& r, std::int64_t now) {
  if (!r.revoked_reason.empty()) {
    return "revoked";
  }
  if (r.not_after <= now) {
    return "expired";
  }
  return r.not_before > now ? "not-yet-valid" : "valid";
}

void print_table(const std::vector<keystore::CertRecord>& recs) {
  const std::int64_t now = keystore::detail::now_unix();
  std::printf("%-16s  %-10s  %-8s  %-10s  %-4s  %-20s  %s\n", "FINGERPRINT", "TYPE", "STATE",
              "NOT AFTER", "KEY", "OWNER", "ADDRESSES");
  for (const auto& r : recs) {
    std::printf("%-16s  %-10s  %-8s  %-10s  %-4s  %-20s  %s\n", r.fingerprint.substr(0, 16).c_str(),
                std::string(keystore::cert_type_name(r.type)).c_str(), state(r, now).c_str(),
                utc_date(r.not_after).c_str(), r.has_key ? "yes" : "no", r.owner.c_str(),
                policy::join(r.emails, ",").c_str());
  }
}

void print_details(const keystore::CertRecord& r) {
  const std::int64_t now = keystore::detail::now_unix();
  std::printf(
      "fingerprint: %s\nsubject:     %s\nissuer:      %s\nserial:      %s\naddresses:   %s\n"
      "type:        %s\nowner:       %s\ndepartment:  %s\norigin:      %s\nkey:         %s %d\n"
      "valid:       %s .. %s (%s)\nprivate key: %s\nsigning:     %s\nencryption:  %s\n",
      r.fingerprint.c_str(), r.subject.c_str(), r.issuer.c_str(), r.serial.c_str(),
      policy::join(r.emails, ",").c_str(), std::string(keystore::cert_type_name(r.type)).c_str(),
      r.owner.c_str(), r.department.c_str(), r.origin.c_str(), r.key_type.c_str(), r.key_bits,
      utc_date(r.not_before).c_str(), utc_date(r.not_after).c_str(), state(r, now).c_str(),
      r.has_key ? "held (wrapped)" : "not held", r.fit_sign ? "fit" : "not fit",
      r.fit_encrypt ? "fit" : "not fit");
  if (!r.revoked_reason.empty()) {
    std::printf("revoked:     %s at %s\n", r.revoked_reason.c_str(),
                utc_date(r.revoked_at).c_str());
  }
}

// Runs a query-style command: open, fetch, report "not found" as exit code 6.
template <class Fetch, class Print>
void run_query(Globals& g, int& rc, const KsOptions& o, const std::string& what, Fetch fetch,
               Print print) {
  auto ks = open_keystore(g, o, false);
  if (!ks) {
    rc = fail(ks.error());
    return;
  }
  auto recs = fetch(**ks);
  if (!recs) {
    rc = fail(recs.error(), what);
    return;
  }
  rc = print(*recs);
}

}  // namespace

void add_listing_commands(CLI::App& app, Globals& g, int& rc) {
  auto o = std::make_shared<KsOptions>();
  auto* list = app.add_subcommand("list", "list the certificates in the directory");
  add_common_options(list, *o, g);
  list->callback([&g, &rc, o] {
    run_query(
        g, rc, *o, "list", [](keystore::Keystore& ks) { return ks.list_certs(); },
        [&g](const std::vector<keystore::CertRecord>& recs) {
          if (g.json) {
            Json out = Json::array();
            for (const auto& r : recs) {
              out.push_back(to_json(r));
            }
            std::printf("%s\n", out.dump(2).c_str());
          } else {
            print_table(recs);
          }
          return static_cast<int>(kExitOk);
        });
  });

  auto query = std::make_shared<std::string>();
  auto* show = app.add_subcommand("show", "show certificates by address, fingerprint or serial");
  show->add_option("certificate", *query, "e-mail address, SHA-256 fingerprint or serial")
      ->required();
  add_common_options(show, *o, g);
  show->callback([&g, &rc, o, query] {
    run_query(
        g, rc, *o, *query, [&](keystore::Keystore& ks) { return ks.find_certs(*query); },
        [&](const std::vector<keystore::CertRecord>& recs) {
          if (recs.empty()) {
            return fail(policy::Error(Errc::kNotFound, "no certificate matches"), *query);
          }
          Json out = Json::array();
          for (const auto& r : recs) {
            if (g.json) {
              out.push_back(to_json(r));
            } else {
              print_details(r);
              std::printf("\n");
            }
          }
          if (g.json) {
            std::printf("%s\n", out.dump(2).c_str());
          }
          return static_cast<int>(kExitOk);
        });
  });

  auto out_file = std::make_shared<std::string>();
  auto* exp = app.add_subcommand("export", "write certificates (never keys) as PEM");
  exp->add_option("certificate", *query, "e-mail address, SHA-256 fingerprint or serial")
      ->required();
  exp->add_option("-o,--out", *out_file, "output file (default: standard output)");
  add_common_options(exp, *o, g);
  exp->callback([&g, &rc, o, query, out_file] {
    run_query(
        g, rc, *o, *query, [&](keystore::Keystore& ks) { return ks.find_certs(*query); },
        [&](const std::vector<keystore::CertRecord>& recs) {
          if (recs.empty()) {
            return fail(policy::Error(Errc::kNotFound, "no certificate matches"), *query);
          }
          std::string pem;
          for (const auto& r : recs) {
            auto cert = smime::parse_cert(r.der);
            if (cert) {
              pem += smime::to_pem(**cert);
            }
          }
          if (out_file->empty()) {
            std::fwrite(pem.data(), 1, pem.size(), stdout);
          } else {
            std::ofstream f(*out_file, std::ios::binary | std::ios::trunc);
            f << pem;
            if (!f) {
              return fail(policy::Error(Errc::kIo, "cannot write " + *out_file));
            }
          }
          return static_cast<int>(kExitOk);
        });
  });

  auto days = std::make_shared<int>(30);
  auto* expiring =
      app.add_subcommand("expiring", "certificates expiring within N days (apply for renewal)");
  expiring->add_option("--days", *days, "window in days")
      ->capture_default_str()
      ->check(CLI::Range(0, 36500));
  add_common_options(expiring, *o, g);
  expiring->callback([&g, &rc, o, days] {
    run_query(
        g, rc, *o, "expiring",
        [&](keystore::Keystore& ks) {
          return ks.expiring(static_cast<std::int64_t>(*days) * 86400);
        },
        [&](const std::vector<keystore::CertRecord>& recs) {
          const std::int64_t now = keystore::detail::now_unix();
          Json out = Json::array();
          if (!g.json) {
            std::printf("%-10s  %-5s  %-24s  %-30s  %-20s  %s\n", "EXPIRES", "DAYS", "OWNER",
                        "ADDRESS", "DEPARTMENT", "FINGERPRINT");
          }
          for (const auto& r : recs) {
            const std::int64_t left = (r.not_after - now) / 86400;
            if (g.json) {
              Json j = to_json(r);
              j["days_left"] = left;
              out.push_back(j);
            } else {
              std::printf("%-10s  %-5lld  %-24s  %-30s  %-20s  %s\n", utc_date(r.not_after).c_str(),
                          static_cast<long long>(left), r.owner.c_str(),
                          policy::join(r.emails, ",").c_str(), r.department.c_str(),
                          r.fingerprint.substr(0, 16).c_str());
            }
          }
          if (g.json) {
            std::printf("%s\n", out.dump(2).c_str());
          }
          return static_cast<int>(kExitOk);
        });
  });
}

}  // namespace cli::ks
