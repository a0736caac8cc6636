// Small SVG pieces for the HTML report: escaping, scales, ticks, markers, the Pareto front.
// Inline SVG written here, not a charting library: no build-time npm step, no JS runtime to
// bundle, pages of kilobytes that open offline, and every figure testable from C++.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace planner {

/// `text` safe inside HTML or SVG text and attribute values (& < > " ').
std::string EscapeHtml(std::string_view text);

/// A map from data values to pixels, linear or base-10 logarithmic.
struct Scale {
  double lo = 0, hi = 1;        ///< data domain; lo > 0 when log
  double px_lo = 0, px_hi = 1;  ///< pixels lo and hi map to
  bool log = false;
  /// Pixel of `v`; values outside the domain map outside the pixel range.
  double At(double v) const;
};

/// True when a positive range spans two decades or more, where a log axis reads better.
bool SpansDecades(double lo, double hi);

/// Round ticks (1, 2, 5 x 10^k apart) from 0 through the first tick at or above `hi`, about
/// `target` of them: a bar axis that starts at zero and is never truncated.
std::vector<double> ZeroBasedTicks(double hi, int target);

/// Powers of ten from the one at or below `lo` through the one at or above `hi` (lo > 0).
std::vector<double> DecadeTicks(double lo, double hi);

/// "0", "0.5", "20", "3k", "1.5M", "2G" (SI suffixes): tick labels.
std::string TickLabel(double v);

/// Indices of the points no other point beats on both x and y (smaller is better for both),
/// sorted by x. Ties on both are all kept.
struct XY {
  double x = 0, y = 0;
};
std::vector<size_t> ParetoFront(const std::vector<XY>& points);

/// Marker shapes, told apart in grey as well as in colour.
inline constexpr int kMarkerShapes = 6;
/// One marker (circle, square, triangle, diamond, inverted triangle, cross by `shape` modulo
/// kMarkerShapes) centred at (x, y) of half-size `r` pixels; `extra` goes into its attributes.
std::string Marker(int shape, double x, double y, double r, const std::string& fill,
                   const std::string& extra);
/// A qualitative colour (Okabe-Ito, readable by colour-blind readers), by index modulo 8.
std::string PaletteColor(int i);

}  // namespace planner
