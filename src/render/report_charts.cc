// The report's charts as inline SVG: stacked horizontal bars and a scatter with its Pareto front.
#include <algorithm>
#include <map>

#include "planner/model/text.h"
#include "planner/render/report.h"
#include "planner/render/svg.h"

namespace planner {
namespace {

std::string P(double v) { return Printf("%.1f", v); }

// A bar's total as the tables print it: whole numbers from 1000 on ("14448", not "1.445e+04").
std::string Total(double v) { return Printf(v >= 1000 ? "%.0f" : "%.4g", v); }

std::string Text(double x, double y, const std::string& anchor, const std::string& text,
                 const std::string& cls = "") {
  return "<text x=\"" + P(x) + "\" y=\"" + P(y) + "\" text-anchor=\"" + anchor + "\"" +
         (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + EscapeHtml(text) + "</text>";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& cls) {
  return "<line x1=\"" + P(x1) + "\" y1=\"" + P(y1) + "\" x2=\"" + P(x2) + "\" y2=\"" + P(y2) +
         "\" class=\"" + cls + "\"/>";
}

std::string Swatch(const std::string& marker_svg, const std::string& name) {
  return "<span class=\"key\"><svg width=\"16\" height=\"16\" aria-hidden=\"true\">" + marker_svg +
         "</svg>" + EscapeHtml(name) + "</span>";
}

std::string Figure(const std::string& title, double width, double height, const std::string& svg,
                   const std::string& legend) {
  return "<figure><figcaption>" + EscapeHtml(title) +
         "</figcaption><svg class=\"chart\" viewBox=\"0 0 " + P(width) + " " + P(height) +
         "\" width=\"" + P(width) + "\" role=\"img\" aria-label=\"" + EscapeHtml(title) + "\">" +
         svg + "</svg><div class=\"legend\">" + legend + "</div></figure>\n";
}

// The axis a chart's values share: ticks, domain and whether it is logarithmic.
struct Axis {
  std::vector<double> ticks;
  Scale scale;
};

Axis MakeAxis(double lo, double hi, bool log, double px_lo, double px_hi) {
  Axis a;
  a.ticks = log ? DecadeTicks(lo, hi) : ZeroBasedTicks(hi, 6);
  a.scale = {
      .lo = a.ticks.front(), .hi = a.ticks.back(), .px_lo = px_lo, .px_hi = px_hi, .log = log};
  return a;
}

std::string AxisLabel(const std::string& label, bool log) {
  return log ? label + " (log scale)" : label;
}

// A label's rectangle on the chart, in pixels.
struct Box {
  double x0, y0, x1, y1;
  bool Overlaps(const Box& b) const { return x0 < b.x1 && b.x0 < x1 && y0 < b.y1 && b.y0 < y1; }
};

// The label of a front point at (x, y): beside it, on the first side where it overlaps no label
// placed before (above right, below right, above left, ...), so dense fronts stay readable.
std::string PlaceLabel(double x, double y, const std::string& label, double width,
                       std::vector<Box>& placed) {
  constexpr double kCharPx = 6.2, kLinePx = 12;  // 11 px sans-serif, roughly
  const double w = kCharPx * static_cast<double>(label.size());
  struct Side {
    double dx, dy;
    bool right;
  };
  constexpr Side kSides[] = {{8, -9, true},   {8, 16, true},  {-8, -9, false},
                             {-8, 16, false}, {8, -22, true}, {8, 29, true}};
  Side chosen = kSides[0];
  for (const Side& s : kSides) {
    const double x0 = s.right ? x + s.dx : x + s.dx - w;
    const Box b{x0, y + s.dy - kLinePx + 2, x0 + w, y + s.dy + 2};
    const bool free =
        std::none_of(placed.begin(), placed.end(), [&](const Box& o) { return o.Overlaps(b); });
    if (free && b.x0 >= 0 && b.x1 <= width) {
      chosen = s;
      break;
    }
  }
  const double x0 = chosen.right ? x + chosen.dx : x + chosen.dx - w;
  placed.push_back({x0, y + chosen.dy - kLinePx + 2, x0 + w, y + chosen.dy + 2});
  return Text(x + chosen.dx, y + chosen.dy, chosen.right ? "start" : "end", label, "pareto-label");
}

}  // namespace

std::string BarChartHtml(const BarChart& c) {
  constexpr double kLeft = 230, kWidth = 900, kRight = 40, kBar = 20, kGap = 10, kTop = 26;
  double most = c.limit;
  double least = 1;
  for (const ReportBar& b : c.bars) {
    double total = 0;
    for (const auto& [name, v] : b.parts) total += v;
    most = std::max(most, total);
  }
  const bool log = c.log && most > least;
  const Axis axis =
      MakeAxis(log ? 1 : 0, std::max(most, log ? 10.0 : 0.0), log, kLeft, kWidth - kRight);
  const double plot_bottom = kTop + static_cast<double>(c.bars.size()) * (kBar + kGap);
  std::string svg;
  for (const double t : axis.ticks) {
    const double x = axis.scale.At(t);
    svg += Line(x, kTop - 6, x, plot_bottom, "grid");
    svg += Text(x, plot_bottom + 16, "middle", TickLabel(t));
  }
  svg += Text((kLeft + kWidth - kRight) / 2, plot_bottom + 36, "middle", AxisLabel(c.unit, log),
              "axis-label");
  std::vector<std::string> names;
  for (size_t i = 0; i < c.bars.size(); ++i) {
    const ReportBar& b = c.bars[i];
    const double y = kTop + static_cast<double>(i) * (kBar + kGap);
    svg +=
        "<g class=\"bar " + c.bar_class + "\">" + Text(kLeft - 8, y + kBar * 0.7, "end", b.label);
    double start = log ? 1 : 0, total = 0;
    for (size_t k = 0; k < b.parts.size(); ++k) {
      const auto& [name, v] = b.parts[k];
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      total += v;
      if (v <= 0) continue;
      const double x0 = axis.scale.At(start), x1 = axis.scale.At(log ? v : start + v);
      start += v;
      svg += "<rect class=\"seg\" x=\"" + P(x0) + "\" y=\"" + P(y) + "\" width=\"" +
             P(std::max(x1 - x0, 0.5)) + "\" height=\"" + P(kBar) + "\" fill=\"" +
             PaletteColor(static_cast<int>(k)) + "\"><title>" +
             EscapeHtml(b.label + ": " + name + " " + Printf("%.4g", v) + " " + c.unit) +
             "</title></rect>";
    }
    const double end = axis.scale.At(log ? std::max(total, 1.0) : total);
    svg += Text(end + 4, y + kBar * 0.7, "start", Total(total)) + "</g>";
  }
  if (c.limit > 0) {
    const double x = axis.scale.At(c.limit);
    svg += Line(x, kTop - 10, x, plot_bottom, "limit");
    // Ending at the line, the label stays inside the chart however near its right edge.
    svg += Text(x + 4, kTop - 13, "end", c.limit_label, "limit-label");
  }
  std::string legend;
  if (names.size() > 1) {
    for (size_t k = 0; k < names.size(); ++k) {
      legend += Swatch("<rect x=\"2\" y=\"2\" width=\"12\" height=\"12\" fill=\"" +
                           PaletteColor(static_cast<int>(k)) + "\"/>",
                       names[k]);
    }
  }
  return Figure(c.title, kWidth, plot_bottom + 46, svg, legend);
}

namespace {

// One label per place on the front: clusters with the same figures (two networks that make no
// difference) share it.
std::string FrontLabels(const ScatterChart& c, const std::vector<size_t>& front, const Axis& xa,
                        const Axis& ya, double width) {
  std::string svg;
  std::vector<Box> placed;
  for (size_t k = 0; k < front.size();) {
    const ScatterPoint& p = c.points[front[k]];
    size_t same = 1;
    while (k + same < front.size() && c.points[front[k + same]].x == p.x &&
           c.points[front[k + same]].y == p.y) {
      ++same;
    }
    const std::string label =
        same > 1 ? p.label + " (+" + std::to_string(same - 1) + " alike)" : p.label;
    svg += PlaceLabel(xa.scale.At(p.x), ya.scale.At(p.y), label, width, placed);
    k += same;
  }
  return svg;
}

}  // namespace

std::string ScatterChartHtml(const ScatterChart& c) {
  constexpr double kLeft = 80, kWidth = 900, kRight = 30, kTop = 20, kHeight = 480, kBottom = 56;
  if (c.points.empty()) return "<p>No feasible cluster to draw.</p>\n";
  std::vector<std::string> groups;  // in order of first appearance: colour and shape
  double x_lo = c.points[0].x, x_hi = x_lo, y_lo = c.points[0].y, y_hi = y_lo;
  std::vector<XY> xy;
  for (const ScatterPoint& p : c.points) {
    if (std::find(groups.begin(), groups.end(), p.group) == groups.end()) groups.push_back(p.group);
    x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x);
    y_lo = std::min(y_lo, p.y), y_hi = std::max(y_hi, p.y);
    xy.push_back({p.x, p.y});
  }
  const bool x_log = SpansDecades(x_lo, x_hi), y_log = SpansDecades(y_lo, y_hi);
  const Axis xa = MakeAxis(x_lo, x_hi, x_log, kLeft, kWidth - kRight);
  const Axis ya = MakeAxis(y_lo, y_hi, y_log, kHeight - kBottom, kTop);
  std::string svg;
  for (const double t : xa.ticks) {
    const double x = xa.scale.At(t);
    svg += Line(x, kTop, x, kHeight - kBottom, "grid");
    svg += Text(x, kHeight - kBottom + 16, "middle", TickLabel(t));
  }
  for (const double t : ya.ticks) {
    const double y = ya.scale.At(t);
    svg += Line(kLeft, y, kWidth - kRight, y, "grid");
    svg += Text(kLeft - 6, y + 4, "end", TickLabel(t));
  }
  svg += Text((kLeft + kWidth - kRight) / 2, kHeight - 14, "middle", AxisLabel(c.x_label, x_log),
              "axis-label");
  svg += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(18 " +
         P((kTop + kHeight - kBottom) / 2) + ") rotate(-90)\">" +
         EscapeHtml(AxisLabel(c.y_label, y_log)) + "</text>";
  // The front as a staircase: from each point, right to the next point's x, then down.
  const std::vector<size_t> front = ParetoFront(xy);
  std::string path;
  for (size_t k = 0; k < front.size(); ++k) {
    const ScatterPoint& p = c.points[front[k]];
    path += (k == 0 ? "M" : " H" + P(xa.scale.At(p.x)) + " V") +
            (k == 0 ? P(xa.scale.At(p.x)) + " " : "") + P(ya.scale.At(p.y));
  }
  svg += "<path class=\"pareto-line\" d=\"" + path + "\"/>";
  const auto shape = [&](const std::string& g) {
    return static_cast<int>(std::find(groups.begin(), groups.end(), g) - groups.begin());
  };
  for (const ScatterPoint& p : c.points) {
    const int s = shape(p.group);
    svg += "<g class=\"point\">" +
           Marker(s, xa.scale.At(p.x), ya.scale.At(p.y), 6, PaletteColor(s), "") + "<title>" +
           EscapeHtml(p.detail) + "</title></g>";
  }
  svg += FrontLabels(c, front, xa, ya, kWidth);
  std::string legend;
  for (size_t g = 0; g < groups.size(); ++g) {
    legend += Swatch(Marker(static_cast<int>(g), 8, 8, 5, PaletteColor(static_cast<int>(g)), ""),
                     groups[g]);
  }
  legend += Swatch("<path class=\"pareto-line\" d=\"M1 4 H9 V13 H15\"/>", "Pareto front");
  return Figure(c.title, kWidth, kHeight, svg, legend);
}

}  // namespace planner
