// The yearly report as one self-contained HTML file: no scripts, no external resources,
// inline SVG bar charts, print CSS for A4 portrait.
#include <algorithm>
#include <array>

#include "audit/export.h"
#include "audit/report.h"
#include "audit/report_text.h"

namespace audit {
namespace {

std::string esc(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(std::int64_t n) {
  return std::to_string(n);
}

std::string dept_name(const DepartmentStats& d, Lang lang) {
  return d.name.empty() ? std::string(term("no_department", lang)) : d.name;
}

constexpr const char* kStyle = R"css(
@page { size: A4 portrait; margin: 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 16pt; margin-bottom: 2mm; } h2 { font-size: 12.5pt; border-bottom: 1px solid #888; margin-top: 7mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; page-break-inside: auto; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; text-align: right; }
th { font-size: 8pt; padding: 1mm; overflow-wrap: break-word; }
th:first-child, td:first-child { text-align: left; } tr.total td { font-weight: bold; background: #eee; }
td.text { text-align: left; } .bad { color: #a00; font-weight: bold; } .ok { color: #060; font-weight: bold; }
.meta { color: #333; } svg { display: block; margin: 2mm 0; } .legend span { margin-right: 4mm; }
h2, .chart { page-break-after: avoid; } tr { page-break-inside: avoid; }
)css";

struct Series {
  std::string_view key;
  const char* color;
  std::int64_t DepartmentStats::*field;
};

// Horizontal grouped bars: one group per department, one bar per series.
std::string bar_chart(const std::vector<DepartmentStats>& depts, const std::vector<Series>& series,
                      Lang lang) {
  std::int64_t max = 1;
  for (const auto& d : depts) {
    for (const auto& s : series) {
      max = std::max(max, d.*(s.field));
    }
  }
  const int label_w = 200;
  const int bar_w = 430;
  const int bar_h = 11;
  const int group_h = static_cast<int>(series.size()) * bar_h + 8;
  const int height = static_cast<int>(depts.size()) * group_h + 6;
  std::string svg =
      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"680\" height=\"" +
      std::to_string(height) + "\" role=\"img\">";
  int y = 2;
  for (const auto& d : depts) {
    svg += "<text x=\"0\" y=\"" + std::to_string(y + group_h / 2) + "\" font-size=\"10\">" +
           esc(dept_name(d, lang)) + "</text>";
    int by = y;
    for (const auto& s : series) {
      const std::int64_t v = d.*(s.field);
      const auto w = static_cast<int>(v * bar_w / max);
      svg += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(by) +
             "\" width=\"" + std::to_string(std::max(w, 1)) + "\" height=\"" +
             std::to_string(bar_h - 2) + "\" fill=\"" + s.color + "\"/><text x=\"" +
             std::to_string(label_w + w + 3) + "\" y=\"" + std::to_string(by + bar_h - 3) +
             "\" font-size=\"8\">" + num(v) + "</text>";
      by += bar_h;
    }
    y += group_h;
  }
  svg += "</svg><div class=\"legend\">";
  for (const auto& s : series) {
    svg +=
        "<span><svg width=\"10\" height=\"10\" style=\"display:inline\"><rect width=\"10\" "
        "height=\"10\" fill=\"" +
        std::string(s.color) + "\"/></svg> " + esc(term(s.key, lang)) + "</span>";
  }
  return svg + "</div>";
}

std::string table(
    const YearReport& r,
    const std::vector<std::pair<std::string_view, std::int64_t DepartmentStats::*>>& cols,
    Lang lang) {
  std::string t = "<table><tr><th>" + esc(term("department", lang)) + "</th>";
  for (const auto& c : cols) {
    t += "<th>" + esc(term(c.first, lang)) + "</th>";
  }
  t += "</tr>";
  const auto row = [&](const DepartmentStats& d, std::string_view name, bool total) {
    t += total ? "<tr class=\"total\">" : "<tr>";
    t += "<td>" + esc(name) + "</td>";
    for (const auto& c : cols) {
      t += "<td>" + num(d.*(c.second)) + "</td>";
    }
    t += "</tr>";
  };
  for (const auto& d : r.departments) {
    row(d, dept_name(d, lang), false);
  }
  row(r.total, term("total", lang), true);
  return t + "</table>";
}

std::string staff_section(const YearReport& r, Lang lang) {
  std::string h = "<h2>" + esc(term("staff_section", lang)) + "</h2>";
  h += table(r,
             {{"staff", &DepartmentStats::staff},
              {"with_cert", &DepartmentStats::staff_with_valid_cert},
              {"without_cert", &DepartmentStats::staff_without_valid_cert},
              {"expiring", &DepartmentStats::expiring_90d}},
             lang);
  h += bar_chart(r.departments,
                 {{"with_cert", "#2e7d32", &DepartmentStats::staff_with_valid_cert},
                  {"without_cert", "#c62828", &DepartmentStats::staff_without_valid_cert}},
                 lang);
  if (r.total.staff_without_valid_cert > 0) {
    h += "<p><b>" + esc(term("missing_list", lang)) + ":</b> ";
    std::string list;
    for (const auto& d : r.departments) {
      for (const auto& a : d.staff_missing) {
        list += (list.empty() ? "" : ", ") + esc(a) + " (" + esc(dept_name(d, lang)) + ")";
      }
    }
    h += list + "</p>";
  }
  return h;
}

std::string lifecycle_section(const YearReport& r, Lang lang) {
  std::string h = "<h2>" + esc(term("lifecycle_section", lang)) + "</h2>";
  h += table(r,
             {{"imported", &DepartmentStats::certs_imported},
              {"renewed", &DepartmentStats::certs_renewed},
              {"revoked", &DepartmentStats::certs_revoked},
              {"expiring", &DepartmentStats::expiring_90d}},
             lang);
  if (!r.total.revoked_by_reason.empty()) {
    h += "<p><b>" + esc(term("reasons", lang)) + ":</b> ";
    std::string list;
    for (const auto& [reason, n] : r.total.revoked_by_reason) {
      list += (list.empty() ? "" : ", ") + esc(reason) + " " + num(n);
    }
    h += list + "</p>";
  }
  return h;
}

std::string incident_section(const YearReport& r, Lang lang) {
  std::string h = "<h2>" + esc(term("incident_section", lang)) + "</h2>";
  if (r.incidents.empty()) {
    return h + "<p>" + esc(term("no_incidents", lang)) + "</p>";
  }
  h += "<table><tr><th>" + esc(term("date", lang)) + "</th><th>" + esc(term("kind", lang)) +
       "</th><th>" + esc(term("department", lang)) + "</th><th>" + esc(term("party", lang)) +
       "</th><th>" + esc(term("detail", lang)) + "</th><th>" + esc(term("record", lang)) +
       "</th></tr>";
  for (const auto& i : r.incidents) {
    h += "<tr><td>" + esc(iso_time(i.time).substr(0, 10)) + "</td><td class=\"text\">" +
         esc(incident_label(i.kind, lang)) + "</td><td class=\"text\">" + esc(i.department) +
         "</td><td class=\"text\">" + esc(i.who) + "</td><td class=\"text\">" + esc(i.detail) +
         "</td><td>" + std::to_string(i.seq) + "</td></tr>";
  }
  return h + "</table>";
}

std::string integrity_section(const YearReport& r, Lang lang) {
  const auto& v = r.integrity;
  std::string h = "<h2>" + esc(term("integrity_section", lang)) + "</h2><p>";
  if (v.ok()) {
    h += "<span class=\"ok\">" + esc(term("chain_ok", lang)) +
         "</span>: " + std::to_string(v.records) + " " + esc(term("records", lang)) + ", " +
         esc(term("last_hash", lang)) + " <code>" + esc(v.head_hash) + "</code>; " +
         std::to_string(v.heads_signed) + " " + esc(term("heads", lang)) + ".";
  } else {
    h += "<span class=\"bad\">" + esc(term("chain_bad", lang)) + "</span>: " + esc(v.detail);
  }
  return h + "</p>";
}

}  // namespace

std::string render_html(const YearReport& r, Lang lang) {
  const std::string title = std::string(term("title", lang)) + " " + std::to_string(r.year);
  std::string h = "<!DOCTYPE html>\n<html lang=\"" + std::string(lang == Lang::kEn ? "en" : "id") +
                  "\"><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title><style>" +
                  kStyle + "</style></head><body>";
  h += "<h1>" + esc(term("title", lang)) + "</h1><p class=\"meta\"><b>" + esc(term("year", lang)) +
       " " + std::to_string(r.year) + "</b><br>" + esc(term("basis", lang)) + "<br>" +
       esc(term("to", lang)) + "<br>" + esc(term("period", lang)) + ": " +
       iso_time(r.period_start).substr(0, 10) + " – " + iso_time(r.period_end - 1).substr(0, 10) +
       "; " + esc(term("as_of", lang)) + " " + iso_time(r.as_of) + "; " +
       esc(term("generated", lang)) + " " + iso_time(r.generated_at) + "</p>";
  h += integrity_section(r, lang);
  h += staff_section(r, lang);
  h += "<h2>" + esc(term("usage_section", lang)) + "</h2>";
  h += table(r,
             {{"messages", &DepartmentStats::messages},
              {"signed", &DepartmentStats::signed_},
              {"encrypted", &DepartmentStats::encrypted},
              {"verified", &DepartmentStats::verified},
              {"verify_failed", &DepartmentStats::verify_failed},
              {"decrypted", &DepartmentStats::decrypted},
              {"refused", &DepartmentStats::refused}},
             lang);
  h += bar_chart(r.departments,
                 {{"signed", "#1565c0", &DepartmentStats::signed_},
                  {"encrypted", "#6a1b9a", &DepartmentStats::encrypted},
                  {"verified", "#2e7d32", &DepartmentStats::verified},
                  {"verify_failed", "#c62828", &DepartmentStats::verify_failed}},
                 lang);
  h += lifecycle_section(r, lang);
  h += incident_section(r, lang);
  return h + "</body></html>\n";
}

}  // namespace audit
