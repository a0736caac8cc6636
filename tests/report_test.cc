// The HTML report: SVG scales and ticks, the Pareto front, and pages whose element counts match
// the plans they show (tests/report/check_report.sh checks the same in a real browser).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "planner/cli/cli.h"
#include "planner/model/files.h"
#include "planner/render/report.h"
#include "planner/render/svg.h"
#include "planner/sweep/sweep_report.h"

namespace planner {
namespace {

int64_t Count(const std::string& text, const std::string& what) {
  int64_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Svg, EscapeHtmlEscapesMarkupAndQuotes) {
  EXPECT_EQ(EscapeHtml("<a href=\"x\">Tom's & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; co&lt;/a&gt;");
}

TEST(Svg, LinearAndLogScalesMapEndsAndMiddles) {
  const Scale linear{.lo = 0, .hi = 80, .px_lo = 100, .px_hi = 500};
  EXPECT_DOUBLE_EQ(linear.At(0), 100);
  EXPECT_DOUBLE_EQ(linear.At(40), 300);
  EXPECT_DOUBLE_EQ(linear.At(80), 500);
  // On a log axis from 1 to 1000, each decade takes a third of the width; y axes run upwards.
  const Scale log{.lo = 1, .hi = 1000, .px_lo = 400, .px_hi = 100, .log = true};
  EXPECT_DOUBLE_EQ(log.At(1), 400);
  EXPECT_NEAR(log.At(10), 300, 1e-9);
  EXPECT_NEAR(log.At(100), 200, 1e-9);
}

TEST(Svg, ZeroBasedTicksStartAtZeroAndCoverTheMaximum) {
  // 7.3 / 6 = 1.2 per tick, rounded up to 2: 0 2 4 6 8.
  EXPECT_EQ(ZeroBasedTicks(7.3, 6), (std::vector<double>{0, 2, 4, 6, 8}));
  // 80 GiB of capacity / 6 = 13.3, rounded up to 20: the axis ends at the capacity.
  EXPECT_EQ(ZeroBasedTicks(80, 6), (std::vector<double>{0, 20, 40, 60, 80}));
  EXPECT_EQ(ZeroBasedTicks(0.03, 6),
            (std::vector<double>{0, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03}));
}

TEST(Svg, DecadeTicksCoverTheRangeWithPowersOfTen) {
  EXPECT_EQ(DecadeTicks(3, 450), (std::vector<double>{1, 10, 100, 1000}));
  EXPECT_EQ(DecadeTicks(10, 100), (std::vector<double>{10, 100}));
  EXPECT_TRUE(SpansDecades(2, 200));
  EXPECT_FALSE(SpansDecades(2, 199));
  EXPECT_FALSE(SpansDecades(0, 1000));  // a log axis needs a positive range
}

TEST(Svg, TickLabelsUseSiSuffixes) {
  EXPECT_EQ(TickLabel(0), "0");
  EXPECT_EQ(TickLabel(0.5), "0.5");
  EXPECT_EQ(TickLabel(3000), "3k");
  EXPECT_EQ(TickLabel(1.5e6), "1.5M");
}

TEST(Svg, ParetoFrontKeepsOnlyUnbeatenPoints) {
  // By hand: (3, 7) is beaten by (2, 5); (5, 1) by (4, 1), which is as fast and cheaper;
  // (6, 0.5) is the fastest of all, so it stays although it costs most.
  const std::vector<XY> points = {{1, 10}, {3, 7}, {2, 5}, {4, 1}, {5, 1}, {6, 0.5}};
  EXPECT_EQ(ParetoFront(points), (std::vector<size_t>{0, 2, 3, 5}));
  EXPECT_EQ(ParetoFront({}), std::vector<size_t>{});
}

TEST(Svg, MarkersDifferInShape) {
  std::set<std::string> tags;
  for (int s = 0; s < kMarkerShapes; ++s) tags.insert(Marker(s, 10, 10, 5, "#000", ""));
  EXPECT_EQ(tags.size(), static_cast<size_t>(kMarkerShapes));
}

TEST(Report, SearchPageHasOneRowAndTwoBarsPerPlan) {
  const Specs specs =
      BuildSpecs({.model = "llama3-8b", .gpu = "h100-sxm", .gpus = 64}, BuiltinCatalog());
  const SearchResult r = Search(specs.model, specs.cluster, specs.setup, {.top = 4});
  ASSERT_EQ(r.plans.size(), 4u);
  const std::string html = SearchReportHtml(specs, r, {.train_tokens = 1e12}, "planner search");
  EXPECT_EQ(Count(html, "<tr class=\"plan-row\""), 4);
  EXPECT_EQ(Count(html, "<g class=\"bar mem-bar\""), 4);
  EXPECT_EQ(Count(html, "<g class=\"bar time-bar\""), 4);
  // Candidates, one bar per reason, feasible.
  EXPECT_EQ(Count(html, "<g class=\"bar funnel-bar\""), static_cast<int>(Reason::kCount) + 1);
  EXPECT_EQ(Count(html, "class=\"limit\""), 1);            // the GPU's capacity
  EXPECT_NE(html.find("(log scale)"), std::string::npos);  // the funnel's counts span decades
  EXPECT_EQ(Count(html, "://"), 0);                        // nothing fetched: no URL at all
}

TEST(Report, SweepPageDrawsEveryFeasibleClusterAndEscapesNames) {
  const auto row = [](int64_t i, std::string gpu, int64_t gpus, double days, bool fit) {
    return SweepRow{.scenario = i,
                    .model = "m<1>",
                    .gpu = gpu,
                    .inter_link = "ib",
                    .gpus = gpus,
                    .feasible = fit,
                    .plan = fit ? "tp1 pp1" : "",
                    .tokens_per_s = fit ? 1e6 : 0,
                    .train_days = fit ? days : 0,
                    .price_per_gpu_hour = 2};
  };
  // GPU-hours = days x 24 x GPUs: 240, 480, 384; cost x 2. Days 10, 5, 2: all on the front.
  const std::vector<SweepRow> rows = {row(0, "a", 1, 10, true), row(1, "a", 4, 5, true),
                                      row(2, "b", 8, 2, true), row(3, "b", 8, 0, false)};
  const std::string html = SweepReportHtml(rows, "Sweep", "planner sweep s.json");
  EXPECT_EQ(Count(html, "<tr class=\"cluster-row\""), 4);
  EXPECT_EQ(Count(html, "<g class=\"point\""), 3);
  EXPECT_EQ(Count(html, "class=\"pareto-label\""),
            2);  // (960, 5) is dearer and slower than (768, 2)
  EXPECT_EQ(Count(html, "m<1>"), 0);
  EXPECT_GT(Count(html, "m&lt;1&gt;"), 0);
  EXPECT_NE(html.find("1 of 4 clusters have no feasible plan"), std::string::npos);
}

TEST(Report, CommandWritesThePageWithItsCommandLineQuoted) {
  // A path a shell would split, with markup in it: quoted for the shell, then escaped for HTML.
  const std::string dir = testing::TempDir();
  const std::string path = (std::filesystem::path(dir) / "it's <a> report.html").string();
  std::ostringstream out, err;
  const int code = RunCli({"evaluate", "--model", "llama3-8b", "--gpu", "h100-sxm", "--gpus", "64",
                           "--tp", "2", "--report", path},
                          out, err);
  EXPECT_LE(code, 1) << err.str();  // 1: the plan does not fit; it has a page all the same
  const std::string html = ReadTextFile(path, "test");
  EXPECT_EQ(Count(html, "<tr class=\"plan-row\""), 1);
  EXPECT_NE(html.find("planner evaluate --model llama3-8b --gpu h100-sxm --gpus 64 --tp 2 "
                      "--report &#39;" +
                      EscapeHtml(std::filesystem::path(path).parent_path().string()) +
                      "/it&#39;\\&#39;&#39;s &lt;a&gt; report.html&#39;</pre>"),
            std::string::npos)
      << html.substr(html.find("<pre"));
}

TEST(Report, UnwritablePathIsABadInputNamingTheFlag) {
  std::ostringstream out, err;
  const int code = RunCli({"search", "--model", "llama3-8b", "--gpu", "h100-sxm", "--gpus", "64",
                           "--report", "/nonexistent/dir/report.html"},
                          out, err);
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.str().find("planner: --report"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace planner
