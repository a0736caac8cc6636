// The step-time and memory models against ../shared/validation/published-runs.jsonl, each run
// predicted through `planner evaluate --run FILE` (the file made from the run's JSONL fields).
// Fails when accuracy regresses past its targets.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <map>

#include "accuracy_report.h"

namespace planner {
namespace {

const AccuracyReport& Report() {
  static const AccuracyReport report =
      ComputeAccuracy(LoadPublishedRuns(PLANNER_SHARED_DIR "/validation/published-runs.jsonl"),
                      // ctest runs each test in its own process: one directory each.
                      testing::TempDir() + "/accuracy-runs-" + std::to_string(::getpid()));
  return report;
}

TEST(Accuracy, IterationTimeMeetsItsTargets) {
  const AccuracyReport& r = Report();
  // Issue #12's targets: trust A at most 3 %, all runs at most 6 % mean and 15 % each. Today's
  // command-line figures are 2.9 %, 4.2 % and 12.5 % (bench/accuracy).
  EXPECT_EQ(r.trust_a.runs, 19);
  EXPECT_LE(r.trust_a.mean_abs, 0.03);
  EXPECT_LE(r.all.mean_abs, 0.06);
  EXPECT_LE(r.all.max_abs, 0.15);
  // Only runs whose shape is not published are skipped: 2 Nemotron rows and DeepSeek-V3's MoE
  // shape given as text.
  int skipped = 0;
  for (const RunAccuracy& a : r.rows) skipped += a.run.skip_reason.empty() ? 0 : 1;
  EXPECT_EQ(skipped, 3);
  EXPECT_EQ(r.all.runs + skipped, static_cast<int>(r.rows.size()));
}

// The run file is all the accuracy path knows of a run: the file's text never names the run.
TEST(Accuracy, RunFilesDoNotNameTheirRun) {
  for (const RunAccuracy& a : Report().rows) {
    EXPECT_EQ(a.run.run_file_json.find(a.run.id), std::string::npos) << a.run.id;
    EXPECT_EQ(a.command, "planner evaluate --run " + a.run_file);
  }
}

TEST(Accuracy, EachTorchtitanRunWithinTenPercent) {
  int seen = 0;
  for (const RunAccuracy& a : Report().rows) {
    if (a.framework != "torchtitan") continue;
    ++seen;
    EXPECT_LE(std::fabs(a.error), 0.10) << a.run.id;
  }
  EXPECT_EQ(seen, 3);
}

TEST(Accuracy, EveryPublishedRunFitsInItsGpus) {
  for (const RunAccuracy& a : Report().rows) {
    if (!a.run.skip_reason.empty()) continue;
    EXPECT_LE(a.predicted_memory_bytes, a.capacity_bytes) << a.run.id;
  }
}

TEST(Accuracy, TorchtitanPeakMemoryWithinTenPercent) {
  int seen = 0;
  for (const RunAccuracy& a : Report().rows) {
    if (a.measured.peak_memory_bytes <= 0) continue;
    ++seen;
    EXPECT_EQ(a.framework, "torchtitan");
    EXPECT_LE(std::fabs(a.memory_error), 0.10) << a.run.id;
  }
  EXPECT_EQ(seen, 3);  // the three torchtitan runs publish their peak
}

TEST(Accuracy, SearchFindsThePublishedPlanOrAFasterOne) {
  for (const RunAccuracy& a : Report().rows) {
    if (!a.run.skip_reason.empty()) continue;
    const bool ranked = a.search_rank >= 1 && a.search_rank <= 10;
    const bool faster = a.search_best_s > 0 && a.search_best_s <= a.predicted_step_s;
    EXPECT_TRUE(ranked || faster) << a.run.id;
  }
}

// Korthikanti et al. 2022, Table 5 ("Present work"), measured seconds per iteration on A100s;
// the issue asks each to be predicted within 15 %.
TEST(Accuracy, KorthikantiRunsWithin15Percent) {
  const std::map<std::string, double> measured = {
      {"korthikanti22-22B-selective-sp", 1.10},   {"korthikanti22-22B-full-recompute", 1.42},
      {"korthikanti22-175B-selective-sp", 13.75}, {"korthikanti22-175B-full-recompute", 18.13},
      {"korthikanti22-530B-selective-sp", 37.83}, {"korthikanti22-530B-full-recompute", 49.05},
      {"korthikanti22-1T-selective-sp", 71.49},   {"korthikanti22-1T-full-recompute", 94.42}};
  int seen = 0;
  for (const RunAccuracy& a : Report().rows) {
    const auto it = measured.find(a.run.id);
    if (it == measured.end()) continue;
    ++seen;
    EXPECT_DOUBLE_EQ(a.measured.iter_time_s, it->second) << a.run.id;
    EXPECT_TRUE(a.fits()) << a.run.id;
    EXPECT_NEAR(a.predicted_step_s / it->second, 1.0, 0.15) << a.run.id;
  }
  EXPECT_EQ(seen, 8);
}

// The Llama 3.1 405B runs of Megatron-Bridge (TP 8, PP 8, VP 8, CP 2, fp8, 1024 H100s, uneven
// first/last stages): tokens/s per GPU within 10 % of the measured 292 and 328.
TEST(Accuracy, Llama31_405bTokensPerGpuWithinTenPercent) {
  int seen = 0;
  for (const RunAccuracy& a : Report().rows) {
    if (a.run.id.find("llama31-405b") == std::string::npos) continue;
    ++seen;
    EXPECT_EQ(a.plan.cp, 2);
    EXPECT_EQ(a.plan.first_stage_layers, 15);
    const double per_gpu = a.tokens_per_s / static_cast<double>(a.specs.cluster.gpus);
    const double measured = a.run.id.find("gbs512") != std::string::npos ? 292 : 328;
    EXPECT_NEAR(per_gpu / measured, 1.0, 0.10) << a.run.id << " predicted " << per_gpu;
  }
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace planner
