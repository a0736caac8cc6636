// Ties in step time go to the simpler plan: fewer parallel dimensions, then the lower ZeRO stage.
#include <gtest/gtest.h>

#include "planner/input/specs.h"
#include "planner/search/search.h"

namespace planner {
namespace {

Evaluation With(Plan p, double weight_bytes) {
  Evaluation e;
  e.plan = p;
  e.memory.weights = weight_bytes;
  return e;
}

TEST(Ranking, AsFastZeroOneBeatsZeroThreeThoughItNeedsMoreMemory) {
  const Evaluation zero1 = With(Plan{.dp = 8, .zero_stage = 1}, 20e9);
  const Evaluation zero3 = With(Plan{.dp = 8, .zero_stage = 3}, 10e9);
  EXPECT_TRUE(RanksBefore(zero1, zero3));
  EXPECT_FALSE(RanksBefore(zero3, zero1));
}

TEST(Ranking, AsFastFewerParallelDimensionsFirst) {
  const Evaluation dp_only = With(Plan{.dp = 8}, 20e9);
  const Evaluation tp_and_dp = With(Plan{.tp = 2, .dp = 4}, 10e9);
  EXPECT_TRUE(RanksBefore(dp_only, tp_and_dp));
  EXPECT_FALSE(RanksBefore(tp_and_dp, dp_only));
  EXPECT_FALSE(RanksBefore(dp_only, dp_only));  // irreflexive: still a strict order
}

// --explain shows one rejected plan per reason: the same one for any number of threads.
TEST(Ranking, ExamplesOfRejectedPlansAreTheSameForOneAndManyThreads) {
  const Specs s = BuildSpecs(SpecInput{.model = "llama2-70b", .gpu = "4090", .gpus = 64},
                             BuiltinCatalog());
  const SearchResult one = Search(s.model, s.cluster, s.setup, SearchOptions{.threads = 1});
  const SearchResult many = Search(s.model, s.cluster, s.setup, SearchOptions{.threads = 4});
  const int oom = static_cast<int>(Reason::kOutOfMemory);
  ASSERT_TRUE(one.stats.examples[oom].has_value());
  for (size_t i = 0; i < one.stats.examples.size(); ++i) {
    ASSERT_EQ(one.stats.examples[i].has_value(), many.stats.examples[i].has_value()) << i;
    if (one.stats.examples[i]) {
      EXPECT_EQ(one.stats.examples[i]->plan, many.stats.examples[i]->plan) << i;
    }
  }
  // The out-of-memory example is the one closest to fitting: it is short by the least.
  const Evaluation& e = *one.stats.examples[oom];
  EXPECT_DOUBLE_EQ(e.memory.total() - e.capacity_bytes, one.stats.min_shortfall_bytes);
}

}  // namespace
}  // namespace planner
