// One plan per framework whose memory and time differences are worked out by hand here, the
// framework rules of the rule table, run files, and GPUs without peer-to-peer.
#include <gtest/gtest.h>

#include <algorithm>

#include "planner/cost/memory_model.h"
#include "planner/cost/step_time.h"
#include "planner/input/catalog.h"
#include "planner/input/run_file.h"
#include "planner/input/specs.h"
#include "planner/model/error.h"
#include "planner/search/evaluate.h"
#include "planner/search/plan_rules.h"
#include "planner/search/search.h"

namespace planner {
namespace {

Specs Make(const char* gpu, int64_t gpus, const char* framework, int64_t global_batch = 64) {
  SpecInput in;
  in.model = "llama3-8b";
  in.gpu = gpu;
  in.gpus = gpus;
  in.global_batch = global_batch;
  in.seq_len = 8192;
  in.framework = framework;
  return BuildSpecs(in, BuiltinCatalog());
}

Plan Dp(int dp, int grad_accum, int zero) {
  return Plan{.dp = dp, .grad_accum = grad_accum, .zero_stage = zero};
}

// Llama 3 8B by hand: embedding and output 128256 x 4096 each (untied); per layer Q and O
// 4096^2, K and V 4096 x 1024, MLP 3 x 4096 x 14336, two norms of 4096; a final norm.
constexpr double kLlama3_8bParams =
    2.0 * 128256 * 4096 + 32.0 * (4096.0 * (4096 + 1024 + 1024 + 4096) + 3.0 * 4096 * 14336 +
                                  2 * 4096) + 4096;

TEST(Framework, Llama3_8bHasItsHandCountedParameters) {
  const Specs s = Make("h100-sxm", 8, "megatron");
  EXPECT_NEAR(CountParameters(s.model).total, kLlama3_8bParams, 1.0);
  EXPECT_NEAR(kLlama3_8bParams, 8.03e9, 0.01e9);
}

// Megatron keeps fp32 main grads; NeMo syncs and keeps bf16 grads: 4 against 2 bytes a
// parameter, the weights (2) and the sharded optimizer (12 / dp) the same.
TEST(Framework, MegatronAndNemoMemoryByHand) {
  const Specs meg = Make("h100-sxm", 8, "megatron");
  const Specs nemo = Make("h100-sxm", 8, "nemo");
  const Plan p = Dp(8, 8, 1);
  const MemoryBreakdown a = TrainingMemory(meg.model, p, meg.setup);
  const MemoryBreakdown b = TrainingMemory(nemo.model, p, nemo.setup);
  EXPECT_NEAR(a.weights, 2.0 * kLlama3_8bParams, 1e3);
  EXPECT_NEAR(a.gradients, 4.0 * kLlama3_8bParams, 1e3);
  EXPECT_NEAR(b.gradients, 2.0 * kLlama3_8bParams, 1e3);
  EXPECT_NEAR(a.optimizer, 12.0 * kLlama3_8bParams / 8, 1e3);
  EXPECT_DOUBLE_EQ(a.optimizer, b.optimizer);
  EXPECT_DOUBLE_EQ(a.activations, b.activations);
  EXPECT_TRUE(nemo.setup.comm_overlap);
  EXPECT_FALSE(meg.setup.comm_overlap);
}

// DeepSpeed copies gradients into a 16-bit reduce bucket of 5e8 elements: 1e9 bytes more than
// Megatron, whose buckets are views of its gradient buffer; nothing else differs.
TEST(Framework, DeepSpeedReduceBucketByHand) {
  const Specs meg = Make("h100-sxm", 8, "megatron");
  const Specs ds = Make("h100-sxm", 8, "deepspeed");
  const Plan p = Dp(8, 8, 1);
  const MemoryBreakdown a = TrainingMemory(meg.model, p, meg.setup);
  const MemoryBreakdown b = TrainingMemory(ds.model, p, ds.setup);
  EXPECT_NEAR(b.overhead - a.overhead, 1e9, 1.0);
  EXPECT_DOUBLE_EQ(a.activations, b.activations);
  EXPECT_DOUBLE_EQ(a.gradients, b.gradients);
}

// ZeRO-3 with 4 micro-batches: Megatron reduce-scatters the fp32 grads once a step, torchtitan
// (FSDP2) and DeepSpeed after each micro-batch: 3 more ring passes of 7/8 of 4P bytes over
// NVLink at the link share 0.8, each with 7 latency steps. Without overlap, nothing hides them.
TEST(Framework, Zero3GradientReductionsByHand) {
  Specs meg = Make("h100-sxm", 8, "megatron", 32);
  Specs tt = Make("h100-sxm", 8, "torchtitan", 32);
  Specs ds = Make("h100-sxm", 8, "deepspeed", 32);
  for (Specs* s : {&meg, &tt, &ds}) s->setup.overlap_grad_reduce = false;
  const Plan p = Dp(8, 4, 3);
  const double a = StepTime(meg.model, meg.cluster, p, meg.setup).dp_comm;
  const double b = StepTime(tt.model, tt.cluster, p, tt.setup).dp_comm;
  const double c = StepTime(ds.model, ds.cluster, p, ds.setup).dp_comm;
  const Link& nvlink = meg.cluster.intra;
  const double one_pass =
      7.0 / 8.0 * 4.0 * kLlama3_8bParams / (0.8 * nvlink.one_way_bytes_per_s) + 7.0 * nvlink.latency_s;
  EXPECT_NEAR(b - a, 3.0 * one_pass, 1e-9);
  // DeepSpeed gathers matrix by matrix and prefetches behind compute (tests/zero3_test.cc pins
  // it): more of its traffic hides than FSDP's whole-step sum with overlap off.
  EXPECT_LT(c, b);
}

TEST(Framework, RuleTablePrunesWhatAFrameworkCannotRun) {
  const SearchLimits limits{.allow_cross_node_tp = true, .allow_comm_bound = true};
  const Specs ds = Make("h100-sxm", 8, "deepspeed");
  const Specs tt = Make("h100-sxm", 8, "torchtitan");
  const Specs meg = Make("h100-sxm", 8, "megatron");
  // DeepSpeed's pipeline engine: 1F1B only, ZeRO 0-1.
  const Plan interleaved{.pp = 2, .dp = 4, .grad_accum = 16, .virtual_stages = 2};
  EXPECT_EQ(CheckStructure(ds.model, ds.cluster, interleaved, ds.setup, limits),
            Reason::kUnsupported);
  EXPECT_EQ(CheckStructure(meg.model, meg.cluster, interleaved, meg.setup, limits),
            Reason::kFeasible);
  const Plan fsdp_pp{.pp = 2, .dp = 4, .grad_accum = 16, .zero_stage = 3};
  EXPECT_EQ(CheckStructure(ds.model, ds.cluster, fsdp_pp, ds.setup, limits), Reason::kUnsupported);
  EXPECT_EQ(CheckStructure(meg.model, meg.cluster, fsdp_pp, meg.setup, limits),
            Reason::kUnsupported);
  EXPECT_EQ(CheckStructure(tt.model, tt.cluster, fsdp_pp, tt.setup, limits), Reason::kFeasible);
  // The search's per-stage check reads the same rules: it used to refuse ZeRO >= 2 with a
  // pipeline in every framework, torchtitan's FSDP2 + PP included.
  EXPECT_TRUE(ZeroStageRuns(fsdp_pp, tt.setup));
  EXPECT_FALSE(ZeroStageRuns(fsdp_pp, meg.setup));
  SearchOptions options;
  options.pp.least = 2;
  const SearchResult r = Search(tt.model, tt.cluster, tt.setup, options);
  EXPECT_TRUE(std::any_of(r.plans.begin(), r.plans.end(), [](const Evaluation& e) {
    return e.plan.pp > 1 && e.plan.zero_stage >= 2;
  }));
  // Ulysses: tp x cp must divide the 8 KV heads; Megatron's ring attention has no such rule.
  const Specs ds16 = Make("h100-sxm", 16, "deepspeed");
  const Specs meg16 = Make("h100-sxm", 16, "megatron");
  const Plan tp2_cp8{.tp = 2, .dp = 1, .cp = 8, .grad_accum = 64};
  EXPECT_EQ(CheckStructure(ds16.model, ds16.cluster, tp2_cp8, ds16.setup, limits),
            Reason::kIndivisible);
  EXPECT_EQ(CheckStructure(meg16.model, meg16.cluster, tp2_cp8, meg16.setup, limits),
            Reason::kFeasible);
}

// No peer-to-peer: a TP all-reduce goes down to host memory and back, half PCIe's rate (at the
// A100 set's link efficiency, which the RTX 4090 borrows: 0.75), plus 10 us of host copy
// start-up per step. Two all-reduces of s b h bf16 values per layer forward.
TEST(Framework, ConsumerGpuTpCommThroughHostByHand) {
  const Specs s = Make("rtx-4090", 8, "megatron");
  EXPECT_FALSE(s.cluster.gpu.p2p);
  EXPECT_EQ(s.cluster.nics_per_node, 1);
  EXPECT_EQ(s.cluster.inter.name, "roce-100");
  const Plan p{.tp = 2, .dp = 4, .micro_batch = 1, .grad_accum = 16};
  const double tp_comm = ForwardPass(s.model, s.cluster, p, s.setup).dense.tp_comm;
  const double bytes = 8192.0 * 4096 * 2;
  const double bw = 0.5 * 0.75 * s.cluster.intra.one_way_bytes_per_s;
  const double latency = s.cluster.intra.latency_s + 10e-6;
  EXPECT_NEAR(tp_comm, 2.0 * (2.0 * 0.5 * bytes / bw + 2.0 * latency), 1e-12);
}

TEST(Framework, CommOverlapIsRefusedWithoutPeerToPeer) {
  SpecInput in;
  in.model = "llama3-8b";
  in.gpu = "rtx-4090";
  in.gpus = 8;
  in.comm_overlap = true;
  EXPECT_THROW(BuildSpecs(in, BuiltinCatalog()), InputError);
  in.comm_overlap = false;
  in.framework = "nemo";  // its default overlap is dropped, not an error
  EXPECT_FALSE(BuildSpecs(in, BuiltinCatalog()).setup.comm_overlap);
}

// PyTorch eager moves, per layer forward of 8192 tokens, 2 x 32 sbh bytes more for the norms,
// 16 s (q + kv) for rotary and 4 s f for SwiGLU than the fused kernels.
TEST(Framework, EagerElementwiseByHand) {
  Specs tt = Make("h100-sxm", 8, "torchtitan");
  const Plan p = Dp(8, 8, 3);
  const double fused = ForwardPass(tt.model, tt.cluster, p, tt.setup).dense.elementwise;
  tt.setup.fused_elementwise = false;
  const double eager = ForwardPass(tt.model, tt.cluster, p, tt.setup).dense.elementwise;
  const double extra = 2.0 * 32 * 8192 * 4096 + 16.0 * 8192 * (4096 + 1024) + 4.0 * 8192 * 14336;
  EXPECT_NEAR(eager - fused, extra / (0.8 * tt.cluster.gpu.hbm_bytes_per_s), 1e-9);
}

TEST(RunFile, ReadsAPlanAndRejectsUnknownKeys) {
  const RunFile r = ParseRunFile(
      R"({"model": "llama3-8b", "gpu": "h100-sxm", "gpus": 16, "framework": "nemo",
          "comm_overlap": false, "plan": {"tp": 2, "pp": 2, "recompute": "full", "zero": 1},
          "measured": {"iter_time_s": 1.5}})",
      "run.json");
  EXPECT_EQ(r.spec.framework, "nemo");
  EXPECT_TRUE(r.spec.no_comm_overlap);
  EXPECT_EQ(r.plan.plan.tp, 2);
  EXPECT_EQ(r.plan.recompute, "full");
  EXPECT_DOUBLE_EQ(r.measured.iter_time_s, 1.5);
  EXPECT_THROW(ParseRunFile(R"({"modle": "llama3-8b"})", "run.json"), InputError);
  EXPECT_THROW(ParseRunFile(R"({"plan": {"tp": "2"}})", "run.json"), InputError);
}

}  // namespace
}  // namespace planner
