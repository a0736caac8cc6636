// PyTorch FSDP memory, worked by hand: FSDP1 as LLM Foundry runs it (--framework fsdp), the
// loss each framework keeps, and metaseq's TP-distributed checkpoints.
#include <gtest/gtest.h>

#include "planner/cost/framework.h"
#include "planner/cost/memory_model.h"
#include "planner/input/catalog.h"
#include "planner/input/specs.h"
#include "planner/model/units.h"
#include "planner/search/evaluate.h"
#include "planner/search/search.h"

namespace planner {
namespace {

// LLM Foundry's mpt-1b.yaml: 24 layers, d_model 2048, 16 heads, expansion 4 (GELU), vocab 50368,
// LayerNorm, no biases, tied embeddings (MPT's wte is also its output layer).
Model Mpt1b() {
  return Model{.name = "mpt-1b", .layers = 24, .hidden = 2048, .heads = 16, .kv_heads = 16,
               .ffn_hidden = 8192, .vocab = 50368, .seq_len = 2048, .tied_embeddings = true};
}

// The LLM Foundry H100 benchmark's MPT-1B run: 64 GPUs, FULL_SHARD, micro-batch 20, no
// activation checkpointing, amp_bf16 (scripts/train/benchmarking/README.md).
TEST(FsdpMemory, Mpt1bFullShardEveryTermByHand) {
  const Model m = Mpt1b();
  const Plan p{.dp = 64, .micro_batch = 20, .zero_stage = 3};
  const TrainingSetup s{.global_batch = 1280, .seq_len = 2048, .framework = Framework::kFsdp,
                        .fused_elementwise = false};
  // Parameters: per layer 4h^2 (Q, K, V, output) + 2hf (two GELU matrices) + 4h (two
  // LayerNorms, weight and bias) = 16,777,216 + 33,554,432 + 8,192 = 50,339,840; x 24 =
  // 1,208,156,160; + embedding 50368 x 2048 = 103,153,664; + final norm 2h = 4,096:
  // 1,311,313,920 (LLM Foundry prints 1,315,950,592 with its 2048 x 2048 position table).
  const ParamCounts counts = CountParameters(m);
  EXPECT_DOUBLE_EQ(counts.total, 1311313920.0);
  const MemoryBreakdown mem = TrainingMemory(m, p, s);
  // FULL_SHARD over 64: bf16 weights 2, fp32 grads 4, fp32 master + Adam moments 12 bytes.
  EXPECT_DOUBLE_EQ(mem.weights, 1311313920.0 * 2 / 64);     // 40,978,560
  EXPECT_DOUBLE_EQ(mem.gradients, 1311313920.0 * 4 / 64);   // 81,957,120
  EXPECT_DOUBLE_EQ(mem.optimizer, 1311313920.0 * 12 / 64);  // 245,871,360
  // Activations, s b h = 2048 x 20 x 2048 = 83,886,080. Per layer (Korthikanti et al. Table 2,
  // flash attention, no dropout): two norm inputs 4sbh, QKV and fc1 inputs 2sbh each, Q, K, V
  // and attention output 8sbh, fc1 and GELU outputs 4sbf = 16sbh: 32sbh = 2,684,354,560 bytes;
  // x 24 layers = 64,424,509,440. Token ids 8 s b = 327,680. The loss: flash-attn's fused
  // cross-entropy keeps the bf16 logits and writes a bf16 gradient, 4 bytes a logit, and the
  // output layer keeps its bf16 input, 2 bytes a value: 40,960 x (4 x 50368 + 2 x 2048) =
  // 8,420,065,280 (PyTorch's eager loss, 12 bytes a logit, would be 24.8 GB).
  EXPECT_DOUBLE_EQ(mem.activations, 64424509440.0 + 327680.0 + 8420065280.0);
  // Overhead: NCCL buffers 0.5 GiB, fragmentation 10 % of activations (7,284,490,240), and
  // the FSDP unit in use and the one prefetched whole in bf16 plus the unit's unsharded fp32
  // gradient: 50,339,840 x (2 + 2 + 4) = 402,718,720.
  EXPECT_DOUBLE_EQ(mem.overhead, 0.5 * kGiB + 7284490240.0 + 402718720.0);
  // 81,437,789,312 bytes = 75.8 GiB: the run ran on 80 GB H100s (79.1 GiB usable).
  EXPECT_NEAR(mem.total() / kGiB, 75.84, 0.01);
}

// The loss per framework for 16,384 tokens of a 128,256-entry vocabulary, hidden 4096.
TEST(FsdpMemory, LossBytesFollowTheFrameworkAndCompilation) {
  const Model m{.name = "llama", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 8,
                .ffn_hidden = 14336, .vocab = 128256, .seq_len = 8192};
  const double tokens = 16384;
  const double logits = tokens * 128256;  // 2,101,346,304
  TrainingSetup s{.framework = Framework::kTorchtitan, .fused_elementwise = false};
  // torchtitan eager: bf16 logits 2 + fp32 copy 4 + fp32 gradient 4 + bf16 cast 2 = 12.
  EXPECT_DOUBLE_EQ(LossBytes(m, s, tokens, 1), 12 * logits);
  // torch.compile with the loss compiled (torchtitan 2025): bf16 logits and gradient, 4.
  s.fused_elementwise = true;
  EXPECT_DOUBLE_EQ(LossBytes(m, s, tokens, 1), 4 * logits);
  // torchtitan of 2024 compiled the model but not the loss: 12 again.
  s.compiled_loss = false;
  EXPECT_DOUBLE_EQ(LossBytes(m, s, tokens, 1), 12 * logits);
  // With TP 8, loss_parallel's DTensor handlers: the saved fp32 log-softmax output 4, and in
  // backward zeros_like 4, exp 4 and their sum 4 = 16 bytes a logit, over 8 ranks.
  EXPECT_DOUBLE_EQ(LossBytes(m, s, tokens, 8), 16 * logits / 8);
  // Megatron's fused vocab-parallel loss: fp32 logits 4 and the fp32 output-layer input 4.
  s.framework = Framework::kMegatron;
  EXPECT_DOUBLE_EQ(LossBytes(m, s, tokens, 1), 4 * logits + 4 * tokens * 4096);
}

// metaseq's OPT-175B launcher: Megatron TP 8 inside FSDP, --checkpoint-activations
// --distribute-checkpointed-activations, no sequence parallelism.
TEST(FsdpMemory, MetaseqSplitsCheckpointsOverTensorParallelRanks) {
  const Model m{.name = "opt-175b", .layers = 96, .hidden = 12288, .heads = 96, .kv_heads = 96,
                .ffn_hidden = 49152, .vocab = 50272, .seq_len = 2048};
  const Plan p{.tp = 8, .dp = 124, .micro_batch = 8, .recompute = Recompute::kFull,
               .zero_stage = 2};
  TrainingSetup s{.global_batch = 992, .seq_len = 2048, .precision = Precision::kFp16,
                  .framework = Framework::kFsdp};
  // Each layer keeps its input, 2 s b h = 2 x 2048 x 8 x 12288 = 402,653,184 bytes, split over
  // the 8 TP ranks: 50,331,648 (96 layers: 4.5 GiB rather than 36 GiB).
  EXPECT_DOUBLE_EQ(PlanLayerActivationBytes(m, p, s), 402653184.0 / 8);
  // The stage's activations: 96 checkpoints (4,831,838,208), token ids 8 s b / t (16,384), the
  // loss (Megatron's vocab-parallel, 4 bytes a logit, and the fp16 output-layer input, 2):
  // 16,384 x (4 x 50272 + 2 x 12288) / 8 = 462,159,872; and the layer backward recomputes,
  // whole: norm inputs 4sbh and QKV / fc1 inputs 4sbh replicated, Q, K, V, attention output
  // 8sbh and fc1 / GELU outputs 16sbh split over 8: 11 sbh = 2,214,592,512, less its
  // checkpoint already counted (50,331,648): 2,164,260,864.
  EXPECT_DOUBLE_EQ(StageMemory(m, p, s, 0).activations,
                   4831838208.0 + 16384.0 + 462159872.0 + 2164260864.0);
  s.framework = Framework::kMegatron;  // Megatron splits them only with sequence parallelism
  EXPECT_DOUBLE_EQ(PlanLayerActivationBytes(m, p, s), 402653184.0);
}

// torchtitan's op-level checkpointing keeps 14.5 sbh a layer (OpCheckpointBytes); backward
// reruns one layer whole: Llama 3 8B, micro-batch 2 of 8192 tokens, s b h = 67,108,864.
TEST(FsdpMemory, TorchtitanRecomputedLayerByHand) {
  const Model m{.name = "llama", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 8,
                .ffn_hidden = 14336, .vocab = 128256, .seq_len = 8192, .mlp = MlpKind::kSwiglu,
                .rms_norm = true};
  const Plan p{.dp = 8, .micro_batch = 2, .recompute = Recompute::kSelective, .zero_stage = 3};
  TrainingSetup s{.global_batch = 16, .seq_len = 8192, .framework = Framework::kTorchtitan};
  const double sbh = 67108864.0;
  EXPECT_DOUBLE_EQ(PlanLayerActivationBytes(m, p, s), 14.5 * sbh);
  // Whole layer: norm inputs 4, QKV and gate/up inputs 2 each, Q 2 + K and V 4 x 1/4 + attention
  // output 2, SwiGLU's gate, up and product 6 x 3.5: 34 sbh; less the 14.5 kept = 19.5 sbh.
  EXPECT_DOUBLE_EQ(RecomputedLayerBytes(m, p, s, 14.5 * sbh), 19.5 * sbh);
  // Eager: RMSNorm's fp32 copies 8 sbh and silu's output 2 s b f = 7 sbh more: 34.5 sbh.
  s.fused_elementwise = false;
  EXPECT_DOUBLE_EQ(RecomputedLayerBytes(m, p, s, 14.5 * sbh), 34.5 * sbh);
  // Megatron's selective recomputation reruns attention's core only (flash: nothing kept).
  s.framework = Framework::kMegatron;
  EXPECT_DOUBLE_EQ(RecomputedLayerBytes(m, p, s, 14.5 * sbh), 0.0);
}

// --framework fsdp: FSDP1's strategies are NO_SHARD, SHARD_GRAD_OP and FULL_SHARD (no ZeRO-1),
// and Composer has no pipeline parallelism to shard across.
TEST(FsdpMemory, FsdpFrameworkRunsZeroZeroTwoOrThreeWithoutPipelines) {
  SpecInput in;
  in.model = "llama3-8b";
  in.gpu = "h100-sxm";
  in.gpus = 8;
  in.global_batch = 64;
  in.seq_len = 2048;
  in.framework = "fsdp";
  const Specs s = BuildSpecs(in, BuiltinCatalog());
  EXPECT_EQ(s.setup.framework, Framework::kFsdp);
  EXPECT_TRUE(s.setup.fp32_grads);  // Composer's DEFAULT mixed precision reduces in fp32
  const SearchLimits limits{.allow_cross_node_tp = true, .allow_comm_bound = true};
  auto check = [&](const Plan& p) { return CheckStructure(s.model, s.cluster, p, s.setup, limits); };
  EXPECT_EQ(check(Plan{.dp = 8, .grad_accum = 8, .zero_stage = 3}), Reason::kFeasible);
  EXPECT_EQ(check(Plan{.dp = 8, .grad_accum = 8, .zero_stage = 2}), Reason::kFeasible);
  EXPECT_EQ(check(Plan{.dp = 8, .grad_accum = 8, .zero_stage = 1}), Reason::kUnsupported);
  EXPECT_EQ(check(Plan{.pp = 2, .dp = 4, .grad_accum = 16, .zero_stage = 3}),
            Reason::kUnsupported);
  // The search offers no ZeRO-1 plan either.
  const SearchResult found = Search(s.model, s.cluster, s.setup, SearchOptions{.top = 20});
  EXPECT_FALSE(found.plans.empty());
  for (const Evaluation& e : found.plans) {
    EXPECT_NE(e.plan.zero_stage, 1);
  }
}

}  // namespace
}  // namespace planner
