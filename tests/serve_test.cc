// Serving: KV cache and weights worked out by hand, the seed's two-GPU example, the search's
// targets, and engine commands whose every flag is in the engine's own argument list.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "planner/cost/queueing.h"
#include "planner/cost/step_time.h"
#include "planner/input/catalog.h"
#include "planner/model/units.h"
#include "planner/render/serve_output.h"
#include "planner/search/memory_report.h"
#include "planner/search/serve_search.h"
#include "test_util.h"

namespace planner {
namespace {

// Flags of tests/fixtures/NAME: one a line, '#' lines are the header naming the commit.
std::set<std::string> Fixture(const std::string& name) {
  std::ifstream in(std::string(PLANNER_SOURCE_DIR) + "/tests/fixtures/" + name);
  std::set<std::string> flags;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') flags.insert(line);
  }
  return flags;
}

std::set<std::string> FlagsOf(const std::string& command) {
  static const std::regex flag(R"((^|\s)(--[A-Za-z0-9][A-Za-z0-9_-]*))");
  std::set<std::string> found;
  for (std::sregex_iterator it(command.begin(), command.end(), flag), end; it != end; ++it) {
    found.insert((*it)[2]);
  }
  return found;
}

TEST(Serving, KvCacheBytesPerTokenByHand) {
  // Llama 2 70B: 2 (K and V) x 8 KV heads x 128 head_dim x 80 layers x 2 bytes = 327,680.
  EXPECT_DOUBLE_EQ(KvBytesPerToken(CatalogModel("llama2-70b"), Precision::kBf16, 4096), 327680.0);
  // Llama 2 7B (no GQA): 2 x 32 x 128 x 32 layers x 1 byte in fp8 = 262,144.
  EXPECT_DOUBLE_EQ(KvBytesPerToken(CatalogModel("llama2-7b"), Precision::kFp8, 4096), 262144.0);
}

TEST(Serving, KvSplitsByKvHeadAndReplicatesBeyondThem) {
  const Model m = CatalogModel("llama2-70b");  // 8 KV heads
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, ServePlan{.tp = 4}, 4096), 327680.0 / 4);
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, ServePlan{.tp = 16}, 4096), 327680.0 / 8);
}

// DeepSeek-V3's MLA cache: (512 latent + 64 RoPE key) x 61 layers x 2 bytes = 70,272 a token,
// and every tensor-parallel rank keeps all of it.
TEST(Serving, MlaLatentCacheIsReplicatedAcrossTensorParallelRanks) {
  const Model m = CatalogModel("deepseek-v3");
  EXPECT_DOUBLE_EQ(KvBytesPerToken(m, Precision::kBf16, 4096), 70272.0);
  EXPECT_DOUBLE_EQ(KvBytesPerTokenPerGpu(m, ServePlan{.tp = 8}, 4096), 70272.0);
}

TEST(Serving, QuantizedWeightsKeepEmbeddingsIn16Bits) {
  // 4-bit with a 16-bit scale and zero per 128 weights: 0.5 + 4/128 bytes (AutoAWQ defaults).
  EXPECT_DOUBLE_EQ(BytesPerWeight(WeightFormat::kInt4Awq, 128), 0.53125);
  EXPECT_DOUBLE_EQ(BytesPerWeight(WeightFormat::kNvfp4, 128), 0.5625);
  const Model m = CatalogModel("llama2-7b");
  const ParamCounts c = CountParameters(m);
  const double sixteen = 2.0 * (c.embedding + c.output);
  EXPECT_DOUBLE_EQ(WeightBytesPerGpu(m, ServePlan{.weights = WeightFormat::kFp8}, ServeSetup{}),
                   c.total - c.embedding - c.output + sixteen);
  EXPECT_DOUBLE_EQ(WeightBytesPerGpu(m, ServePlan{.tp = 2}, ServeSetup{}), c.total);  // 2 bytes / 2 GPUs
}

// formulas.md section 1: Llama 2 70B at 16 bits needs 168 GB by the quick rule, "two 80 GB
// A100s". The planner's answer on two: weights take 69 GB of each GPU, and what is left of the
// engine's 90 % holds only a few sequences of 4096 tokens.
TEST(Serving, SeedExampleTwoA100sHoldAFewSequences) {
  const Model m = CatalogModel("llama2-70b");
  const ServeSetup s{.input_tokens = 3072, .output_tokens = 1024};
  const ServeMemory mem =
      ServingMemoryOf(m, CatalogCluster("a100-80gb", 2).gpu, ServePlan{.tp = 2}, s);
  EXPECT_NEAR(mem.weights / 1e9, CountParameters(m).total / 1e9, 1e-6);  // 2 bytes / 2 GPUs
  // Per GPU: 327,680 / 2 bytes x 4096 tokens = 671 MB a sequence; the budget is what is left.
  EXPECT_DOUBLE_EQ(mem.kv_per_sequence, 327680.0 / 2 * 4096);
  EXPECT_EQ(mem.max_sequences, static_cast<int64_t>(mem.kv_budget / mem.kv_per_sequence));
  EXPECT_GT(mem.max_sequences, 0);
  EXPECT_LT(mem.max_sequences, 16);
}

TEST(Serving, DecodeSlowsWithTheBatchAndPrefillWithThePrompt) {
  const Model m = CatalogModel("llama2-7b");
  const Cluster c = CatalogCluster("h100-sxm", 1);
  const ServeSetup s{.input_tokens = 512, .output_tokens = 128};
  const ServeTime one = ServingTimeOf(m, c, ServePlan{.batch = 1}, s);
  const ServeTime many = ServingTimeOf(m, c, ServePlan{.batch = 64}, s);
  EXPECT_GT(many.decode_step, one.decode_step);
  EXPECT_GT(many.tokens_per_s, 10 * one.tokens_per_s);  // memory-bound: batching is nearly free
  // Batch 1 decode reads the weights once a step: at least 13.5 GB / 3.35 TB/s = 4 ms.
  EXPECT_GT(one.decode_step, CountParameters(m).total * 2 / 3.35e12);
}

// A decode kernel with a thread block per query head (TensorRT-LLM before XQA) reads each KV head
// once for every query head of its group: Llama 2 70B (64 query heads, 8 KV heads) at TP 2 reads
// its cache 8 times, so the step grows by 7 cache reads at the GPU's streaming bandwidth, times
// the step overhead; a model without grouped-query attention (Llama 2 7B) is unchanged.
TEST(Serving, PerHeadDecodeKernelReadsTheGroupedCacheOncePerQueryHead) {
  const Model m = CatalogModel("llama2-70b");
  const Cluster c = CatalogCluster("h100-sxm", 2);
  const ServePlan p{.tp = 2, .batch = 64};
  ServeSetup s{.input_tokens = 2048, .output_tokens = 2048};
  const double grouped = ServingTimeOf(m, c, p, s).decode_step;
  s.kv_read_per_query_head = true;
  const double per_head = ServingTimeOf(m, c, p, s).decode_step;
  const double context = 2048 + 2048 / 2.0;
  const double cache_bytes = 64 * context * KvBytesPerTokenPerGpu(m, p, 3072);
  const Efficiency eff = EfficiencyFor(c.gpu);
  const double extra = 7 * cache_bytes / (c.gpu.hbm_bytes_per_s * eff.hbm) * (1 + eff.step_overhead);
  EXPECT_NEAR(per_head - grouped, extra, 1e-9);
  const Model mha = CatalogModel("llama2-7b");
  EXPECT_DOUBLE_EQ(
      ServingTimeOf(mha, CatalogCluster("h100-sxm", 1), ServePlan{.batch = 64}, s).decode_step,
      ServingTimeOf(mha, CatalogCluster("h100-sxm", 1), ServePlan{.batch = 64},
                    ServeSetup{.input_tokens = 2048, .output_tokens = 2048})
          .decode_step);
}

TEST(Serving, SearchMeetsTheLatencyTargetAndRanksByThroughputPerGpu) {
  const Model m = CatalogModel("llama3-70b");
  ServeQuery q{.setup = {.input_tokens = 2048, .output_tokens = 512}, .tpot_target_s = 0.05};
  const ServeResult r = SearchServing(m, CatalogCluster("h100-sxm", 8), q);
  ASSERT_FALSE(r.plans.empty());
  for (const ServeEvaluation& e : r.plans) EXPECT_LE(e.time.decode_step, 0.05);
  for (size_t i = 1; i < r.plans.size(); ++i) {
    EXPECT_GE(r.plans[i - 1].tokens_per_s_per_gpu, r.plans[i].tokens_per_s_per_gpu);
  }
  for (size_t i = 1; i < r.pareto.size(); ++i) {
    EXPECT_GT(r.pareto[i].tokens_per_s_per_gpu, r.pareto[i - 1].tokens_per_s_per_gpu);
    EXPECT_LE(r.pareto[i].tokens_per_s_per_user, r.pareto[i - 1].tokens_per_s_per_user);
  }
}

TEST(Serving, EngineCommandsUseOnlyTheEnginesFlags) {
  const Model dense = CatalogModel("llama2-70b");
  const Model moe = CatalogModel("mixtral-8x7b");
  const ServeSetup s{.input_tokens = 1024, .output_tokens = 256};
  for (const Model* m : {&dense, &moe}) {
    for (const WeightFormat w : {WeightFormat::kBf16, WeightFormat::kFp8, WeightFormat::kInt4Awq}) {
      const int ep = m == &moe ? 4 : 1;
      const ServePlan p{.tp = 4, .pp = 2, .ep = ep, .batch = 64, .weights = w,
                        .kv = Precision::kFp8};
      const struct {
        std::string command;
        std::set<std::string> known;
      } engines[] = {{VllmCommand(*m, p, s), Fixture("vllm-serve-args.txt")},
                     {SglangCommand(*m, p, s), Fixture("sglang-server-args.txt")},
                     {TrtllmCommand(*m, p, s), Fixture("trtllm-serve-args.txt")}};
      for (const auto& e : engines) {
        ASSERT_FALSE(e.known.empty());
        for (const std::string& flag : FlagsOf(e.command)) {
          EXPECT_TRUE(e.known.contains(flag)) << flag << " in " << e.command;
        }
      }
    }
  }
  EXPECT_NE(VllmCommand(dense, ServePlan{.tp = 8}, s).find("--tensor-parallel-size 8"),
            std::string::npos);
  // Expert parallelism is named to each engine exactly when the plan has it.
  const ServePlan ep{.tp = 4, .ep = 4};
  EXPECT_NE(VllmCommand(moe, ep, s).find("--enable-expert-parallel"), std::string::npos);
  EXPECT_NE(SglangCommand(moe, ep, s).find("--ep-size 4"), std::string::npos);
  EXPECT_NE(TrtllmCommand(moe, ep, s).find("--ep_size 4"), std::string::npos);
  EXPECT_EQ(VllmCommand(moe, ServePlan{.tp = 4}, s).find("expert"), std::string::npos);
}

// A MoE's replicas are scored with expert parallelism off and over the whole tensor-parallel
// group; a dense model's never have it, and a fixed --ep is kept. With EP, a Mixtral layer's
// second all-reduce becomes two all-to-alls of each token's 2 routed copies.
TEST(Serving, ExpertParallelismIsSearchedForMixturesOnly) {
  const Model moe = CatalogModel("mixtral-8x7b");
  ServeQuery q{.setup = {.input_tokens = 1024, .output_tokens = 256}, .gpus = 4, .tp = 4};
  q.top = 100;
  std::set<int> eps;
  for (const ServeEvaluation& e : SearchServing(moe, CatalogCluster("h100-sxm", 4), q).plans) {
    eps.insert(e.plan.ep);
  }
  EXPECT_EQ(eps, (std::set<int>{1, 4}));
  q.ep = 4;
  for (const ServeEvaluation& e : SearchServing(moe, CatalogCluster("h100-sxm", 4), q).plans) {
    EXPECT_EQ(e.plan.ep, 4);
  }
  const Model dense = CatalogModel("llama2-7b");
  ServeQuery d{.setup = {.input_tokens = 1024, .output_tokens = 256}, .gpus = 4, .tp = 4};
  for (const ServeEvaluation& e : SearchServing(dense, CatalogCluster("h100-sxm", 4), d).plans) {
    EXPECT_EQ(e.plan.ep, 1);
  }
}

// `planner memory --mode inference` counts as the engines do and rounds to a split they run.
// Llama 2 70B in 16 bits, 64 sequences of 4096 tokens, on 80 GB A100s (0.9 of 85.9 GB each):
// the KV cache is 64 x 4096 x 327,680 bytes = 85.9 GB and the weights 137.95 GB, 3 GPUs by
// division. On TP 2 the weights leave 6.4 GB per GPU for 42.9 GB of cache; on TP 4 each GPU
// holds 34.5 GB of weights and 21.47 GB of cache: 4 GPUs, a tensor-parallel size the 64 heads
// split into.
TEST(Serving, MemoryCommandRoundsToASplitTheEnginesRun) {
  const Model m = CatalogModel("llama2-70b");
  MemoryQuery q{.mode = MemoryMode::kInference, .seq_len = 4096, .batch = 64};
  q.gpu = FindGpu(BuiltinCatalog(), "a100-80gb", "test");
  const MemoryReport r = ComputeMemoryReport(m, q);
  EXPECT_EQ(r.gpus_needed, 4);
  EXPECT_EQ(r.tp, 4);
  EXPECT_EQ(r.pp, 1);
  ASSERT_EQ(r.parts[1].first, "kv_cache");
  EXPECT_DOUBLE_EQ(r.parts[1].second, 64.0 * 4096 * 327680 / 4);
  // The seed's example (formulas.md s.1): one sequence fits on the quick rule's two GPUs.
  q.batch = 1;
  EXPECT_EQ(ComputeMemoryReport(m, q).gpus_needed, 2);
}

// Erlang C against the M/M/1 and M/M/2 results worked by hand (Kleinrock vol. 1 s.3.4-3.5):
// one server at load 0.5 waits with probability 0.5 and on average rho / (mu (1 - rho)) = 1 s
// for a 1 s service; two servers at an offered load of 1 wait with probability
// (1/2 x 2) / (1 + 1 + 1) = 1/3.
TEST(Serving, ErlangCMatchesTheTextbookQueues) {
  EXPECT_NEAR(ErlangC(1, 0.5), 0.5, 1e-12);
  EXPECT_NEAR(MeanQueueWaitSeconds(1, 0.5, 1.0), 1.0, 1e-12);
  EXPECT_NEAR(ErlangC(2, 1.0), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(ErlangC(4, 4.0), 1.0);
  EXPECT_TRUE(std::isinf(MeanQueueWaitSeconds(4, 2.0, 2.0)));
  // Thousands of slots: the recursion neither overflows nor loses the answer (light load).
  EXPECT_LT(ErlangC(4096, 1000.0), 1e-12);
}

// At a request rate, each plan gets the replicas whose slots turn over faster than requests
// arrive, and its TTFT counts the mean wait for a slot; on a fixed 8 GPUs, 20 requests/s of
// 2048 + 512 tokens of Llama 3 70B is more than any split serves (about 10,240 output tokens/s
// against at most ~600 per GPU by the model): every plan is overloaded, none is offered.
TEST(Serving, RequestRateSetsReplicasAndQueueing) {
  const Model m = CatalogModel("llama3-70b");
  ServeQuery q{.setup = {.input_tokens = 2048, .output_tokens = 512}, .request_rate = 20};
  q.ttft_target_s = 0.5;
  const ServeResult r = SearchServing(m, CatalogCluster("h100-sxm", 8), q);
  ASSERT_FALSE(r.plans.empty());
  for (const ServeEvaluation& e : r.plans) {
    EXPECT_LT(e.utilization, 1.0);
    EXPECT_LE(e.time.ttft + e.queue_wait_s, 0.5);
    const double served = e.time.tokens_per_s * e.plan.replicas;
    EXPECT_GE(served, 20.0 * 512);
  }
  q.gpus = 8;
  const ServeResult fixed = SearchServing(m, CatalogCluster("h100-sxm", 8), q);
  EXPECT_TRUE(fixed.plans.empty());
  EXPECT_GT(fixed.pruned[static_cast<int>(ServeReason::kOverloaded)], 0);
}

}  // namespace
}  // namespace planner
