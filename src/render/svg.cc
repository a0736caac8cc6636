#include "planner/render/svg.h"

#include <algorithm>
#include <cmath>

#include "planner/model/text.h"

namespace planner {

std::string EscapeHtml(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&':
        s += "&amp;";
        break;
      case '<':
        s += "&lt;";
        break;
      case '>':
        s += "&gt;";
        break;
      case '"':
        s += "&quot;";
        break;
      case '\'':
        s += "&#39;";
        break;
      default:
        s += ch;
    }
  }
  return s;
}

double Scale::At(double v) const {
  double f = 0;
  if (log) {
    f = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  } else {
    f = (v - lo) / (hi - lo);
  }
  return px_lo + f * (px_hi - px_lo);
}

bool SpansDecades(double lo, double hi) { return lo > 0 && hi / lo >= 100; }

std::vector<double> ZeroBasedTicks(double hi, int target) {
  if (!(hi > 0)) return {0, 1};
  const double raw = hi / std::max(target, 1);
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double step = decade * 10;
  for (const double m : {1.0, 2.0, 5.0}) {
    if (decade * m >= raw) {
      step = decade * m;
      break;
    }
  }
  std::vector<double> ticks;
  // Ticks are multiples of `step` computed by multiplication, so no error accumulates.
  for (int i = 0;; ++i) {
    ticks.push_back(step * i);
    if (step * i >= hi * (1 - 1e-12)) break;
  }
  return ticks;
}

std::vector<double> DecadeTicks(double lo, double hi) {
  const int first = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int last = std::max(first + 1, static_cast<int>(std::ceil(std::log10(hi) - 1e-9)));
  std::vector<double> ticks;
  for (int k = first; k <= last; ++k) ticks.push_back(std::pow(10.0, k));
  return ticks;
}

std::string TickLabel(double v) {
  const double a = std::fabs(v);
  const char* suffix = "";
  double scaled = v;
  if (a >= 1e9) {
    scaled = v / 1e9, suffix = "G";
  } else if (a >= 1e6) {
    scaled = v / 1e6, suffix = "M";
  } else if (a >= 1e3) {
    scaled = v / 1e3, suffix = "k";
  }
  return Printf("%.3g", scaled) + suffix;
}

std::vector<size_t> ParetoFront(const std::vector<XY>& points) {
  std::vector<size_t> order(points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (points[a].x != points[b].x) return points[a].x < points[b].x;
    if (points[a].y != points[b].y) return points[a].y < points[b].y;
    return a < b;
  });
  // Sweeping by x, a point is on the front when its y is below every y seen before it (or
  // equals the last front point's x and y exactly).
  std::vector<size_t> front;
  for (const size_t i : order) {
    if (front.empty() || points[i].y < points[front.back()].y) {
      front.push_back(i);
    } else if (points[i].x == points[front.back()].x && points[i].y == points[front.back()].y) {
      front.push_back(i);
    }
  }
  return front;
}

std::string Marker(int shape, double x, double y, double r, const std::string& fill,
                   const std::string& extra) {
  const auto p = [](double v) { return Printf("%.1f", v); };
  const std::string style = " fill=\"" + fill + "\" stroke=\"#222\" stroke-width=\"1\" " + extra;
  const auto polygon = [&](const std::vector<XY>& pts) {
    std::string s = "<polygon points=\"";
    for (const XY& q : pts) s += p(x + q.x * r) + "," + p(y + q.y * r) + " ";
    s.pop_back();
    return s + "\"" + style + "/>";
  };
  switch (((shape % kMarkerShapes) + kMarkerShapes) % kMarkerShapes) {
    case 0:
      return "<circle cx=\"" + p(x) + "\" cy=\"" + p(y) + "\" r=\"" + p(r) + "\"" + style + "/>";
    case 1:
      return polygon({{-0.9, -0.9}, {0.9, -0.9}, {0.9, 0.9}, {-0.9, 0.9}});
    case 2:
      return polygon({{0, -1.15}, {1.1, 0.85}, {-1.1, 0.85}});
    case 3:
      return polygon({{0, -1.25}, {1.25, 0}, {0, 1.25}, {-1.25, 0}});
    case 4:
      return polygon({{0, 1.15}, {1.1, -0.85}, {-1.1, -0.85}});
    default:
      return polygon({{-0.35, -1.1},
                      {0.35, -1.1},
                      {0.35, -0.35},
                      {1.1, -0.35},
                      {1.1, 0.35},
                      {0.35, 0.35},
                      {0.35, 1.1},
                      {-0.35, 1.1},
                      {-0.35, 0.35},
                      {-1.1, 0.35},
                      {-1.1, -0.35},
                      {-0.35, -0.35}});
  }
}

std::string PaletteColor(int i) {
  // Okabe and Ito, "Color Universal Design" (2008); yellow last, as it is faint on white.
  static const char* const kColors[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                        "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
  return kColors[((i % 8) + 8) % 8];
}

}  // namespace planner
