// Ties in step time go to the simpler plan: fewer parallel dimensions, then the lower ZeRO stage.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace planner
