// The memory model against Megatron-LM's own accounting
// (megatron/training/theoretical_memory_usage.py, which assumes selective recomputation and
// sequence parallelism), and its invariants.
#include <gtest/gtest.h>

#include "planner/input/catalog.h"
#include "planner/cost/compute_model.h"
#include "planner/cost/memory_model.h"
#include "planner/cost/step_time.h"
#include "planner/input/specs.h"
#include "planner/model/units.h"

namespace planner {
namespace {

// Megatron's compute_weight_and_optimizer_memory for the first pipeline stage (pp > 1, untied):
// params = (N_layers / pp + h V) / tp with N_layers = 2 L h^2 ((1 + g) + 1.5 f/h + 2/h + 1/(L h))
// for SwiGLU, bytes/param = 6 + 12/dp with the distributed optimizer.
double MegatronStage0Params(double L, double h, double g, double f, double V, double pp,
                            double tp, bool swiglu) {
  const double mlp = (swiglu ? 1.5 : 1.0) * f / h;
  const double layers = 2 * L * h * h * ((1 + g) + mlp + 2 / h + 1 / (L * h));
  return (layers / pp + h * V) / tp;
}

// Megatron's compute_activation_memory: [s b h (18 + 4 f/h) L + 8 s b p + s b h p] / tp.
double MegatronStage0Activations(double s, double b, double h, double f, double L, double pp,
                                 double tp, double vp) {
  double act = s * b * h * (18 + 4 * f / h) * L + 8 * s * b * pp + s * b * h * pp;
  if (vp > 1) act *= 1 + (pp - 1) / (pp * vp);
  return act / tp;
}

TEST(MemoryModel, Llama2_70bTp8Pp8MatchesMegatronFormula) {
  const Model m = FindModel(BuiltinCatalog(), "llama2-70b", "test");
  const Plan p{.tp = 8, .pp = 8, .dp = 8, .micro_batch = 1, .grad_accum = 128,
               .recompute = Recompute::kSelective, .zero_stage = 1, .sequence_parallel = true};
  const TrainingSetup s{.global_batch = 1024, .seq_len = 4096};
  const MemoryBreakdown mem = StageMemory(m, p, s, 0);

  // Weights and optimizer: L = 80, h = 8192, g = 8/64, f = 28672, V = 32000.
  // N_layers = 2*80*8192^2 * (1.125 + 5.25 + 2/8192 + 1/655360) = 68,453,679,104 (Megatron);
  // stage 0 = (68,453,679,104 / 8 + 262,144,000) / 8 = 1,102,356,736 parameters.
  const double megatron = MegatronStage0Params(80, 8192, 0.125, 28672, 32000, 8, 8, true);
  EXPECT_DOUBLE_EQ(megatron, 1102356736.0);
  // Megatron assumes LayerNorm (weight + bias: 4h per layer) and spreads the final norm (2h)
  // over the stages; Llama's RMSNorm has 2h per layer and its final norm is on the last stage:
  // 10 layers x 2h / tp + 2h / (pp tp) = 20,480 + 256 fewer parameters on stage 0.
  const double ours = megatron - 10 * 2 * 8192 / 8.0 - 2 * 8192 / 64.0;
  EXPECT_DOUBLE_EQ(StageParameters(m, CountParameters(m), p, 0), ours);
  // Bytes: 2 (bf16 weights) + 4 (fp32 main grads) + 12 / dp (distributed optimizer) = 7.5.
  EXPECT_DOUBLE_EQ(mem.weights + mem.gradients + mem.optimizer, ours * (6 + 12.0 / 8));
  EXPECT_NEAR((mem.weights + mem.gradients + mem.optimizer) / kGiB, 7.70, 0.005);

  // Activations: Megatron's 18 + 4 f/h assumes dropout masks (2sbh), MHA K and V (4sbh) and a
  // two-matrix MLP (4sbf). Llama-2 has no dropout (-2), GQA keeps K and V at kv/heads = 1/8
  // (-3.5) and fused SwiGLU keeps 6sbf (+2 f/h = +7): +1.5 sbh per layer; no embedding dropout.
  const double sbh = 4096.0 * 1 * 8192;
  const double meg_act = MegatronStage0Activations(4096, 1, 8192, 28672, 80, 8, 8, 1);
  EXPECT_DOUBLE_EQ(meg_act, (sbh * 32 * 80 + 8 * 4096.0 * 8 + sbh * 8) / 8);
  EXPECT_DOUBLE_EQ(mem.activations, meg_act + 80 * 1.5 * sbh / 8 - sbh * 8 / 8);
  // Megatron: 10,771,005,440 bytes; ours: + 80 x 1.5 sbh / 8 - sbh = 11,240,767,488 = 10.47 GiB.
  EXPECT_DOUBLE_EQ(mem.activations, 11240767488.0);
}

TEST(MemoryModel, GptShapeMatchesMegatronFormulaExactly) {
  // A model with exactly Megatron's assumptions: MHA, GELU, ffn 4h, dropout, LayerNorm, untied.
  const Model m{.name = "gpt", .layers = 48, .hidden = 6144, .heads = 64, .kv_heads = 64,
                .ffn_hidden = 24576, .vocab = 51200, .seq_len = 2048, .dropout = true};
  for (int vp : {1, 3}) {
    const Plan p{.tp = 8, .pp = 4, .dp = 4, .micro_batch = 2, .grad_accum = 16,
                 .recompute = Recompute::kSelective, .zero_stage = 1, .sequence_parallel = true,
                 .virtual_stages = vp};
    const TrainingSetup s{.global_batch = 128, .seq_len = 2048};
    const MemoryBreakdown mem = StageMemory(m, p, s, 0);
    const double params = MegatronStage0Params(48, 6144, 1, 24576, 51200, 4, 8, false);
    // Only the final LayerNorm differs: Megatron spreads its 2h over the stages.
    EXPECT_DOUBLE_EQ(StageParameters(m, CountParameters(m), p, 0), params - 2 * 6144 / 32.0);
    EXPECT_DOUBLE_EQ(mem.activations,
                     MegatronStage0Activations(2048, 2, 6144, 24576, 48, 4, 8, vp))
        << "vp " << vp;
  }
}

TEST(MemoryModel, ZeroStagesShardStatesOverDataParallel) {
  const Model m = FindModel(BuiltinCatalog(), "llama2-7b", "test");
  const TrainingSetup s{.global_batch = 64, .seq_len = 4096};
  Plan p{.dp = 8, .micro_batch = 1, .grad_accum = 8};
  const double params = StageParameters(m, CountParameters(m), p, 0);
  const MemoryBreakdown z0 = StageMemory(m, p, s, 0);
  EXPECT_DOUBLE_EQ(z0.weights + z0.gradients + z0.optimizer, params * 18);
  p.zero_stage = 1;
  const MemoryBreakdown z1 = StageMemory(m, p, s, 0);
  EXPECT_DOUBLE_EQ(z1.weights + z1.gradients + z1.optimizer, params * (2 + 4 + 12.0 / 8));
  p.zero_stage = 2;
  const MemoryBreakdown z2 = StageMemory(m, p, s, 0);
  EXPECT_DOUBLE_EQ(z2.weights + z2.gradients + z2.optimizer, params * (2 + 16.0 / 8));
  p.zero_stage = 3;
  const MemoryBreakdown z3 = StageMemory(m, p, s, 0);
  EXPECT_DOUBLE_EQ(z3.weights + z3.gradients + z3.optimizer, params * 18.0 / 8);
}

TEST(MemoryModel, ActivationsGrowWithMicroBatch) {
  const Model m = FindModel(BuiltinCatalog(), "llama3-8b", "test");
  const TrainingSetup s{.global_batch = 256, .seq_len = 8192};
  double previous = 0;
  for (int mb : {1, 2, 4, 8}) {
    const Plan p{.tp = 2, .pp = 2, .dp = 2, .micro_batch = mb, .grad_accum = 128 / mb};
    const double total = TrainingMemory(m, p, s).total();
    EXPECT_GT(total, previous) << "micro-batch " << mb;
    previous = total;
  }
}

TEST(MemoryModel, NaiveScheduleHoldsTwoNMinusOneMicroBatches) {
  const Model m = FindModel(BuiltinCatalog(), "llama2-70b", "test");
  const Plan p{.tp = 8, .pp = 8, .dp = 1, .micro_batch = 1, .grad_accum = 64,
               .recompute = Recompute::kFull};
  TrainingSetup s{.global_batch = 64, .seq_len = 4096};
  const double one_f_one_b = StageMemory(m, p, s, 0).activations;
  s.schedule = Schedule::kNaive;
  const double naive = StageMemory(m, p, s, 0).activations;
  // Everything on stage 0 scales with the micro-batches in flight, 15 against 8, but the one
  // layer backward recomputes at a time (whole, as without recomputation).
  const double working = RecomputedLayerBytes(m, p, s, PlanLayerActivationBytes(m, p, s));
  EXPECT_DOUBLE_EQ((naive - working) / (one_f_one_b - working), 15.0 / 8.0);
}

TEST(MemoryModel, ServingKvCacheIsGqaAware) {
  const Model m = FindModel(BuiltinCatalog(), "llama2-70b", "test");
  // 2 * 80 layers * 8 kv heads * 128 head_dim * 2 bytes = 327,680 bytes per token.
  const ServingMemory mem = InferenceMemory(m, 2.0, 2.0, 4, 4096);
  EXPECT_DOUBLE_EQ(mem.kv_cache, 327680.0 * 4 * 4096);
}

}  // namespace
}  // namespace planner

namespace planner {
namespace {

// DeepSeek-V3's published layout (PP 16, EP 64, ZeRO-1 over 2048 GPUs, no TP): a routed
// expert's copies sit on dp / ep = 128 / 64 = 2 ranks, its expert-data-parallel group, so its
// optimizer states shard over 2, not over all 128 data-parallel ranks (Megatron's
// expert_data_parallel_group; the distributed optimizer shards each group's buffers over it).
TEST(MemoryModel, ExpertStatesShardOverTheExpertDataParallelGroup) {
  const Model m = FindModel(BuiltinCatalog(), "deepseek-v3", "test");
  Plan p{.tp = 1, .pp = 16, .dp = 128, .ep = 64, .micro_batch = 1, .grad_accum = 8,
         .zero_stage = 1, .first_stage_layers = 1};
  const TrainingSetup s{.global_batch = 1024, .seq_len = 4096};
  const ParamCounts counts = CountParameters(m);
  // Stage 2 holds layers 5-8 (the first stage has 1, the rest 60 / 15 = 4); the 3 dense layers
  // are 0-2, so all 4 are MoE: 4 x (256 experts x 3 x 7168 x 2048 + the 256 x 7168 router,
  // which the planner counts with the experts) / ep 64 = 4 x 176,189,440 = 704,757,760.
  const double expert = StageExpertParameters(m, counts, p, 2);
  EXPECT_DOUBLE_EQ(expert, 704757760.0);
  const double dense = StageParameters(m, counts, p, 2) - expert;
  // AdamW in mixed precision: 12 bytes a parameter (fp32 master, momentum, variance). The
  // experts' share: 12 x 704,757,760 / 2 = 4,228,546,560 bytes (3.94 GiB); over 128 ranks it
  // was 66,071,040 bytes.
  EXPECT_DOUBLE_EQ(StageMemory(m, p, s, 2).optimizer, 12.0 * dense / 128 + 4228546560.0);
  // ZeRO-2 shards the gradients over the same groups; weights stay whole.
  p.zero_stage = 2;
  const double grad_bytes = StateBytesPerParam(s).gradients;
  const MemoryBreakdown zero2 = StageMemory(m, p, s, 2);
  EXPECT_DOUBLE_EQ(zero2.gradients, grad_bytes * (dense / 128 + expert / 2));
  EXPECT_DOUBLE_EQ(zero2.weights, 2.0 * (dense + expert));
}

// DeepSeek-V3's MTP module (num_nextn_predict_layers 1) runs on the last stage: one MoE layer
// (attention 187.1M, 256 experts + router 11,276,124,160, shared expert 44.0M), the 2h x h
// projection (102.8M) and norms. Per GPU at EP 64: the 176,189,440 expert parameters' share and
// the other 333.9M whole; weights, states and a layer's activations count there.
TEST(MemoryModel, MtpModuleSitsOnTheLastStage) {
  const Model m = FindModel(BuiltinCatalog(), "deepseek-v3", "test");
  Model no_mtp = m;
  no_mtp.mtp_layers = 0;
  const Plan p{.tp = 1, .pp = 16, .dp = 128, .ep = 64, .micro_batch = 1, .grad_accum = 8,
               .zero_stage = 1, .first_stage_layers = 1};
  const TrainingSetup s{.global_batch = 1024, .seq_len = 4096};
  auto last = [&](const Model& x, auto f) { return f(x, CountParameters(x), p, 15); };
  const double extra = last(m, StageParameters) - last(no_mtp, StageParameters);
  const double extra_experts = last(m, StageExpertParameters) - last(no_mtp, StageExpertParameters);
  EXPECT_DOUBLE_EQ(extra_experts, 176189440.0);
  EXPECT_NEAR(extra - extra_experts, 333.9e6, 0.1e6);
  EXPECT_GT(StageMemory(m, p, s, 15).activations, StageMemory(no_mtp, p, s, 15).activations);
  // The other stages are as they were.
  EXPECT_DOUBLE_EQ(StageMemory(m, p, s, 14).total(), StageMemory(no_mtp, p, s, 14).total());
}

// The MTP module's time, too, is the last stage's: one more MoE layer and one more pass of the
// shared output head per micro-batch (DeepSeek-V3 sec. 2.2), forward plus twice that backward,
// stretched by the architecture's step overhead; and its FLOPs count in the model's. At PP 16
// with one layer first, the last stage runs 4 layers, so it stays the slowest stage.
TEST(MemoryModel, MtpModuleAddsALayerAndAHeadPassToTheLastStage) {
  const Model m = FindModel(BuiltinCatalog(), "deepseek-v3", "test");
  Model no_mtp = m;
  no_mtp.mtp_layers = 0;
  SpecInput in;
  in.model = "deepseek-v3";
  in.gpu = "h800";
  in.gpus = 2048;
  const Specs specs = BuildSpecs(in, BuiltinCatalog());
  const Plan p{.tp = 1, .pp = 16, .dp = 128, .ep = 64, .micro_batch = 1, .grad_accum = 8,
               .zero_stage = 1, .first_stage_layers = 1};
  const ForwardCosts f = ForwardPass(m, specs.cluster, p, specs.setup);
  const double layer = f.moe.gemm + f.moe.attention + f.moe.elementwise;
  const double expected = 3.0 * (layer + f.logits) * (1.0 + f.eff.step_overhead) * 8;
  const double with = StepTime(m, specs.cluster, p, specs.setup).compute;
  const double without = StepTime(no_mtp, specs.cluster, p, specs.setup).compute;
  EXPECT_NEAR(with - without, expected, 1e-9 * with);
  const ForwardFlops per_seq = CountForwardFlops(m, 4096, 1);
  const double module = per_seq.attention_linear + per_seq.attention_core + per_seq.mlp +
                        per_seq.logits;
  EXPECT_NEAR(ModelFlopsPerStep(m, 4096, 1024) - ModelFlopsPerStep(no_mtp, 4096, 1024),
              3.0 * module * 1024, 1e-9 * ModelFlopsPerStep(m, 4096, 1024));
}

}  // namespace
}  // namespace planner
