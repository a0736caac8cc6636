// The search engine: invariants of its answers, determinism across thread counts, and the
// step-time model against Korthikanti et al. 2022's measured iteration times.
#include <gtest/gtest.h>

#include <oneapi/tbb/global_control.h>

#include <cmath>

#include "planner/cost/compute_model.h"
#include "planner/cost/memory_model.h"
#include "planner/input/specs.h"
#include "planner/search/search.h"

namespace planner {
namespace {

Specs MakeSpecs(const char* model, int64_t gpus, const char* gpu) {
  return BuildSpecs(SpecInput{.model = model, .gpu = gpu, .gpus = gpus}, BuiltinCatalog());
}

TEST(Search, HeadlineFindsPlansThatFitAndRespectTheTpRatio) {
  const Specs s = MakeSpecs("llama2-70b", 2048, "4090");
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 50});
  ASSERT_FALSE(r.plans.empty());
  // formulas.md section 6 with our RTX 4090 (165.2 TFLOP/s) over PCIe Gen4: t_max = 4.77.
  const double t_max = TpMax(8192, 2, s.cluster.gpu.bf16_flops, s.cluster.intra.one_way_bytes_per_s);
  EXPECT_NEAR(t_max, 4.77, 0.01);
  for (const Evaluation& e : r.plans) {
    EXPECT_LE(e.plan.tp, t_max);
    EXPECT_LE(e.memory.total(), e.capacity_bytes);
    // 24 GB cards: capacity is the card's 24 GiB less the CUDA context.
    EXPECT_LT(e.capacity_bytes, 24.0 * (1 << 30));
  }
  EXPECT_GT(r.stats.pruned[static_cast<int>(Reason::kCommBound)], 0);
  EXPECT_GT(r.stats.pruned[static_cast<int>(Reason::kOutOfMemory)], 0);
}

TEST(Search, EveryPlanUsesEveryGpuAndTheGlobalBatch) {
  for (const auto& [model, gpus, gpu] :
       {std::tuple{"gpt3-175b", 1024, "a100-80gb"}, std::tuple{"llama3-8b", 128, "h100-sxm"},
        std::tuple{"mixtral-8x7b", 64, "h100-sxm"}}) {
    const Specs s = MakeSpecs(model, gpus, gpu);
    const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 200});
    ASSERT_FALSE(r.plans.empty()) << model;
    for (const Evaluation& e : r.plans) {
      const Plan& p = e.plan;
      EXPECT_EQ(static_cast<int64_t>(p.tp) * p.cp * p.pp * p.dp, gpus) << model;
      EXPECT_EQ(static_cast<int64_t>(p.micro_batch) * p.dp * p.grad_accum, s.setup.global_batch);
    }
  }
}

TEST(Search, OneThreadAndManyThreadsGiveTheSameAnswer) {
  // Let TBB run more workers than this machine's cores, so 8 threads really are 8.
  const tbb::global_control allow(tbb::global_control::max_allowed_parallelism, 8);
  const Specs s = MakeSpecs("gpt3-175b", 1024, "a100-80gb");
  const SearchResult one = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 100, .threads = 1});
  ASSERT_FALSE(one.plans.empty());
  for (int threads : {2, 3, 8}) {
    const SearchResult many =
        Search(s.model, s.cluster, s.setup, SearchOptions{.top = 100, .threads = threads});
    ASSERT_EQ(one.plans.size(), many.plans.size());
    for (size_t i = 0; i < one.plans.size(); ++i) {
      EXPECT_EQ(one.plans[i].plan, many.plans[i].plan) << "rank " << i << ", " << threads;
      EXPECT_EQ(one.plans[i].time, many.plans[i].time);
      EXPECT_EQ(one.plans[i].memory, many.plans[i].memory);
    }
    EXPECT_EQ(one.stats.evaluated, many.stats.evaluated);
    EXPECT_EQ(one.stats.feasible, many.stats.feasible);
    EXPECT_EQ(one.stats.pruned, many.stats.pruned);
    EXPECT_EQ(one.stats.min_shortfall_bytes, many.stats.min_shortfall_bytes);
  }
}

TEST(Search, RankingIsAStrictTotalOrder) {
  const Specs s = MakeSpecs("llama2-70b", 2048, "4090");
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 100});
  ASSERT_EQ(r.plans.size(), 100u);  // 135 plans are feasible (README's headline table)
  for (size_t i = 1; i < r.plans.size(); ++i) {
    EXPECT_TRUE(RanksBefore(r.plans[i - 1], r.plans[i]));
    EXPECT_FALSE(RanksBefore(r.plans[i], r.plans[i - 1]));
  }
}

TEST(Search, SearchAndEvaluateScoreAPlanAlike) {
  const Specs s = MakeSpecs("llama3-70b", 256, "h100-sxm");
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 20});
  ASSERT_FALSE(r.plans.empty());
  for (const Evaluation& e : r.plans) {
    const Evaluation again = Evaluate(s.model, s.cluster, e.plan, s.setup, {});
    EXPECT_EQ(again.time, e.time);
    EXPECT_EQ(again.memory, e.memory);
    EXPECT_EQ(again.reason, Reason::kFeasible);
  }
}

TEST(Search, GpuCountThatSplitsNothingSaysSo) {
  // 2039 is prime: only tp = pp = 1, dp = 2039 divides it, and 2039 does not divide the global
  // batch of 512.
  // One GPU a node: 2039 GPUs are not whole nodes of 8, which is refused as bad input.
  const Specs s = BuildSpecs(
      SpecInput{.model = "llama3-8b", .gpu = "h100-sxm", .gpus = 2039, .gpus_per_node = 1},
      BuiltinCatalog());
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{});
  EXPECT_TRUE(r.plans.empty());
  EXPECT_EQ(r.stats.evaluated, 0);
}

TEST(Search, UnevenStagesSplitLayersThatDoNotDivide) {
  // 96 GPUs = 32 x 3: pp 3 cannot split Llama 3 8B's 32 layers evenly, but with the loss (or
  // the embedding) taking one layer's slot (32 + 1 = 3 x 11) one end holds 10 layers, the
  // others 11; or the first stage holds 8 (--decoder-first-pipeline-num-layers) and two hold 12.
  const Specs s = MakeSpecs("llama3-8b", 96, "h100-sxm");
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 1000});
  bool uneven = false;
  for (const Evaluation& e : r.plans) {
    if (e.plan.pp == 3) {
      uneven = true;
      EXPECT_TRUE(e.plan.first_stage_layers > 0 || e.plan.last_stage_layers > 0);
      EXPECT_EQ(StageLayers(s.model, e.plan, 0) + StageLayers(s.model, e.plan, 1) +
                    StageLayers(s.model, e.plan, 2),
                32);
    }
  }
  EXPECT_TRUE(uneven);
}

TEST(Search, LongContextNeedsContextParallelism) {
  // Llama 3.1 405B at 131072 tokens on 16384 H100s (global batch 16M tokens = 128 sequences).
  Specs s = BuildSpecs(SpecInput{.model = "llama3.1-405b", .gpu = "h100-sxm", .gpus = 16384,
                                 .seq_len = 131072},
                       BuiltinCatalog());
  const SearchResult with_cp = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 10});
  ASSERT_FALSE(with_cp.plans.empty());
  for (const Evaluation& e : with_cp.plans) EXPECT_GT(e.plan.cp, 1);
  // Without CP, memory rules out every plan that keeps its pipeline full (at least pp
  // micro-batches): what fits runs one micro-batch through 16+ stages, mostly bubble.
  const SearchResult without =
      Search(s.model, s.cluster, s.setup, SearchOptions{.top = 1000, .max_context_parallel = 1});
  for (const Evaluation& e : without.plans) {
    EXPECT_LT(e.plan.grad_accum, e.plan.pp);
    EXPECT_GT(e.time.bubble, e.time.compute);
  }
  ASSERT_FALSE(without.plans.empty());
  EXPECT_GT(without.plans.front().time.step(), 5 * with_cp.plans.front().time.step());
}

TEST(Search, MixtureOfExpertsPlansUseExpertParallelism) {
  const Specs s = MakeSpecs("mixtral-8x22b", 256, "h100-sxm");
  // Mistral AI: 141B parameters in all, 39B active per token (top-2 of 8 experts).
  EXPECT_NEAR(CountParameters(s.model).total / 1e9, 141, 1.41);
  EXPECT_NEAR(CountParameters(s.model).active / 1e9, 39, 0.39);
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 5});
  ASSERT_FALSE(r.plans.empty());
  for (const Evaluation& e : r.plans) {
    EXPECT_GT(e.plan.ep, 1);
    EXPECT_GT(e.time.ep_comm, 0);
  }
}

TEST(Search, NoFeasiblePlanReportsTheShortfall) {
  // Llama-2 70B cannot train on 8 RTX 4090s: 70e9 x 2 bytes of weights alone exceed 8 x 24 GiB.
  const Specs s = MakeSpecs("llama2-70b", 8, "4090");
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{});
  EXPECT_TRUE(r.plans.empty());
  EXPECT_GT(r.stats.min_shortfall_bytes, 0);
}

// --recompute and --micro-batch fix those choices as --tp fixes TP: every plan kept has them,
// and selective is searched when asked even though flash attention makes it none's twin.
TEST(Search, FixedRecomputeAndMicroBatchAreTheOnlyOnesSearched) {
  const Specs s = MakeSpecs("llama2-70b", 64, "h100-sxm");
  for (const Recompute r : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
    SearchOptions o{.top = 20};
    o.recompute = r;
    o.micro_batch.least = o.micro_batch.most = 2;
    const SearchResult result = Search(s.model, s.cluster, s.setup, o);
    ASSERT_FALSE(result.plans.empty()) << RecomputeName(r);
    for (const Evaluation& e : result.plans) {
      EXPECT_EQ(e.plan.recompute, r);
      EXPECT_EQ(e.plan.micro_batch, 2);
    }
  }
}

}  // namespace
}  // namespace planner
