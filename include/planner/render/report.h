// The HTML report (`--report FILE.html`): one self-contained page of sortable tables and inline
// SVG charts that opens offline. Pages are built from sections, so a new kind of result
// (fine-tuning, serving) adds a page builder that fills ReportPage with its own sections.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "planner/render/output.h"

namespace planner {

/// One cell of a table: its text and, for numbers, the key the table sorts by.
struct ReportCell {
  std::string text{};
  double key = NAN;  ///< NaN: sorted by text
};

/// A table the reader sorts by clicking a column's header; rows carry `row_class`.
struct ReportTable {
  std::vector<std::string> headers{};
  std::vector<std::vector<ReportCell>> rows{};
  std::string row_class = "row";
};
std::string TableHtml(const ReportTable& t);

/// One bar of a chart: stacked parts, the same names in the same order in every bar.
struct ReportBar {
  std::string label{};
  std::vector<std::pair<std::string, double>> parts{};  ///< name, value in the chart's unit
};

/// Horizontal bars on one shared axis that starts at zero (or at 1 on a log axis, which only
/// single-part bars use), with an optional limit line (a GPU's memory capacity).
struct BarChart {
  std::string title{};      ///< what was asked, shown above the chart
  std::string unit{};       ///< of the axis: "GiB", "s", "candidates"
  std::string bar_class{};  ///< class of each bar's group, for tests and styles
  std::vector<ReportBar> bars{};
  double limit = 0;  ///< 0: none
  std::string limit_label{};
  bool log = false;  ///< log axis from 1, marked so; for counts spanning decades
};
std::string BarChartHtml(const BarChart& c);

/// One point of a scatter chart: its group picks colour and marker shape.
struct ScatterPoint {
  std::string group{};   ///< e.g. the GPU type
  std::string label{};   ///< short, written beside the point when it is on the Pareto front
  std::string detail{};  ///< the tooltip
  double x = 0, y = 0;
};

/// Points where smaller is better on both axes, the Pareto front drawn and labelled. Axes that
/// span two decades or more are logarithmic and say so.
struct ScatterChart {
  std::string title{}, x_label{}, y_label{};  ///< labels carry units
  std::vector<ScatterPoint> points{};
};
std::string ScatterChartHtml(const ScatterChart& c);

/// A section of a page: heading and HTML body (built from the pieces above, or escaped text).
struct ReportSection {
  std::string heading{};
  std::string html{};
};

struct ReportPage {
  std::string title{};  ///< what was asked: "Plans for llama2-70b on 2048 x rtx-4090"
  std::vector<std::pair<std::string, std::string>> inputs{};
  std::string command{};  ///< the command line that makes this page again
  std::vector<ReportSection> sections{};
};
/// The whole HTML document: styles and the table-sorting script inline, nothing fetched.
std::string ReportHtml(const ReportPage& page);

/// `--report` of a search: ranked plans, memory and step-time bars per plan, the pruning funnel.
std::string SearchReportHtml(const Specs& specs, const SearchResult& r, const CostInput& cost,
                             const std::string& command);
/// `--report` of evaluate: the one plan's figures and bars.
std::string EvaluationReportHtml(const Specs& specs, const Evaluation& e, const CostInput& cost,
                                 const std::string& command);

}  // namespace planner
