// Every figure of ../shared/reference/formulas.md, sections 1-8, reproduced from our functions.
// Where the article's arithmetic slips, formulas.md gives the right figure and we assert that.
#include <gtest/gtest.h>

#include "planner/input/catalog.h"
#include "planner/cost/collectives.h"
#include "planner/cost/compute_model.h"
#include "planner/search/evaluate.h"
#include "planner/cost/memory_model.h"
#include "planner/model/units.h"

namespace planner {
namespace {

// A GPT-shaped model as the articles assume it: MHA, GELU with ffn = 4h, dropout, LayerNorm.
Model GptShape(int64_t layers, int64_t hidden, int64_t heads, int64_t seq) {
  return Model{.name = "gpt-shape", .layers = layers, .hidden = hidden, .heads = heads,
               .kv_heads = heads, .ffn_hidden = 4 * hidden, .vocab = 51200, .seq_len = seq,
               .mlp = MlpKind::kGelu, .dropout = true};
}

Model FromCatalog(const std::string& name) {
  return FindModel(BuiltinCatalog(), name, "test");
}

// Section 1: M = P * 4 / (32 / Q) * 1.2.
TEST(Formulas, QuickServingRuleSection1) {
  EXPECT_DOUBLE_EQ(QuickServingBytes(70e9, 16), 168e9);
  EXPECT_NEAR(QuickServingBytes(70e9, 16) / kGiB, 156.5, 0.05);
  EXPECT_DOUBLE_EQ(QuickServingBytes(70e9, 32), 336e9);
  EXPECT_DOUBLE_EQ(QuickServingBytes(70e9, 8), 84e9);
  EXPECT_DOUBLE_EQ(QuickServingBytes(70e9, 4), 42e9);
  // "one 80 GiB A100 is not enough, two are".
  EXPECT_EQ(GpusNeeded(QuickServingBytes(70e9, 16), 80 * kGiB), 2);
}

// Section 2: weights = P * bytes per parameter, with the articles' P.
TEST(Formulas, InferenceWeightsByPrecisionSection2) {
  // The quick rule less its 1.2 margin is P x bytes: the articles' figures for their P.
  EXPECT_NEAR(QuickServingBytes(104e9, 16) / 1.2 / kGiB, 193.72, 0.005);   // Command-R+
  EXPECT_NEAR(QuickServingBytes(141e9, 16) / 1.2 / kGiB, 262.63, 0.005);   // Mixtral-8x22B
  EXPECT_NEAR(QuickServingBytes(70.6e9, 16) / 1.2 / kGiB, 131.5, 0.05);    // Llama 3 70B
  // The same through the serving model and our catalog's computed counts (within 1 %).
  const Model cr = FromCatalog("command-r-plus");
  EXPECT_NEAR(InferenceMemory(cr, 2.0, 2.0, 1, 1).weights / kGiB, 193.72, 193.72 * 0.01);
  const Model mx = FromCatalog("mixtral-8x22b");
  EXPECT_NEAR(InferenceMemory(mx, 2.0, 2.0, 1, 1).weights / kGiB, 262.63, 262.63 * 0.01);
  const Model l3 = FromCatalog("llama3-70b");
  EXPECT_NEAR(InferenceMemory(l3, 2.0, 2.0, 1, 1).weights / kGiB, 131.5, 131.5 * 0.01);
  // ChatGLM-6B with the article's P = 6e9: int8 6 GB, fp16 12 GB, fp32 24 GB; serving 14.4 GB.
  EXPECT_DOUBLE_EQ(QuickServingBytes(6e9, 16), 14.4e9);
  EXPECT_DOUBLE_EQ(QuickServingBytes(6e9, 16) / 1.2, 12e9);
  EXPECT_DOUBLE_EQ(QuickServingBytes(6e9, 32) / 1.2, 24e9);
  EXPECT_DOUBLE_EQ(QuickServingBytes(6e9, 8) / 1.2, 6e9);
  // 4-bit divides the 16-bit weight memory by 4.
  EXPECT_DOUBLE_EQ(QuickServingBytes(70e9, 16) / QuickServingBytes(70e9, 4), 4.0);
}

// Section 3: Korthikanti et al. 2022 Table 2 for ChatGLM-6B's shape (s = 2048, b = 1, t = 1).
TEST(Formulas, LayerActivationsMatchKorthikantiSection3) {
  const Model m = GptShape(28, 4096, 32, 2048);
  const double sbh = 2048.0 * 1 * 4096;
  // 34 + 5as/h = 34 + 5 * 32 * 2048 / 4096 = 114.
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kNone, false), 114 * sbh);
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kSelective, false),
                   34 * sbh);
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kFull, false), 2 * sbh);
  // Times L = 28: s*b*h*L = 0.235e9; 26.8e9, 7.99e9 and 0.47e9 bytes.
  const double sbhl = sbh * 28;
  EXPECT_NEAR(sbhl, 0.235e9, 0.0005e9);
  EXPECT_NEAR(28 * LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kNone, false), 26.8e9,
              0.05e9);
  EXPECT_NEAR(28 * LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kSelective, false),
              7.99e9, 0.01e9);
  EXPECT_NEAR(28 * LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kFull, false), 0.47e9,
              0.005e9);
  // Tensor parallel t = 8: sbh (10 + 24/t + 5as/(ht)); with sequence parallelism all over t.
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 8, false, Recompute::kNone, false),
                   sbh * (10 + 24.0 / 8 + 5.0 * 32 * 2048 / (4096.0 * 8)));
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 8, false, Recompute::kSelective, false),
                   sbh * (10 + 24.0 / 8));
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 8, true, Recompute::kSelective, false),
                   34 * sbh / 8);
  // Attention block 11sbh + 5as^2b, MLP 19sbh, norms 4sbh: with fused attention keeping no
  // scores, 34sbh is what is left.
  EXPECT_DOUBLE_EQ(LayerActivationBytes(m, 2048, 1, 1, false, Recompute::kNone, true), 34 * sbh);
}

// Section 4: model states for mixed precision with the articles' 16-bit gradients.
TEST(Formulas, TrainingStatesSection4) {
  TrainingSetup s{.precision = Precision::kBf16, .fp32_grads = false};
  StateBytes b = StateBytesPerParam(s);
  EXPECT_DOUBLE_EQ(6e9 * b.weights, 12e9);
  EXPECT_DOUBLE_EQ(6e9 * b.gradients, 12e9);
  EXPECT_DOUBLE_EQ(6e9 * b.optimizer, 72e9);
  s.optimizer = Optimizer::kAdamW8bit;
  EXPECT_DOUBLE_EQ(6e9 * StateBytesPerParam(s).optimizer, 36e9);
  s.optimizer = Optimizer::kSgdMomentum;
  EXPECT_DOUBLE_EQ(6e9 * StateBytesPerParam(s).optimizer, 48e9);  // not the article's "36 GB"
  // fp32 training: 4-byte weights and gradients, no master copy.
  const StateBytes fp32 = StateBytesPerParam(TrainingSetup{.precision = Precision::kFp32});
  EXPECT_DOUBLE_EQ(fp32.weights + fp32.gradients + fp32.optimizer, 16.0);
  // ChatGLM-6B total: 12 + 72 + 12 + 7.8 (selective activations) = about 103 GB.
  const double act = 28 * LayerActivationBytes(GptShape(28, 4096, 32, 2048), 2048, 1, 1, false,
                                               Recompute::kSelective, false);
  b = StateBytesPerParam(TrainingSetup{.precision = Precision::kBf16, .fp32_grads = false});
  EXPECT_NEAR((6e9 * (b.weights + b.gradients + b.optimizer) + act) / 1e9, 104.0, 1.0);
}

TEST(Formulas, Llama2_70bTrainingNeeds1850GbSection4) {
  const TrainingSetup s{.precision = Precision::kBf16, .fp32_grads = false};
  const StateBytes b = StateBytesPerParam(s);
  const double p = 70e9;
  EXPECT_DOUBLE_EQ(p * b.weights, 140e9);
  EXPECT_DOUBLE_EQ(p * b.gradients, 140e9);
  EXPECT_DOUBLE_EQ(p * b.optimizer, 840e9);
  // h = 8192, L = 80, a = 64, s = 4096, b = 8, t = 1, selective: 4096 * 8 * 8192 * 80 * 34.
  const Model m = GptShape(80, 8192, 64, 4096);
  const double act = 80 * LayerActivationBytes(m, 4096, 8, 1, false, Recompute::kSelective, false);
  EXPECT_DOUBLE_EQ(act, 4096.0 * 8 * 8192 * 80 * 34);
  EXPECT_NEAR(act, 730e9, 1e9);
  const double total = 140e9 + 140e9 + 840e9 + act;
  EXPECT_NEAR(total, 1850e9, 1e9);
  EXPECT_EQ(GpusNeeded(total, 80e9), 24);  // "at least 24 GPUs of 80 GB"
  EXPECT_EQ(GpusNeeded(total, 24e9), 78);  // "at least 78 RTX 4090s of 24 GB"
}

// Section 5: 6 * P * tokens; one micro-batch of 8 x 4096 tokens through 1e9 parameters.
TEST(Formulas, TrainingComputeSection5) {
  const double flops = TrainingFlops(1e9, 8.0 * 4096);
  EXPECT_NEAR(flops, 196.6e12, 0.05e12);
  EXPECT_NEAR(flops / 330e12, 0.6, 0.005);  // on a 330 TFLOP/s RTX 4090 (the article's peak)
}

// Section 6: ratio(t) = 6 (h / t) / bytes against peak / one-way bandwidth.
TEST(Formulas, TensorParallelRatioSection6) {
  // RTX 4090 at the article's 330 TFLOP/s over PCIe Gen4 (32 GB/s one way): about 10 000, t = 2.4.
  EXPECT_NEAR(TpMax(8192, 2, 330e12, 32e9), 2.4, 0.05);
  // H100 (989 TFLOP/s), NVLink 4 at 450 GB/s one way: t_max = 11.
  EXPECT_NEAR(TpMax(8192, 2, 989e12, 450e9), 11.2, 0.05);
  // One head per GPU, t = 64: ratio 384, needing 859 GB/s one way, 1.7 TB/s both ways.
  EXPECT_DOUBLE_EQ(TpComputeCommRatio(8192, 64, 2), 384);
  // The link that keeps t = 64 compute-bound: t_max = 64 at 859 GB/s one way (1.72 TB/s both).
  EXPECT_NEAR(TpMax(8192, 2, 330e12, 859.4e9), 64.0, 0.05);
}

// Section 6 applied by the search: our catalog's RTX 4090 (165.2 TFLOP/s dense bf16 with fp32
// accumulate) over PCIe Gen4 allows t <= 4.77, so tp 8 is pruned and tp 4 kept.
TEST(Formulas, CommBoundTensorParallelIsPruned) {
  const Catalog c = BuiltinCatalog();
  const Model m = FromCatalog("llama2-70b");
  const Cluster cluster{.gpu = FindGpu(c, "4090", "t"), .gpus = 2048,
                        .intra = FindLink(c, "pcie4", "t"), .inter = FindLink(c, "ib-hdr", "t")};
  const TrainingSetup s{.global_batch = 1024, .seq_len = 4096};
  EXPECT_NEAR(TpMax(8192, 2, cluster.gpu.bf16_flops, cluster.intra.one_way_bytes_per_s), 4.77,
              0.01);
  Plan p{.tp = 8, .pp = 8, .dp = 32, .micro_batch = 1, .grad_accum = 32};
  EXPECT_EQ(CheckStructure(m, cluster, p, s, {}), Reason::kCommBound);
  p = Plan{.tp = 4, .pp = 8, .dp = 64, .micro_batch = 1, .grad_accum = 16};
  EXPECT_EQ(CheckStructure(m, cluster, p, s, {}), Reason::kFeasible);
}

// Section 7: the naive schedule holds 2N - 1 micro-batches on the first stage; 1F1B holds N;
// interleaved N (1 + (N - 1) / (N v)).
TEST(Formulas, PipelineInFlightMicroBatchesSection7) {
  EXPECT_DOUBLE_EQ(InFlightMicroBatches(Schedule::kNaive, 80, 1, 1000), 159);  // article: "160"
  EXPECT_DOUBLE_EQ(InFlightMicroBatches(Schedule::kNaive, 8, 1, 1000), 15);    // article: "16"
  EXPECT_DOUBLE_EQ(InFlightMicroBatches(Schedule::k1F1B, 8, 1, 1000), 8);
  EXPECT_DOUBLE_EQ(InFlightMicroBatches(Schedule::k1F1B, 8, 1, 3), 3);
  EXPECT_DOUBLE_EQ(InFlightMicroBatches(Schedule::kGPipe, 8, 1, 64), 64);
  EXPECT_DOUBLE_EQ(InFlightMicroBatches(Schedule::k1F1B, 8, 3, 64), 8 * (1 + 7.0 / 24));
}

TEST(Formulas, DataParallelOverPipelineSection7) {
  // fp32 gradients of one 1e9-parameter layer: 4 GB over PCIe Gen4 (32 GB/s one way).
  const double once = SendSeconds(4e9, 32e9, 0);
  EXPECT_NEAR(once, 0.12, 0.006);
  EXPECT_NEAR(2 * once, 0.24, 0.011);
  // 80 micro-batches of section 5's 0.6 s each (8 x 4096 tokens through 1e9 parameters at
  // 330 TFLOP/s): a step of about 48 s.
  EXPECT_NEAR(80 * TrainingFlops(1e9, 8.0 * 4096) / 330e12, 48, 0.5);
}

// Section 8: global batch = micro-batch x dp x accumulation; the plan check enforces it.
TEST(Formulas, BatchIdentitySection8) {
  const Model m = GptShape(4, 256, 4, 128);
  const Cluster c{.gpu = Gpu{.bf16_flops = 1e12}, .gpus = 1,
                  .intra = Link{.one_way_bytes_per_s = 1e9}};
  const TrainingSetup s{.global_batch = 10, .seq_len = 128};
  // Micro-batch 5 with accumulation 2 is still batch 10.
  EXPECT_EQ(CheckStructure(m, c, Plan{.micro_batch = 5, .grad_accum = 2}, s, {}),
            Reason::kFeasible);
  EXPECT_EQ(CheckStructure(m, c, Plan{.micro_batch = 5, .grad_accum = 3}, s, {}),
            Reason::kIndivisible);
  // Per-GPU micro-batch 8 over 2048 data-parallel GPUs: a global batch of 16 384 sequences.
  const Cluster big{.gpu = c.gpu, .gpus = 2048, .gpus_per_node = 8, .intra = c.intra};
  const TrainingSetup wide{.global_batch = 16384, .seq_len = 128};
  EXPECT_EQ(CheckStructure(m, big, Plan{.dp = 2048, .micro_batch = 8}, wide, {}),
            Reason::kFeasible);
  EXPECT_EQ(CheckStructure(m, big, Plan{.dp = 2048, .micro_batch = 4}, wide, {}),
            Reason::kIndivisible);
}

}  // namespace
}  // namespace planner
