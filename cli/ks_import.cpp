// smimectl import: one PKCS#12 / PEM file, a directory of them, or a CSV manifest
// (file,owner,department,type,passphrase_file) for a whole department. Bulk imports
// continue past bad files and end with a summary; a progress bar is drawn only when
// stderr is a terminal. Passphrases never come from argv.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "cli/exit_codes.h"
#include "cli/ks_audit.h"
#include "cli/ks_common.h"
#include "smime/x509.h"

namespace cli::ks {
using policy::Errc;
using policy::unexpected;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct ImportArgs {
  std::string path, type = "individual", owner, department, employee_no, key_file;
  PassSource pass;
  bool allow_expired = false;
};

struct Item {
  std::string file, owner, department, type;
  PassSource pass;
};

bool importable_ext(const fs::path& p) {
  static const std::vector<std::string> kExt = {".p12", ".pfx", ".pem", ".crt", ".cer", ".der"};
  return std::find(kExt.begin(), kExt.end(), p.extension().string()) != kExt.end();
}

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (const char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  for (auto& f : out) {
    const auto b = f.find_first_not_of(" \t");
    const auto e = f.find_last_not_of(" \t");
    f = b == std::string::npos ? std::string() : f.substr(b, e - b + 1);
  }
  return out;
}

policy::Result<std::vector<Item>> manifest_items(const ImportArgs& a) {
  Errc err = Errc::kOk;
  std::string detail;
  const std::string text = read_text_file(a.path, &err, &detail);
  if (err != Errc::kOk) {
    return unexpected(err, detail);
  }
  const fs::path base = fs::path(a.path).parent_path();
  std::vector<Item> items;
  std::size_t start = 0;
  int line_no = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    ++line_no;
    auto f = csv_fields(line);
    if (f[0].empty() || f[0][0] == '#' || (line_no == 1 && f[0] == "file")) {
      continue;
    }
    f.resize(5);
    Item it{(base / f[0]).string(), f[1].empty() ? a.owner : f[1],
            f[2].empty() ? a.department : f[2], f[3].empty() ? a.type : f[3], a.pass};
    if (!f[4].empty()) {
      it.pass = PassSource{(base / f[4]).string(), {}};
    }
    items.push_back(std::move(it));
  }
  return items;
}

policy::Result<std::vector<Item>> collect_items(const ImportArgs& a) {
  std::error_code ec;
  if (fs::is_directory(a.path, ec)) {
    std::vector<Item> items;
    for (const auto& e : fs::directory_iterator(a.path, ec)) {
      if (e.is_regular_file() && importable_ext(e.path())) {
        items.push_back(Item{e.path().string(), a.owner, a.department, a.type, a.pass});
      }
    }
    std::sort(items.begin(), items.end(),
              [](const Item& x, const Item& y) { return x.file < y.file; });
    return items;
  }
  if (fs::path(a.path).extension() == ".csv") {
    return manifest_items(a);
  }
  return std::vector<Item>{Item{a.path, a.owner, a.department, a.type, a.pass}};
}

// Passphrases read once per source during one run; cleansed on destruction.
class PassCache {
 public:
  ~PassCache() {
    for (auto& [k, v] : cache_) {
      ::OPENSSL_cleanse(v.data(), v.size());
    }
  }
  policy::Result<std::string> get(const PassSource& s, const std::string& what) {
    const std::string key = s.file + "\n" + s.env;
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      auto p = read_passphrase(s, what);
      if (!p) {
        return p;
      }
      it = cache_.emplace(key, std::move(*p)).first;
    }
    return it->second;
  }

 private:
  std::map<std::string, std::string> cache_;
};

policy::Result<keystore::ImportRequest> load_item(const Item& it, const ImportArgs& a,
                                                  PassCache& pass) {
  Errc err = Errc::kOk;
  std::string detail;
  const std::string data = read_text_file(it.file, &err, &detail);
  if (err != Errc::kOk) {
    return unexpected(err, detail);
  }
  keystore::ImportRequest req;
  const auto type = keystore::parse_cert_type(it.type);
  if (!type) {
    return unexpected(Errc::kInvalidArgument,
                      "type '" + it.type + "' is not individual, role or system");
  }
  req.type = *type;
  req.owner = it.owner;
  req.department = it.department;
  req.employee_no = a.employee_no;
  req.allow_expired = a.allow_expired;
  const bool pem = data.find("-----BEGIN ") != std::string::npos;
  auto single = pem ? policy::Result<smime::ossl::Cert>(policy::Error(Errc::kMalformedInput, ""))
                    : smime::parse_cert(data);
  if (pem || single) {
    auto certs = smime::parse_certs(data);
    if (!certs) {
      return std::move(certs).error();
    }
    req.certs = std::move(*certs);
    std::string key_text =
        a.key_file.empty() ? std::string() : read_text_file(a.key_file, &err, &detail);
    if (err != Errc::kOk) {
      return unexpected(err, "key file: " + detail);
    }
    if (key_text.empty() && data.find("PRIVATE KEY-----") != std::string::npos) {
      key_text = data;
    }
    if (!key_text.empty()) {
      std::string pw;
      if (key_text.find("ENCRYPTED") != std::string::npos) {
        auto p = pass.get(it.pass, it.file);
        if (!p) {
          return std::move(p).error();
        }
        pw = *p;
      }
      auto key = smime::parse_private_key(key_text, pw);
      ::OPENSSL_cleanse(key_text.data(), key_text.size());
      ::OPENSSL_cleanse(pw.data(), pw.size());
      if (!key) {
        return std::move(key).error();
      }
      req.key = std::move(*key);
    }
    return req;
  }
  auto p = pass.get(it.pass, it.file);
  if (!p) {
    return std::move(p).error();
  }
  auto p12 = smime::parse_pkcs12(data, *p);
  if (!p12) {
    return std::move(p12).error();
  }
  if (p12->cert) {
    req.certs.push_back(std::move(p12->cert));
  }
  for (auto& c : p12->extra) {
    req.certs.push_back(std::move(c));
  }
  req.key = std::move(p12->key);
  return req;
}

void progress(std::size_t done, std::size_t total) {
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = total == 0 ? kWidth : done * kWidth / total;
  std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), done, total);
  if (done == total) {
    std::fprintf(stderr, "\n");
  }
}

// cert-import (and key-import when a key was stored) for a change.
int record_import(const AdminAudit& trail, const keystore::ImportRequest& req,
                  const keystore::ImportOutcome& r) {
  if (r.changed) {
    auto rec = cert_admin_record("cert-import", r, req.owner, req.department);
    rec.detail +=
        (rec.detail.empty() ? "type=" : " type=") + std::string(keystore::cert_type_name(req.type));
    if (const int code = trail.record(std::move(rec)); code != kExitOk) {
      return code;
    }
  }
  if (r.key_stored) {
    return trail.record(cert_admin_record("key-import", r, req.owner, req.department));
  }
  return kExitOk;
}

int import_items(const Globals& g, const KsOptions& o, const ImportArgs& a,
                 const std::vector<Item>& items, const AdminAudit& trail, keystore::Keystore& ks) {
  const bool bulk = items.size() != 1 || a.path != items.front().file;
  const bool bar = bulk && !g.json && ::isatty(STDERR_FILENO) == 1;
  PassCache pass;
  Json done = Json::array(), unchanged = Json::array(), failed = Json::array();
  int first_error = kExitOk;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    auto req = load_item(it, a, pass);
    if (req) {
      req->actor = actor_name(o);
    }
    auto r = req ? ks.import(*req) : policy::Result<keystore::ImportOutcome>(req.error());
    if (!r) {
      failed.push_back({{"file", it.file},
                        {"error", policy::errc_name(r.error().code())},
                        {"detail", r.error().detail()}});
      if (first_error == kExitOk) {
        first_error = exit_code_for(r.error().code());
      }
      if (!g.json && !bulk) {
        return fail(r.error(), it.file);
      }
    } else {
      if (const int code = record_import(trail, *req, *r); code != kExitOk) {
        return code;  // fail closed: stop the batch when the trail stops recording
      }
      Json j{{"file", it.file},
             {"fingerprint", r->fingerprint},
             {"subject", r->subject},
             {"emails", r->emails},
             {"key_stored", r->key_stored}};
      (r->changed ? done : unchanged).push_back(j);
      if (!g.json && !bar) {
        std::printf("%s %s %s\n", r->changed ? "imported" : "unchanged", r->fingerprint.c_str(),
                    it.file.c_str());
      }
    }
    if (bar) {
      progress(i + 1, items.size());
    }
  }
  if (g.json) {
    std::printf(
        "%s\n",
        Json{{"imported", done}, {"unchanged", unchanged}, {"failed", failed}}.dump(2).c_str());
  } else if (bulk) {
    std::printf("summary: %zu imported, %zu unchanged, %zu failed\n", done.size(), unchanged.size(),
                failed.size());
    for (const auto& f : failed) {
      std::printf("failed: %s: %s: %s\n", f["file"].get<std::string>().c_str(),
                  f["error"].get<std::string>().c_str(), f["detail"].get<std::string>().c_str());
    }
  }
  if (failed.empty()) {
    return kExitOk;
  }
  return bulk ? static_cast<int>(kExitFailure) : first_error;
}

int run_import(const Globals& g, const KsOptions& o, const ImportArgs& a) {
  auto items = collect_items(a);
  if (!items) {
    return fail(items.error(), a.path);
  }
  return run_change(g, o, true, [&](const AdminAudit& trail, keystore::Keystore& ks) -> int {
    return import_items(g, o, a, *items, trail, ks);
  });
}

}  // namespace

void add_import_command(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand(
      "import",
      "import a PKCS#12 or PEM certificate (with or without key), a directory of them, "
      "or a CSV manifest (file,owner,department,type,passphrase_file)");
  auto o = std::make_shared<KsOptions>();
  auto a = std::make_shared<ImportArgs>();
  cmd->add_option("path", a->path, "file, directory or .csv manifest")->required();
  cmd->add_option("--type", a->type, "individual | role | system")->capture_default_str();
  cmd->add_option("--owner", a->owner, "staff member's name");
  cmd->add_option("--department", a->department, "department (Perangkat Daerah)");
  cmd->add_option("--employee-no", a->employee_no, "staff member's employee number");
  cmd->add_option("--key", a->key_file, "PEM private key file for a PEM certificate");
  cmd->add_option("--passphrase-file", a->pass.file,
                  "file whose first line is the PKCS#12 passphrase");
  cmd->add_option("--passphrase-env", a->pass.env,
                  "environment variable holding the PKCS#12 passphrase");
  cmd->add_flag("--allow-expired", a->allow_expired,
                "accept an expired certificate (it is never used)");
  add_common_options(cmd, *o, g);
  add_audit_options(cmd, *o);
  cmd->callback([&g, &rc, o, a] { rc = run_import(g, *o, *a); });
}

}  // namespace cli::ks
