// --cuda-graphs: kernels replayed from CUDA graphs run without launch gaps, so the fitted
// step_overhead share (planner/model/calibration.h) no longer stretches compute; Megatron-LM
// gets --enable-cuda-graph; the published-run converter reads "CUDA graphs" from a row's notes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "emit_fixtures.h"
#include "planner/cost/step_time.h"
#include "planner/input/published_runs.h"

namespace planner {
namespace {

TEST(CudaGraphs, ComputeLosesTheLaunchGapShare) {
  // Hopper's fitted set stretches compute by step_overhead = 0.05 (cost_models/calibration.cc):
  // the same plan's compute with graphs is 1 / 1.05 of it without.
  Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  s.setup.framework = Framework::kNemo;
  const Plan p = Complete(s, {.zero_stage = 1});
  const TimeBreakdown launched = StepTime(s.model, s.cluster, p, s.setup);
  s.setup.cuda_graphs = true;
  const TimeBreakdown graphed = StepTime(s.model, s.cluster, p, s.setup);
  EXPECT_NEAR(launched.compute / graphed.compute, 1.05, 1e-12);
  EXPECT_LT(graphed.step(), launched.step());
}

TEST(CudaGraphs, MegatronLmGetsEnableCudaGraph) {
  Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  s.setup.cuda_graphs = true;
  const std::vector<FlagValue> args = MegatronArgs(s, Complete(s, {.zero_stage = 1}));
  EXPECT_NE(std::find(args.begin(), args.end(), FlagValue{"--enable-cuda-graph", ""}),
            args.end());
  EXPECT_TRUE(LoadNameList("megatron-lm-flags.txt").count("--enable-cuda-graph"));
}

TEST(CudaGraphs, RowsWhoseRecipeStatesGraphsConvertToThem) {
  // Megatron-Bridge 25.11's B200 and GB200 Llama 3 8B rows note "Recipe: CUDA graphs (full
  // iteration)"; no other row of more-runs.jsonl mentions graphs.
  int rows = 0;
  for (const PublishedRun& run :
       LoadPublishedRuns(PLANNER_SOURCE_DIR "/bench/validation/more-runs.jsonl")) {
    const nlohmann::json j = nlohmann::json::parse(run.run_file_json);
    if (!j.value("cuda_graphs", false)) continue;
    ++rows;
    EXPECT_EQ(j.at("model").value("layers", 0), 32) << run.id;
  }
  EXPECT_EQ(rows, 2);
}

}  // namespace
}  // namespace planner
