// smimectl report: the yearly supervision and evaluation report (Perwal 84/2017 Art. 24);
// smimectl incidents: recorded security incidents with what to report and to whom
// (Art. 25). Both read the audit trail only.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>

#include "audit/export.h"
#include "audit/report.h"
#include "audit/trail.h"
#include "cli/exit_codes.h"
#include "cli/registry.h"

namespace cli {
namespace {

int fail(const policy::Error& e) {
  std::fprintf(stderr, "smimectl: %s\n", e.message().c_str());
  return exit_code_for(e.code());
}

int write_out(const std::string& out, const std::string& text) {
  if (out.empty() || out == "-") {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  return f ? kExitOk : fail(policy::unexpected(policy::Errc::kIo, "cannot write " + out));
}

struct ReportArgs {
  std::string db = audit::kDefaultPath;
  int year = 0;
  std::string format = "html", lang = "id", out;
};

int run_report(const ReportArgs& a) {
  auto t = audit::Trail::open_read_only(a.db);
  if (!t) {
    return fail(t.error());
  }
  auto r = audit::build_report(**t, a.year, static_cast<std::int64_t>(::time(nullptr)));
  if (!r) {
    return fail(r.error());
  }
  const auto lang = a.lang == "en" ? audit::Lang::kEn : audit::Lang::kId;
  const std::string text = a.format == "json"  ? audit::render_json(*r)
                           : a.format == "csv" ? audit::render_csv(*r, lang)
                                               : audit::render_html(*r, lang);
  if (!r->integrity.ok()) {
    std::fprintf(stderr, "smimectl: warning: the audit trail failed verification: %s\n",
                 r->integrity.detail.c_str());
  }
  return write_out(a.out, text);
}

struct IncidentArgs {
  std::string db = audit::kDefaultPath;
  std::string since, until, lang = "id";
  bool json = false;
};

int run_incidents(const IncidentArgs& a) {
  audit::Filter f;
  f.incidents_only = true;
  for (const auto& [text, out] : {std::pair{&a.since, &f.since}, std::pair{&a.until, &f.until}}) {
    if (!text->empty()) {
      const auto v = audit::parse_time(*text);
      if (!v) {
        return fail(policy::unexpected(policy::Errc::kInvalidArgument, "bad time '" + *text + "'"));
      }
      *out = *v;
    }
  }
  auto t = audit::Trail::open_read_only(a.db);
  if (!t) {
    return fail(t.error());
  }
  const auto lang = a.lang == "en" ? audit::Lang::kEn : audit::Lang::kId;
  auto s = (*t)->scan(f, [&a, lang](const audit::Entry& e) {
    const std::string who = e.type == audit::RecordType::kAdmin ? e.subject : e.sender;
    if (a.json) {
      auto j = audit::to_json(e);
      j["label"] = audit::incident_label(e.incident, lang);
      j["report"] = audit::incident_guidance(e.incident, lang);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << audit::iso_time(e.time) << "  record " << e.seq << "  "
                << audit::incident_name(e.incident) << "  " << who
                << (e.department.empty() ? "" : "  (" + e.department + ")") << "\n    "
                << audit::incident_label(e.incident, lang)
                << (e.detail.empty() ? "" : ": " + e.detail) << "\n    "
                << audit::incident_guidance(e.incident, lang) << "\n";
    }
    return true;
  });
  return s ? kExitOk : fail(s.error());
}

const bool kReg = register_group([](CLI::App& app, Globals& g, int& rc) {
  auto ra = std::make_shared<ReportArgs>();
  auto* rep = app.add_subcommand(
      "report", "yearly supervision and evaluation report (Perwal 84/2017 Art. 24)");
  rep->add_option("--audit-db", ra->db, "audit trail file")->capture_default_str();
  rep->add_option("--year", ra->year, "calendar year (UTC)")
      ->required()
      ->check(CLI::Range(1970, 9999));
  rep->add_option("--format", ra->format, "html, csv or json")
      ->check(CLI::IsMember({"html", "csv", "json"}))
      ->capture_default_str();
  rep->add_option("--lang", ra->lang, "id (Indonesian) or en")
      ->check(CLI::IsMember({"id", "en"}))
      ->capture_default_str();
  rep->add_option("-o,--output", ra->out, "output file (default stdout)");
  rep->callback([ra, &g, &rc] {
    if (g.json && ra->format == "html") {
      ra->format = "json";
    }
    rc = run_report(*ra);
  });

  auto ia = std::make_shared<IncidentArgs>();
  auto* inc = app.add_subcommand("incidents",
                                 "security incidents with what to report and to whom (Art. 25)");
  inc->add_option("--audit-db", ia->db, "audit trail file")->capture_default_str();
  inc->add_option("--since", ia->since, "from this time on (YYYY-MM-DD, ISO time or unix seconds)");
  inc->add_option("--until", ia->until, "before this time");
  inc->add_option("--lang", ia->lang, "id or en")
      ->check(CLI::IsMember({"id", "en"}))
      ->capture_default_str();
  inc->add_flag("--json", ia->json, "one JSON object per line");
  inc->callback([ia, &g, &rc] {
    ia->json = ia->json || g.json;
    rc = run_incidents(*ia);
  });
});

}  // namespace
}  // namespace cli
