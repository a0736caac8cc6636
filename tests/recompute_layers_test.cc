// Partial full recomputation (Megatron --recompute-granularity full --recompute-method block
// --recompute-num-layers N): the first N layers of each stage (of each model chunk) are
// checkpointed and recomputed, the rest keep their activations. Memory, time, emitted flags,
// the published-run converter.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "emit_fixtures.h"
#include "planner/cost/memory_model.h"
#include "planner/cost/recompute_layers.h"
#include "planner/cost/step_time.h"
#include "planner/input/published_runs.h"
#include "planner/search/search.h"

namespace planner {
namespace {

// A small GPT-shaped model: MHA, GELU MLP with f = 4h, no dropout, 8 layers.
const Model kTiny{.name = "tiny", .layers = 8, .hidden = 1024, .heads = 8, .kv_heads = 8,
                  .ffn_hidden = 4096, .vocab = 32000, .seq_len = 1024};
const TrainingSetup kTinySetup{.global_batch = 1, .seq_len = 1024};

Plan TinyPlan(Recompute r, int recompute_layers) {
  return Plan{.micro_batch = 1, .grad_accum = 1, .recompute = r,
              .recompute_layers = recompute_layers};
}

TEST(RecomputeLayers, BlockCountsPerModelChunk) {
  // Megatron-DeepSpeed megatron/model/transformer.py:1809 divides a stage's layers by the
  // virtual stages and :1955-1960 checkpoints the first N of each chunk's layers.
  const Plan p{.recompute = Recompute::kFull, .virtual_stages = 2, .recompute_layers = 3};
  EXPECT_EQ(RecomputedLayers(p, 8), 6);   // 3 of each 4-layer chunk
  EXPECT_EQ(RecomputedLayers(p, 4), 4);   // more than a chunk has: all of them
  EXPECT_EQ(RecomputedLayers(Plan{.recompute = Recompute::kFull}, 8), 8);  // 0: every layer
  EXPECT_EQ(RecomputedLayers(Plan{.recompute = Recompute::kSelective}, 8), 0);
}

TEST(RecomputeLayers, MemoryIsCheckpointsPlusStoredLayers) {
  // s = 1024, b = 1, h = 1024: sbh = 2^20. Korthikanti et al. 2022 Table 2 with flash attention
  // and no dropout: a stored layer keeps 4sbh (norm inputs) + 2sbh + 2sbh (QKV and fc1 inputs)
  // + 2sbh x 3 (Q, K, V) + 2sbh (attention output) + 4sbf (fc1 and GELU outputs, f = 4h =
  // 16sbh) = 32sbh; a checkpointed layer keeps its 16-bit input, 2sbh.
  // N = 3 of 8: 3 x 2sbh + 5 x 32sbh = 166sbh, plus the layer backward recomputes, less its
  // checkpoint: 32sbh - 2sbh = 30sbh. Total 196sbh; + 8 bytes a token id, + the loss.
  const double sbh = 1024.0 * 1024.0;
  const double loss = LossBytes(kTiny, kTinySetup, 1024.0, 1);
  const MemoryBreakdown partial = StageMemory(kTiny, TinyPlan(Recompute::kFull, 3), kTinySetup, 0);
  EXPECT_DOUBLE_EQ(partial.activations, 196 * sbh + 8 * 1024.0 + loss);
  // Every layer recomputed: 8 x 2sbh + 30sbh = 46sbh; none: 8 x 32sbh = 256sbh.
  const MemoryBreakdown all = StageMemory(kTiny, TinyPlan(Recompute::kFull, 0), kTinySetup, 0);
  EXPECT_DOUBLE_EQ(all.activations, 46 * sbh + 8 * 1024.0 + loss);
  const MemoryBreakdown none = StageMemory(kTiny, TinyPlan(Recompute::kNone, 0), kTinySetup, 0);
  EXPECT_DOUBLE_EQ(none.activations, 256 * sbh + 8 * 1024.0 + loss);
}

TEST(RecomputeLayers, AllLayersIsTodaysFullRecompute) {
  const Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  const Plan all = Complete(s, {.tp = 2, .recompute = Recompute::kFull, .zero_stage = 1});
  Plan every = all;
  every.recompute_layers = 32;  // llama3-8b's 32 layers on its one stage
  EXPECT_EQ(TrainingMemory(s.model, every, s.setup), TrainingMemory(s.model, all, s.setup));
  EXPECT_EQ(StepTime(s.model, s.cluster, every, s.setup).step(),
            StepTime(s.model, s.cluster, all, s.setup).step());
}

TEST(RecomputeLayers, RecomputeTimeIsTheirShareOfFull) {
  // 5 of 32 layers rerun their forward: 5/32 of full recomputation's extra compute and of its
  // repeated tensor-parallel collectives (step_time.cc MicroBatchOf).
  const Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  const Plan none = Complete(s, {.tp = 2, .zero_stage = 1});
  Plan full = none;
  full.recompute = Recompute::kFull;
  Plan partial = full;
  partial.recompute_layers = 5;
  const TimeBreakdown t_none = StepTime(s.model, s.cluster, none, s.setup);
  const TimeBreakdown t_full = StepTime(s.model, s.cluster, full, s.setup);
  const TimeBreakdown t_partial = StepTime(s.model, s.cluster, partial, s.setup);
  ASSERT_GT(t_full.recompute, 0.0);
  EXPECT_DOUBLE_EQ(t_partial.recompute, 5.0 / 32.0 * t_full.recompute);
  EXPECT_DOUBLE_EQ(t_partial.compute, t_full.compute);
  EXPECT_NEAR(t_partial.tp_comm - t_none.tp_comm, 5.0 / 32.0 * (t_full.tp_comm - t_none.tp_comm),
              1e-12 * t_full.tp_comm);
}

TEST(RecomputeLayers, MegatronAndDeepSpeedGetTheBlockMethod) {
  const Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  const Plan p = Complete(s, {.recompute = Recompute::kFull, .zero_stage = 1,
                              .recompute_layers = 5});
  const std::vector<FlagValue> args = MegatronArgs(s, p);
  const auto has = [&](const std::string& flag, const std::string& value) {
    return std::find(args.begin(), args.end(), FlagValue{flag, value}) != args.end();
  };
  EXPECT_TRUE(has("--recompute-granularity", "full"));
  EXPECT_TRUE(has("--recompute-method", "block"));
  EXPECT_TRUE(has("--recompute-num-layers", "5"));
  // Megatron-DeepSpeed has the same flags (megatron/arguments.py:842 and :851).
  const std::string deepspeed = DeepSpeedScript(s, p);
  EXPECT_NE(deepspeed.find("--recompute-method block --recompute-num-layers 5"),
            std::string::npos)
      << deepspeed;
}

TEST(RecomputeLayers, PlanLineSaysHowManyOfTheStagesLayers) {
  const Plan p{.recompute = Recompute::kFull, .recompute_layers = 5};
  EXPECT_EQ(RecomputeLabel(p, 32), "full (5 of 32 layers)");
  EXPECT_EQ(RecomputeCell(p, 32), "full 5/32");
  EXPECT_EQ(RecomputeLabel(Plan{.recompute = Recompute::kFull}, 32), "full");
  EXPECT_EQ(RecomputeCell(Plan{.recompute = Recompute::kSelective}, 32), "selective");
}

TEST(RecomputeLayers, FewestThatFitLeaveTheMargin) {
  // Each of kTiny's layers stored whole instead of checkpointed adds 32sbh - 2sbh = 30sbh, times
  // 1 micro-batch in flight (pp 1), times 1.10 for the allocator (FrameworkFacts::fragmentation):
  // 30 x 2^20 x 1.1 = 34,603,008 bytes. With 95 % of the capacity (kFittedRecomputeMargin)
  // 3.5 layers above what recomputing all 8 needs, 3 can be stored: 5 of 8 recomputed.
  const double layer = 30.0 * 1024 * 1024 * 1.1;
  const Plan full = TinyPlan(Recompute::kFull, 0);
  const double used = 1e9;
  const double capacity = (used + 3.5 * layer) / 0.95;
  EXPECT_EQ(FewestRecomputedLayers(kTiny, full, kTinySetup, used, capacity), 5);
  // Room for under one layer, or for all eight (no recomputation fits): no partial plan.
  EXPECT_EQ(FewestRecomputedLayers(kTiny, full, kTinySetup, used, (used + 0.5 * layer) / 0.95), 0);
  EXPECT_EQ(FewestRecomputedLayers(kTiny, full, kTinySetup, used, (used + 9 * layer) / 0.95), 0);
  // The plan it names fits: its memory grew by at most the 3 layers counted.
  Plan partial = full;
  partial.recompute_layers = 5;
  const double grown = StageMemory(kTiny, partial, kTinySetup, 0).total() -
                       StageMemory(kTiny, full, kTinySetup, 0).total();
  EXPECT_DOUBLE_EQ(grown, 3 * layer);
}

TEST(RecomputeLayers, SearchCanFitTheRecomputedLayersToMemory) {
  const Specs s = MakeSpecs("llama2-70b", "rtx-4090", 2048);
  const SearchResult plain = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 20});
  for (const Evaluation& e : plain.plans) EXPECT_EQ(e.plan.recompute_layers, 0);
  const SearchResult fitted =
      Search(s.model, s.cluster, s.setup, SearchOptions{.top = 20, .fit_recompute_layers = true});
  int partial = 0;
  for (const Evaluation& e : fitted.plans) {
    if (e.plan.recompute_layers == 0) continue;
    ++partial;
    EXPECT_LE(e.memory.total(), 0.95 * e.capacity_bytes);
  }
  EXPECT_GT(partial, 0);
  // Fewer layers recomputed than all, and never a slower best plan.
  EXPECT_LE(fitted.plans.front().time.step(), plain.plans.front().time.step());
}

TEST(RecomputeLayers, PublishedRunStatingBlockFiveBecomesFiveLayers) {
  // Only the one row whose recompute text states "full/block/5 layers" (Megatron-Bridge v0.2.0,
  // scripts/performance/configs/llama3/workload_base_configs.py) converts to partial layers.
  int partial_rows = 0;
  for (const PublishedRun& run :
       LoadPublishedRuns(PLANNER_SHARED_DIR "/validation/published-runs.jsonl")) {
    const nlohmann::json plan = nlohmann::json::parse(run.run_file_json).at("plan");
    if (!plan.contains("recompute_layers")) continue;
    ++partial_rows;
    EXPECT_EQ(plan.at("recompute"), "full");
    EXPECT_EQ(plan.at("recompute_layers"), 5);
  }
  EXPECT_EQ(partial_rows, 1);
}

}  // namespace
}  // namespace planner
