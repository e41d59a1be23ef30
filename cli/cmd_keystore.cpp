// smimectl keystore commands: init, trust add|list|remove, revoke, crl import
// (listings in ks_list.cpp, import in ks_import.cpp). Registered through registry.h.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <grp.h>
#include <memory>
#include <optional>
#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/ks_audit.h"
#include "cli/ks_common.h"
#include "cli/registry.h"
#include "keystore/kek.h"
#include "keystore/schema.h"
#include "policy/config.h"
#include "smime/x509.h"

namespace cli::ks {
using policy::Errc;
using Json = nlohmann::json;

namespace {

// The daemon's account ([daemon] user and group; the defaults when no configuration is
// read) when smimectl runs as root: root's 0600 files are of no use to the daemon.
// nullopt when not root, or the user is empty, root or unknown.
struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;  // user:group
};
policy::Result<std::optional<Owner>> daemon_owner(const Globals& g) {
  if (::geteuid() != 0) {
    return std::optional<Owner>();
  }
  policy::DaemonConfig d;
  if (auto cfg = policy::load_config(g.config_path); cfg) {
    d = (*cfg)->daemon;
  }
  const passwd* pw = d.user.empty() || d.user == "root" ? nullptr : ::getpwnam(d.user.c_str());
  if (pw == nullptr) {
    return std::optional<Owner>();
  }
  Owner o{pw->pw_uid, pw->pw_gid, d.user + ":"};
  if (d.group.empty()) {
    const group* gr = ::getgrgid(pw->pw_gid);
    o.name += gr != nullptr ? std::string(gr->gr_name) : std::to_string(pw->pw_gid);
  } else if (const group* gr = ::getgrnam(d.group.c_str()); gr != nullptr) {
    o.gid = gr->gr_gid;
    o.name += d.group;
  } else {
    return policy::Error(Errc::kConfig, "[daemon] group '" + d.group + "' does not exist");
  }
  return std::optional<Owner>(o);
}

// Gives `files` (and their SQLite -wal/-shm companions) that exist to `owner`; modes stay.
policy::Status give_to(const Owner& owner, const std::vector<std::string>& files) {
  for (const auto& f : files) {
    if (f.empty()) {
      continue;
    }
    for (const std::string& p : {f, f + "-wal", f + "-shm"}) {
      if (!std::filesystem::exists(p)) {
        continue;
      }
      if (::chown(p.c_str(), owner.uid, owner.gid) != 0) {
        return policy::Error(Errc::kPermission, "cannot give " + p + " to " + owner.name + ": " +
                                                    std::strerror(errno));
      }
    }
  }
  return {};
}

void add_init(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand("init", "create (or upgrade) the keystore database");
  auto o = std::make_shared<KsOptions>();
  auto create_secret = std::make_shared<bool>(false);
  add_common_options(cmd, *o, g);
  cmd->add_flag("--create-secret", *create_secret,
                "also create the key-encryption secret file (mode 0600)");
  add_audit_options(cmd, *o);
  cmd->callback([&g, &rc, o, create_secret] {
    auto loc = locate(g, *o);
    if (!loc) {
      rc = fail(loc.error());
      return;
    }
    auto trail = AdminAudit::open(g, *o);
    if (!trail) {
      rc = fail(trail.error());
      return;
    }
    auto owner = daemon_owner(g);
    if (!owner) {
      rc = fail(owner.error());
      return;
    }
    if (*create_secret) {
      if (loc->secret_file.empty()) {
        rc =
            fail(policy::Error(Errc::kInvalidArgument, "--create-secret needs --secret-file FILE"));
        return;
      }
      if (auto s = keystore::create_secret_file(loc->secret_file); !s) {
        rc = fail(s.error());
        return;
      }
    }
    auto ks = open_keystore(g, *o, true, true);
    if (!ks) {
      rc = fail(ks.error(), loc->db_path);
      return;
    }
    Json out{{"keystore", loc->db_path},
             {"schema_version", keystore::schema_version_known()},
             {"secret_file", loc->secret_file}};
    if (!g.json) {
      std::printf("keystore %s ready (schema version %lld)\n", loc->db_path.c_str(),
                  static_cast<long long>(keystore::schema_version_known()));
    }
    audit::AdminRecord rec;
    rec.action = "init";
    rec.detail = "keystore " + loc->db_path + " schema version " +
                 std::to_string(keystore::schema_version_known()) +
                 (*create_secret ? ", new key-encryption secret" : "");
    rc = trail->record(std::move(rec));
    if (rc == kExitOk && *owner) {
      // Run as root, init hands its files to the daemon's account.
      if (auto s = give_to(**owner, {loc->db_path, loc->secret_file, trail->path()}); !s) {
        rc = fail(s.error());
        return;
      }
      out["owner"] = (*owner)->name;
      if (!g.json) {
        std::printf("owner %s (the daemon's account)\n", (*owner)->name.c_str());
      }
    }
    if (g.json) {
      std::printf("%s\n", out.dump().c_str());
    }
  });
}

void add_trust(CLI::App& app, Globals& g, int& rc) {
  auto* trust = app.add_subcommand("trust", "manage trust anchors (root CAs)");
  trust->require_subcommand(1);
  auto o = std::make_shared<KsOptions>();
  auto* add =
      trust->add_subcommand("add", "add the CA certificates in FILE (PEM or DER) as trust anchors");
  auto files = std::make_shared<std::vector<std::string>>();
  add->add_option("file", *files, "certificate file")->required();
  add_common_options(add, *o, g);
  add_audit_options(add, *o);
  add->callback([&g, &rc, o, files] {
    rc = run_change(g, *o, false, [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
      Json out = Json::array();
      for (const auto& f : *files) {
        Errc err = Errc::kOk;
        std::string detail;
        const std::string data = read_text_file(f, &err, &detail);
        auto certs =
            err == Errc::kOk
                ? smime::parse_certs(data)
                : policy::Result<std::vector<smime::ossl::Cert>>(policy::Error(err, detail));
        if (!certs) {
          return fail(certs.error(), f);
        }
        for (const auto& c : *certs) {
          auto r = ks.add_anchor(*c, actor_name(*o));
          if (!r) {
            return fail(r.error(), f);
          }
          if (r->changed) {
            if (const int code = trail.record(cert_admin_record("trust-add", *r)); code != 0) {
              return code;
            }
          }
          out.push_back(
              {{"fingerprint", r->fingerprint}, {"subject", r->subject}, {"changed", r->changed}});
          if (!g.json) {
            std::printf("%s %s %s\n", r->changed ? "added" : "unchanged", r->fingerprint.c_str(),
                        r->subject.c_str());
          }
        }
      }
      if (g.json) {
        std::printf("%s\n", out.dump().c_str());
      }
      return kExitOk;
    });
  });
  auto* list = trust->add_subcommand("list", "list trust anchors and known intermediates");
  add_common_options(list, *o, g);
  list->callback([&g, &rc, o] {
    auto ks = open_keystore(g, *o, false);
    auto cas =
        ks ? (*ks)->list_ca_certs() : policy::Result<std::vector<keystore::CaRecord>>(ks.error());
    if (!cas) {
      rc = fail(cas.error());
      return;
    }
    Json out = Json::array();
    for (const auto& c : *cas) {
      out.push_back({{"fingerprint", c.fingerprint},
                     {"subject", c.subject},
                     {"issuer", c.issuer},
                     {"role", c.role},
                     {"not_after", utc_date(c.not_after)}});
      if (!g.json) {
        std::printf("%-12s %s  %s  (until %s)\n", c.role.c_str(),
                    c.fingerprint.substr(0, 16).c_str(), c.subject.c_str(),
                    utc_date(c.not_after).c_str());
      }
    }
    if (g.json) {
      std::printf("%s\n", out.dump(2).c_str());
    }
    rc = kExitOk;
  });
  auto* rm = trust->add_subcommand("remove", "remove a trust anchor by SHA-256 fingerprint");
  auto fp = std::make_shared<std::string>();
  rm->add_option("fingerprint", *fp, "SHA-256 fingerprint (hex)")->required();
  add_common_options(rm, *o, g);
  add_audit_options(rm, *o);
  rm->callback([&g, &rc, o, fp] {
    rc = run_change(g, *o, false, [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
      if (auto s = ks.remove_anchor(*fp, actor_name(*o)); !s) {
        return fail(s.error());
      }
      std::printf("removed %s\n", fp->c_str());
      audit::AdminRecord rec;
      rec.action = "trust-remove";
      rec.fingerprint = *fp;
      return trail.record(std::move(rec));
    });
  });
}

void add_revoke(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand(
      "revoke", "revoke certificates by fingerprint, serial or address (immediately)");
  auto o = std::make_shared<KsOptions>();
  auto query = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  cmd->add_option("certificate", *query, "fingerprint, serial or e-mail address")->required();
  cmd->add_option("--reason", *reason, "RFC 5280 reason, e.g. keyCompromise for a lost key")
      ->required();
  add_common_options(cmd, *o, g);
  add_audit_options(cmd, *o);
  cmd->callback([&g, &rc, o, query, reason] {
    const auto change = [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
      auto r = ks.revoke(*query, *reason, actor_name(*o));
      if (!r) {
        return fail(r.error(), *query);
      }
      if (g.json) {
        std::printf("%s\n", Json{{"revoked", *r}, {"reason", *reason}}.dump().c_str());
      } else {
        for (const auto& fp : *r) {
          std::printf("revoked %s (%s)\n", fp.c_str(), reason->c_str());
        }
      }
      int code = kExitOk;
      for (const auto& fp : *r) {
        audit::AdminRecord rec;
        rec.action = "revoke";
        rec.fingerprint = fp;
        rec.reason = *reason;
        rec.detail = "revoked by " + *query;
        if (const int c = trail.record(std::move(rec)); c != 0) {
          code = c;
        }
      }
      return code;
    };
    rc = run_change(g, *o, false, change, *query);
  });
}

// crl-import, then one revoke record per held certificate the CRL newly revoked.
int record_crl(const AdminAudit& trail, const keystore::CrlOutcome& r) {
  audit::AdminRecord rec;
  rec.action = "crl-import";
  rec.subject = r.issuer;
  rec.detail = "CRL number " + r.crl_number + ", " + std::to_string(r.revoked_entries) +
               " entries, " + std::to_string(r.newly_revoked.size()) +
               " held certificate(s) newly revoked";
  if (const int code = trail.record(std::move(rec)); code != 0) {
    return code;
  }
  for (const auto& n : r.newly_revoked) {
    audit::AdminRecord rv;
    rv.action = "revoke";
    rv.fingerprint = n.fingerprint;
    rv.serial_hex = n.serial;
    rv.reason = n.reason;
    rv.detail = "CRL " + r.crl_number + " from " + r.issuer;
    if (const int code = trail.record(std::move(rv)); code != 0) {
      return code;
    }
  }
  return kExitOk;
}

void add_crl(CLI::App& app, Globals& g, int& rc) {
  auto* crl = app.add_subcommand("crl", "certificate revocation lists");
  crl->require_subcommand(1);
  auto* imp = crl->add_subcommand("import",
                                  "verify a CRL against its issuer in the directory and record it");
  auto o = std::make_shared<KsOptions>();
  auto file = std::make_shared<std::string>();
  imp->add_option("file", *file, "CRL file (PEM or DER)")->required();
  add_common_options(imp, *o, g);
  add_audit_options(imp, *o);
  imp->callback([&g, &rc, o, file] {
    auto trail = AdminAudit::open(g, *o);
    if (!trail) {
      rc = fail(trail.error());
      return;
    }
    Errc err = Errc::kOk;
    std::string detail;
    const std::string data = read_text_file(*file, &err, &detail);
    if (err != Errc::kOk) {
      rc = fail(policy::Error(err, detail), *file);
      return;
    }
    auto crl_obj = smime::parse_crl(data);
    if (!crl_obj) {
      rc = fail(crl_obj.error(), *file);
      return;
    }
    auto ks = open_keystore(g, *o, false);
    auto r = ks ? (*ks)->import_crl(**crl_obj, actor_name(*o))
                : policy::Result<keystore::CrlOutcome>(ks.error());
    if (!r) {
      rc = fail(r.error(), *file);
      return;
    }
    if (g.json) {
      std::printf("%s\n", Json{{"issuer", r->issuer},
                               {"crl_number", r->crl_number},
                               {"entries", r->revoked_entries},
                               {"changed", r->changed}}
                              .dump()
                              .c_str());
    } else if (r->changed) {
      std::printf("CRL %s from %s: %zu revoked entries recorded\n", r->crl_number.c_str(),
                  r->issuer.c_str(), r->revoked_entries);
    } else {
      std::printf("CRL %s from %s already held: unchanged\n", r->crl_number.c_str(),
                  r->issuer.c_str());
    }
    rc = r->changed ? record_crl(*trail, *r) : kExitOk;
  });
}

}  // namespace

void add_admin_commands(CLI::App& app, Globals& g, int& rc) {
  add_init(app, g, rc);
  add_trust(app, g, rc);
  add_revoke(app, g, rc);
  add_crl(app, g, rc);
}

}  // namespace cli::ks

namespace {
const bool kReg = cli::register_group([](CLI::App& app, cli::Globals& g, int& rc) {
  cli::ks::add_admin_commands(app, g, rc);
  cli::ks::add_import_command(app, g, rc);
  cli::ks::add_listing_commands(app, g, rc);
});
}  // namespace
