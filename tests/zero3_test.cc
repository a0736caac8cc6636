// DeepSpeed ZeRO-3 as it runs (per-matrix gathers, the live-parameter cap, prefetch, reuse) and
// the CPU-offloaded optimizer, on one plan: a GPT of the 1T shape of DeepSpeed's Azure benchmark
// (128 layers, h = 25600, 160 heads, GELU MLP of 4h, no biases, LayerNorm) on 1024 A100s, ZeRO-3,
// dp 1024, micro-batch 8, fp16 with 16-bit gradients, full recomputation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "planner/cost/collectives.h"
#include "planner/cost/memory_model.h"
#include "planner/cost/zero3.h"
#include "planner/input/catalog.h"
#include "planner/input/published_runs.h"
#include "planner/input/run_file.h"
#include "planner/search/search.h"
#include "test_util.h"

namespace planner {
namespace {

constexpr double kH = 25600;

Model Gpt1t() {
  return Model{.name = "gpt-1t", .layers = 128, .hidden = 25600, .heads = 160, .kv_heads = 160,
               .ffn_hidden = 102400, .vocab = 50304, .seq_len = 1024,
               .tied_embeddings = true, .learned_positions = true};
}

Plan Zero3Plan() {
  return Plan{.dp = 1024, .micro_batch = 8, .recompute = Recompute::kFull, .zero_stage = 3};
}

TrainingSetup DeepSpeedFp16(double max_live = 0, bool offload = false) {
  return TrainingSetup{.global_batch = 8192, .seq_len = 1024, .precision = Precision::kFp16,
                       .fp32_grads = false, .framework = Framework::kDeepSpeed,
                       .offload_optimizer = offload, .zero3_max_live_params = max_live};
}

// A layer: QKV 3h^2, output h^2, MLP 8h^2 and two LayerNorms (4h) ride with the MLP.
double LayerParams() { return 12 * kH * kH + 4 * kH; }

TEST(Zero3, DeepSpeedGathersEachMatrixOfALayer) {
  const Zero3Units u = LayerGatherUnits(Gpt1t(), Zero3Plan(), DeepSpeedFp16(), LayerParams());
  ASSERT_EQ(u.count, 4);
  EXPECT_DOUBLE_EQ(u.params[0], 3 * kH * kH);            // 1,966,080,000
  EXPECT_DOUBLE_EQ(u.params[1], kH * kH);                // 655,360,000
  EXPECT_DOUBLE_EQ(u.params[2], 4 * kH * kH + 2 * kH);   // 2,621,491,200
  EXPECT_DOUBLE_EQ(u.params[3], 4 * kH * kH + 2 * kH);
  // FSDP (torchtitan) gathers the whole block as one unit.
  TrainingSetup fsdp = DeepSpeedFp16();
  fsdp.framework = Framework::kTorchtitan;
  EXPECT_EQ(LayerGatherUnits(Gpt1t(), Zero3Plan(), fsdp, LayerParams()).count, 1);
}

// fetch_sub_module prefetches min(cap - gathered, 5e7) elements, at least one whole matrix.
// Default cap 1e9: only the output projection (6.6e8) leaves room, so the peak is it plus the
// prefetched MLP-in matrix: h^2 + 4h^2 + 2h = 3,276,851,200 elements. The Azure recipe's 3e9:
// every matrix leaves room, the peak is MLP-in in use plus MLP-out prefetched:
// 8h^2 + 4h = 5,242,982,400. Each adds the largest matrix's 16-bit gradient (2,621,491,200).
TEST(Zero3, LiveParameterCapBoundsTheGatheredWeights) {
  const double largest = 4 * kH * kH + 2 * kH;
  EXPECT_DOUBLE_EQ(Zero3GatherBytes(Gpt1t(), Zero3Plan(), DeepSpeedFp16(), LayerParams(), 2, 2),
                   (3276851200.0 + largest) * 2);  // 11,796,684,800 bytes = 10.99 GiB
  EXPECT_DOUBLE_EQ(
      Zero3GatherBytes(Gpt1t(), Zero3Plan(), DeepSpeedFp16(3e9), LayerParams(), 2, 2),
      (5242982400.0 + largest) * 2);  // 15,728,947,200 bytes = 14.65 GiB
  // FSDP keeps two whole blocks and a block's gradients: 12h^2 + 4h = 7,864,422,400 x 6 bytes.
  TrainingSetup fsdp = DeepSpeedFp16();
  fsdp.framework = Framework::kTorchtitan;
  EXPECT_DOUBLE_EQ(Zero3GatherBytes(Gpt1t(), Zero3Plan(), fsdp, LayerParams(), 2, 2),
                   LayerParams() * 6);
}

// Offload moves the fp32 master and moments (12 bytes) and the 16-bit gradient shard (2 bytes)
// of each of this GPU's 1/1024 of the parameters to the host; the 16-bit weight shard stays.
TEST(Zero3, OffloadMovesOptimizerAndGradientShardToHost) {
  const MemoryBreakdown on_gpu = TrainingMemory(Gpt1t(), Zero3Plan(), DeepSpeedFp16(3e9));
  const MemoryBreakdown offloaded =
      TrainingMemory(Gpt1t(), Zero3Plan(), DeepSpeedFp16(3e9, true));
  const double shard = CountParameters(Gpt1t()).total / 1024;
  EXPECT_DOUBLE_EQ(on_gpu.optimizer, shard * 12);
  EXPECT_DOUBLE_EQ(on_gpu.gradients, shard * 2);
  EXPECT_DOUBLE_EQ(offloaded.optimizer, 0);
  EXPECT_DOUBLE_EQ(offloaded.gradients, 0);
  EXPECT_DOUBLE_EQ(offloaded.host, shard * 14);
  EXPECT_DOUBLE_EQ(offloaded.weights, on_gpu.weights);
  EXPECT_DOUBLE_EQ(offloaded.total(), on_gpu.total() - shard * 14);
}

// A100: PCIe 4.0 x16, 31.5 GB/s, 80 % for pinned copies = 25.2 GB/s. One billion elements per
// GPU: the 16-bit weights back take 2e9 / 25.2e9 = 79.4 ms, the fp16 gradients out as long;
// CPU Adam at 1e9 parameters/s for the node's 8 GPUs' shards: 8e9 / 1e9 = 8 s.
TEST(Zero3, OffloadSecondsFromPcieAndSharedCpuAdam) {
  Cluster c{.gpus = 1024, .gpus_per_node = 8};
  c.gpu = FindGpu(BuiltinCatalog(), "a100-80gb", "test");
  const OptimizerOffload o = OptimizerOffloadSeconds(c, 1e9, 2, 2);
  EXPECT_NEAR(o.to_gpu_s, 2e9 / 25.2e9, 1e-12);
  EXPECT_NEAR(o.to_host_s, 2e9 / 25.2e9, 1e-12);
  EXPECT_DOUBLE_EQ(o.cpu_step_s, 8.0);
}

// One layer, no recomputation, compute long enough to hide any gather it is allowed to hide.
// Trace: forward QKV, out, in, out-MLP; backward out-MLP (kept: reused at once), in, out, QKV.
// With the 3e9 cap every gather but the first is prefetched behind the previous matrix, and
// each reduce-scatter but the last runs behind later compute: exposed = g(QKV) + r(QKV).
// With a cap below every matrix nothing is prefetched: every gather waits, and in the backward
// each waits behind the previous matrix's reduce-scatter on the link as well:
// exposed = 4 forward gathers + 3 backward gathers + 4 reduce-scatters.
TEST(Zero3, PrefetchHidesGathersOnlyWhenTheCapLeavesRoom) {
  const Zero3Link link{.ranks = 1024, .bytes_per_s = 25e9, .latency_s = 0};
  auto g = [&](double params) { return AllGatherSeconds(params * 2, 1024, 25e9, 0); };
  const double qkv = 3 * kH * kH, out = kH * kH, mlp = 4 * kH * kH + 2 * kH;
  Plan p = Zero3Plan();
  p.recompute = Recompute::kNone;
  const double hidden = DeepSpeedZero3ExposedSeconds(Gpt1t(), p, DeepSpeedFp16(3e9),
                                                     LayerParams(), 1, 1000.0, 2, 2, link);
  EXPECT_NEAR(hidden, 2 * g(qkv), 1e-9);  // 2 x 0.157 s
  const double exposed = DeepSpeedZero3ExposedSeconds(Gpt1t(), p, DeepSpeedFp16(1.0),
                                                      LayerParams(), 1, 1000.0, 2, 2, link);
  const double gathers = g(qkv) + g(out) + 2 * g(mlp);
  EXPECT_NEAR(exposed, gathers + (gathers - g(mlp)) + gathers, 1e-9);
  // Without overlap_comm every reduce-scatter blocks the backward: g(QKV) + all four of them.
  TrainingSetup blocking = DeepSpeedFp16(3e9);
  blocking.overlap_grad_reduce = false;
  const double blocked = DeepSpeedZero3ExposedSeconds(Gpt1t(), p, blocking, LayerParams(), 1,
                                                      1000.0, 2, 2, link);
  EXPECT_NEAR(blocked, g(qkv) + gathers, 1e-9);
}

// The converter reads the sharding text of a published row (DeepSpeed's Azure 1T recipe) into the
// run file; the run file and the flags reach the setup; other frameworks refuse both.
TEST(Zero3, OffloadAndCapTravelFromRowToSetup) {
  const std::string path = testing::TempDir() + "/zero3-row-" + std::to_string(::getpid());
  std::ofstream(path) << R"j({"id": "x", "model": "GPT", "layers": 2, "hidden": 64, )j"
                      << R"j("heads": 4, "ffn_hidden": 256, "gpu_type": "A100-SXM 40GB", )j"
                      << R"j("zero_or_dist_opt": "DeepSpeed ZeRO-3 (stage3_max_live_parameters )j"
                      << R"j(3e9), optimizer offload cpu (offload_optimizer cpu)"})j" << "\n";
  const std::vector<PublishedRun> runs = LoadPublishedRuns(path);
  ASSERT_EQ(runs.size(), 1u);
  const RunFile run = ParseRunFile(runs[0].run_file_json, "row");
  EXPECT_EQ(run.spec.offload, "optimizer");
  EXPECT_DOUBLE_EQ(run.spec.zero3_max_live_params, 3e9);
  EXPECT_EQ(run.spec.gpu, "a100-40gb");  // "40GB" is the 40 GB part
  const Specs specs = BuildSpecs(run.spec, BuiltinCatalog());
  EXPECT_TRUE(specs.setup.offload_optimizer);
  EXPECT_DOUBLE_EQ(Zero3MaxLiveParams(specs.setup), 3e9);

  SpecInput megatron{.model = "llama2-7b", .gpu = "a100-80gb", .gpus = 8};
  megatron.offload = "optimizer";
  EXPECT_EQ(ErrorOf([&] { BuildSpecs(megatron, BuiltinCatalog()); }).where(), "--offload");
  megatron.offload = "";
  megatron.zero3_max_live_params = 3e9;
  EXPECT_EQ(ErrorOf([&] { BuildSpecs(megatron, BuiltinCatalog()); }).where(),
            "--zero3-max-live-params");
  std::remove(path.c_str());
}

// The search keeps the offloaded optimizer fixed and drops ZeRO 0, which DeepSpeed cannot
// offload from (docs/_pages/config-json.md); every plan it returns keeps the states on the host.
TEST(Zero3, SearchWithOffloadReturnsOnlyZeroOneToThree) {
  Specs s = BuildSpecs(SpecInput{.model = "gpt3-175b", .gpu = "a100-80gb", .gpus = 256,
                                 .global_batch = 512, .framework = "deepspeed",
                                 .offload = "optimizer"},
                       BuiltinCatalog());
  const SearchResult r = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 50});
  ASSERT_FALSE(r.plans.empty());
  for (const Evaluation& e : r.plans) {
    EXPECT_GE(e.plan.zero_stage, 1);
    EXPECT_EQ(e.memory.optimizer, 0);
    EXPECT_GT(e.memory.host, 0);
  }
}

}  // namespace
}  // namespace planner
