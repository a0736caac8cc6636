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

// Megatron-1T (h = 25600, 160 heads, 128 layers) at 32k tokens with a global batch of 18 on 8
// NVL72 racks: 1T parameters need the model spread over many GPUs, and with 18 sequences
// pipeline depth costs bubble while TP 16 costs little. TP 16 moves 6h/t/bytes = 6*25600/16/2 =
// 4800 FLOP per byte, above GB200's peak over NVLink 5, 2500e12 / 900e9 = 2778: compute-bound
// inside the rack. With Megatron's distributed optimizer (ZeRO-1) the search's best is TP 16,
// faster than every plan with TP of 8 or less. (With ZeRO-3 the weights can instead be sharded
// over the racks, whose pooled NICs carry the gathers: see the last test.)
Specs At32k(const char* model, const char* gpu, int64_t gpus, int64_t domain = 0) {
  return BuildSpecs(SpecInput{.model = model, .gpu = gpu, .gpus = gpus,
                              .scale_up_domain = domain, .seq_len = 32768, .global_batch = 18},
                    BuiltinCatalog());
}

TEST(ScaleUp, Nvl72PlacesTpBeyondEightWhenThatIsFaster) {
  const Specs s = At32k("megatron-1t", "gb200", 576);
  SearchOptions zero1{.top = 1};
  zero1.zero.least = zero1.zero.most = 1;
  const SearchResult best = Search(s.model, s.cluster, s.setup, zero1);
  ASSERT_FALSE(best.plans.empty());
  EXPECT_EQ(best.plans[0].plan.tp, 16);
  SearchOptions at_most_8 = zero1;
  at_most_8.tp.most = 8;
  const SearchResult capped = Search(s.model, s.cluster, s.setup, at_most_8);
  ASSERT_FALSE(capped.plans.empty());
  EXPECT_LT(best.plans[0].time.step(), capped.plans[0].time.step());
}

TEST(ScaleUp, TheSameRackCutIntoEightGpuDomainsNeverGetsTpBeyondEight) {
  const Specs s = At32k("megatron-1t", "gb200", 576, 8);
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 50});
  ASSERT_FALSE(r.plans.empty());
  for (const Evaluation& e : r.plans) EXPECT_LE(e.plan.tp, 8);
}

// The comm-bound rule judges TP against the link it crosses. GPT-3 175B (h = 12288) at TP 16
// moves 6*12288/16/2 = 2304 FLOP per byte. On 8-GPU H100 nodes (TP allowed across nodes) the
// group leaves the node, whose 8 NDR NICs give its ring 8 * 50 GB/s = 400 GB/s: 989.4e12 / 400e9
// = 2473 > 2304, communication-bound. Judged against NVLink 4 (450 GB/s: 2199) it passed.
// Megatron-1T's TP 16 (4800 per byte) inside a GB200 rack stays on NVLink 5 (2778) and passes.
TEST(ScaleUp, CommBoundRuleUsesTheLinkTpCrosses) {
  const Plan p{.tp = 16, .pp = 4, .dp = 1, .micro_batch = 1, .grad_accum = 18};
  const SearchLimits cross{.allow_cross_node_tp = true};
  const Specs nodes = At32k("gpt3-175b", "h100-sxm", 64);
  EXPECT_EQ(CheckStructure(nodes.model, nodes.cluster, p, nodes.setup, cross), Reason::kCommBound);
  const Specs rack = At32k("megatron-1t", "gb200", 64);
  EXPECT_EQ(CheckStructure(rack.model, rack.cluster, p, rack.setup, {}), Reason::kFeasible);
}

// A data-parallel ring that leaves an NVL72 rack. Llama 3.1 405B, TP 2, ZeRO-3 over DP 64 on
// 128 GB200 (NeMo 25.07's FSDP run): the ring's 64 members sit 2 apart, 36 in each rack, so two
// such rings share a rack. NCCL treats the rack as one node (2.20.3: inter-node NVLink): each
// channel crosses at a different member's NIC, and the rack's 72 NDR NICs give each ring
// 72 * 50 GB/s / 2 = 1800 GB/s, more than NVLink 5's 900 GB/s one way, so the ring runs at the
// NVLink rate as it would inside one rack. Pooling only a tray's 4 NICs gave 4 * 50 / 2 =
// 100 GB/s, nine times slower (the run measured 5.8 s a step; that model predicted 16.6 s).
TEST(ScaleUp, DataParallelRingLeavingTheRackPoolsTheRacksNics) {
  const Plan p{.tp = 2, .pp = 1, .dp = 64, .micro_batch = 1, .grad_accum = 1,
               .zero_stage = 3, .sequence_parallel = true};
  auto dp_seconds = [&](int64_t domain) {
    Specs s = BuildSpecs(SpecInput{.model = "llama3.1-405b", .gpu = "gb200", .gpus = 128,
                                   .gpus_per_node = 4, .scale_up_domain = domain},
                         BuiltinCatalog());
    s.setup.overlap_grad_reduce = false;
    return StepTime(s.model, s.cluster, p, s.setup).dp_comm;
  };
  const double two_racks = dp_seconds(72);
  const double one_domain = dp_seconds(128);  // every member on NVLink
  const double trays = dp_seconds(4);
  EXPECT_NEAR(two_racks, one_domain, 0.01 * one_domain);
  EXPECT_NEAR(trays / two_racks, 9.0, 0.1);
}

}  // namespace
}  // namespace planner
