// The scale-up domain: how many GPUs the intra link joins (GB200 NVL72: 72), apart from the
// GPUs of one node, and where the search and the collectives put TP and EP because of it.
#include <gtest/gtest.h>

#include "planner/cost/step_time.h"
#include "planner/input/catalog.h"
#include "planner/input/specs.h"
#include "planner/model/error.h"
#include "planner/search/search.h"

namespace planner {
namespace {

Specs MakeSpecs(const char* model, int64_t gpus, const char* gpu, int64_t domain = 0) {
  return BuildSpecs(SpecInput{.model = model, .gpu = gpu, .gpus = gpus, .scale_up_domain = domain},
                    BuiltinCatalog());
}

TEST(ScaleUp, Gb200DefaultsToItsNvl72DomainAndTheFlagOverridesIt) {
  EXPECT_EQ(MakeSpecs("llama3-8b", 144, "gb200").cluster.ScaleUpDomain(), 72);
  EXPECT_EQ(MakeSpecs("llama3-8b", 144, "gb200", 8).cluster.ScaleUpDomain(), 8);
  EXPECT_EQ(MakeSpecs("llama3-8b", 64, "h100-sxm").cluster.ScaleUpDomain(), 8);
  EXPECT_THROW(MakeSpecs("llama3-8b", 144, "gb200", 12), InputError);  // not a multiple of 8
}

TEST(ScaleUp, ExpertAllToAllInsideNvl72RunsOnNvlinkNotTheNics) {
  // DeepSeek-V3 with EP 64 and no TP: inside one NVL72 the dispatch runs on NVLink 5 (900 GB/s
  // one way per GPU); with 8-GPU domains it leaves the node over 400 Gb/s NICs.
  const Plan p{.tp = 1, .pp = 16, .dp = 128, .ep = 64, .micro_batch = 1, .grad_accum = 8};
  const Specs rack = MakeSpecs("deepseek-v3", 2048, "gb200");
  const Specs nodes = MakeSpecs("deepseek-v3", 2048, "gb200", 8);
  const double in_rack = ForwardPass(rack.model, rack.cluster, p, rack.setup).moe.ep_comm;
  const double across = ForwardPass(nodes.model, nodes.cluster, p, nodes.setup).moe.ep_comm;
  EXPECT_GT(in_rack, 0.0);
  EXPECT_LT(in_rack, across);
}

TEST(ScaleUp, EightGpuNodesNeverGetTpBeyondEight) {
  const Specs s = MakeSpecs("llama3.1-405b", 1024, "h100-sxm");
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 200});
  ASSERT_FALSE(r.plans.empty());
  for (const Evaluation& e : r.plans) EXPECT_LE(e.plan.tp, 8);
}

}  // namespace
}  // namespace planner
