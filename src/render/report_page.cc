// The report's page: the document around the sections, its styles, and sortable tables.
#include <cmath>

#include "planner/model/text.h"
#include "planner/render/report.h"
#include "planner/render/svg.h"

namespace planner {
namespace {

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;
  margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
td.text,th.text{text-align:left}
th{cursor:pointer;background:#f4f4f4;user-select:none}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{max-width:100%;height:auto;font-size:12px}
svg text{fill:#1a1a1a}.grid{stroke:#e2e2e2}.axis-label{font-weight:600}
.limit{stroke:#c00;stroke-width:2;stroke-dasharray:6 3}.limit-label{fill:#c00}
.pareto-line{fill:none;stroke:#444;stroke-width:1.5;stroke-dasharray:5 3}
.pareto-label{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin-top:4px}
.key{display:inline-flex;align-items:center;gap:4px}
.scroll{overflow-x:auto}
code,pre{background:#f4f4f4;padding:2px 4px;border-radius:3px}
pre{padding:8px;white-space:pre-wrap;word-break:break-all}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{font-weight:600}dd{margin:0}
)";

// Sorts a table by the clicked column: numbers by their data-key, text otherwise. The body
// attribute tells a test the script ran to its end.
constexpr const char* kScript = R"(
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        var kx = x.dataset.key, ky = y.dataset.key;
        var d = (kx !== undefined && ky !== undefined) ? parseFloat(kx) - parseFloat(ky)
                                                       : x.textContent.localeCompare(y.textContent);
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.body.dataset.scripted = 'yes';
)";

}  // namespace

std::string TableHtml(const ReportTable& t) {
  std::string html = "<div class=\"scroll\"><table class=\"sortable\"><thead><tr>";
  // A column is text when any of its cells has no numeric key.
  std::vector<bool> text(t.headers.size(), false);
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size() && i < text.size(); ++i) {
      if (std::isnan(row[i].key)) text[i] = true;
    }
  }
  for (size_t i = 0; i < t.headers.size(); ++i) {
    html += std::string("<th") + (text[i] ? " class=\"text\"" : "") + " title=\"sort\">" +
            EscapeHtml(t.headers[i]) + "</th>";
  }
  html += "</tr></thead><tbody>\n";
  for (const auto& row : t.rows) {
    html += "<tr class=\"" + EscapeHtml(t.row_class) + "\">";
    for (size_t i = 0; i < row.size(); ++i) {
      const ReportCell& c = row[i];
      html += "<td";
      if (i < text.size() && text[i]) html += " class=\"text\"";
      if (!std::isnan(c.key)) html += " data-key=\"" + Printf("%.17g", c.key) + "\"";
      html += ">" + EscapeHtml(c.text) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</tbody></table></div>\n";
}

std::string ReportHtml(const ReportPage& page) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Nothing may be fetched: no network, no CDN (the page is a file that opens offline).
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
      "<title>" +
      EscapeHtml(page.title) + "</title>\n<style>" + kStyle +
      "</style></head>\n"
      "<body>\n<h1>" +
      EscapeHtml(page.title) + "</h1>\n";
  for (const ReportSection& s : page.sections) {
    html += "<section><h2>" + EscapeHtml(s.heading) + "</h2>\n" + s.html + "</section>\n";
  }
  html += "<section><h2>Inputs</h2>\n<dl>";
  for (const auto& [name, value] : page.inputs) {
    html += "<dt>" + EscapeHtml(name) + "</dt><dd>" + EscapeHtml(value) + "</dd>";
  }
  html += "</dl>\n<p>This page was made by:</p>\n<pre class=\"command\">" +
          EscapeHtml(page.command) + "</pre></section>\n";
  return html + "<script>" + kScript + "</script>\n</body></html>\n";
}

}  // namespace planner
