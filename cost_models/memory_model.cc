#include "planner/cost/memory_model.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "planner/cost/activation_offload.h"
#include "planner/cost/framework.h"
#include "planner/cost/recompute_layers.h"
#include "planner/cost/zero3.h"
#include "planner/model/units.h"

namespace planner {
namespace {

// MoE layers sit after the dense ones: those of stage `stage`'s `layers`.
int64_t StageMoeLayers(const Model& m, const Plan& p, int stage, int64_t layers) {
  if (!IsMoe(m)) return 0;
  const int64_t first_layer = stage == 0 ? 0 : StageLayers(m, p, 0) +
                                                   (stage - 1) * StageLayers(m, p, 1);
  return MoeLayersIn(m, first_layer, layers);
}

// Experts are spread over the expert-parallel ranks, then split by tensor parallelism.
double ExpertParams(const ParamCounts& c, const Plan& p, int64_t moe_count) {
  return static_cast<double>(moe_count) * c.expert_mlp_per_layer / (p.ep * p.tp);
}

// DeepSeek-V3 sec. 2.2: the MTP modules run after the last layer, on the last stage, which
// already holds the embedding and output head they share. Each is a layer of the last kind
// (MoE: its routed experts) plus its projection and norms (ParamCounts::mtp).
double MtpExpertParams(const Model& m, const ParamCounts& c, const Plan& p) {
  return IsMoe(m) ? ExpertParams(c, p, m.mtp_layers) : 0.0;
}
double MtpParams(const Model& m, const ParamCounts& c, const Plan& p) {
  const double experts =
      IsMoe(m) ? static_cast<double>(m.mtp_layers) * c.expert_mlp_per_layer : 0.0;
  return (c.mtp - experts) / p.tp + MtpExpertParams(m, c, p);
}

double StageParams(const Model& m, const ParamCounts& c, const Plan& p, int stage,
                   int64_t layers) {
  const int64_t moe_count = StageMoeLayers(m, p, stage, layers);
  const int64_t dense_count = layers - moe_count;
  double params = static_cast<double>(layers) * (c.attention_per_layer + c.norms_per_layer) +
                  static_cast<double>(dense_count) * c.dense_mlp_per_layer;
  params /= p.tp;
  params += ExpertParams(c, p, moe_count) +
            static_cast<double>(moe_count) * c.shared_mlp_per_layer / p.tp;
  const bool first = stage == 0;
  const bool last = stage == p.pp - 1;
  if (first) params += c.embedding / p.tp;
  // With tied embeddings and pp > 1 the last stage keeps its own copy for the output layer.
  if (last) params += (m.tied_embeddings ? (p.pp > 1 ? c.embedding : 0.0) : c.output) / p.tp;
  if (last) params += c.final_norm / p.tp + MtpParams(m, c, p);
  return params;
}

}  // namespace

StateBytes StateBytesPerParam(const TrainingSetup& s) {
  const bool mixed = s.precision != Precision::kFp32 && s.precision != Precision::kTf32;
  // formulas.md section 4: AdamW keeps an fp32 master copy (mixed precision only), momentum
  // and variance; 8-bit AdamW keeps 1-byte moments; SGD keeps the momentum.
  const double master = mixed ? 4.0 : 0.0;
  double moments = 8.0;
  if (s.optimizer == Optimizer::kAdamW8bit) moments = 2.0;
  if (s.optimizer == Optimizer::kSgdMomentum) moments = 4.0;
  return StateBytes{
      .weights = mixed ? 2.0 : 4.0,
      .gradients = (mixed && !s.fp32_grads) ? 2.0 : 4.0,
      .optimizer = master + moments,
  };
}

double LayerActivationBytes(const Model& m, int64_t seq, int64_t micro_batch, int tp, bool sp,
                            Recompute r, bool flash_attention, bool fp8_inputs) {
  const double s = static_cast<double>(seq);
  const double b = static_cast<double>(micro_batch);
  const double h = static_cast<double>(m.hidden);
  const double t = static_cast<double>(tp);
  const double sbh = s * b * h;
  // Korthikanti et al. 2022, section 4.2: full recomputation keeps only the layer's input.
  if (r == Recompute::kFull) return 2.0 * sbh / (sp ? t : 1.0);
  const double drop = m.dropout ? 1.0 : 0.0;
  const AttentionShape a = AttentionOf(m);
  const double q = a.q_width / h;                        // query width / h
  const double kv = (a.k_width + a.v_width) / (2.0 * h);  // key (and value) width / h
  const double f = static_cast<double>(IsMoe(m) ? ExpertFfnHidden(m) : m.ffn_hidden);
  const double k = IsMoe(m) ? static_cast<double>(m.experts_per_token) : 1.0;
  // Replicated across TP ranks unless sequence parallel: two norm inputs (4sbh), the inputs of
  // the QKV and first MLP matmuls (2sbh each), two dropout masks (sbh each). = 10sbh in the paper.
  // With fp8 matmuls, Transformer Engine keeps each matmul's input in fp8: 1 byte, not 2.
  const double in = fp8_inputs ? 1.0 : 2.0;
  const double replicated = (4.0 + 2.0 * in + 2.0 * drop) * sbh;
  // Split by TP: Q, K, V (2sbh each, K and V scaled by kv/heads), the attention output (2sbh);
  // MLP: GELU keeps fc1's output and GELU's output (4sbf); fused SwiGLU keeps fc1's gate and up
  // outputs and their product (6sbf). = 24sbh / t in the paper for f = 4h.
  const double mlp_factor = (IsGatedMlp(m) ? 4.0 : 2.0) + in;
  double split = ((2.0 + in) * q + 4.0 * kv) * sbh + k * mlp_factor * s * b * f;
  // Attention scores: softmax output 2as^2b, plus dropout mask and output 3as^2b when training
  // with dropout. Selective recomputation, and fused (flash) attention, keep none of it.
  if (r == Recompute::kNone && !flash_attention) {
    split += (2.0 + 3.0 * drop) * static_cast<double>(m.heads) * s * MeanAttendedKeys(m, s) * b;
  }
  return sp ? (replicated + split) / t : replicated + split / t;
}

double InFlightMicroBatches(Schedule s, int pp, int virtual_stages, int grad_accum) {
  const double p = pp;
  const double m = grad_accum;
  switch (s) {
    case Schedule::kGPipe: return m;
    case Schedule::kNaive: return std::min(m, 2.0 * p - 1.0);
    case Schedule::k1F1B:
    case Schedule::kInterleaved: {
      const double v = virtual_stages;
      if (v <= 1) return std::min(m, p);
      // Megatron's interleaved warm-up on the first rank: 2(p-1) + (v-1)p chunks plus the one in
      // flight, each chunk 1/v of a stage: p (1 + (p-1)/(p v)) (Narayanan et al. 2021).
      const double chunks = 2.0 * (p - 1.0) + (v - 1.0) * p + 1.0;
      return std::min(chunks, m * v) / v;
    }
  }
  return m;
}

namespace {

// Micro-batches in flight on pipeline stage `stage` (the first holds the most).
double InFlightOnStage(const TrainingSetup& s, const Plan& p, int stage) {
  const int remaining = p.pp - stage;  // stages from this one to the last
  return InFlightMicroBatches(s.schedule, remaining, p.virtual_stages, p.grad_accum);
}

}  // namespace

double EagerActivationBytes(const Model& m, double tokens, int tp) {
  // RMSNorm's fp32 copy of its input (4 bytes per value, two norms) and SwiGLU's silu output
  // (2 bytes per MLP value); torch.compile fuses both away (torchtune's and torchtitan's norm
  // and MLP modules, 2024).
  const double f = static_cast<double>(IsMoe(m) ? ExpertFfnHidden(m) : m.ffn_hidden);
  const double k = IsMoe(m) ? static_cast<double>(m.experts_per_token) : 1.0;
  const double swiglu = IsGatedMlp(m) ? 2.0 * k * tokens * f / tp : 0.0;
  return 8.0 * tokens * static_cast<double>(m.hidden) + swiglu;
}

double RecomputedLayerBytes(const Model& m, const Plan& p, const TrainingSetup& s,
                            double per_layer) {
  const bool op_level = s.framework == Framework::kTorchtitan;
  if (p.recompute == Recompute::kNone) return 0.0;
  if (p.recompute == Recompute::kSelective && !op_level) return 0.0;
  // Backward reruns one layer's forward at a time and holds all of it until that layer's
  // backward ends: the whole layer, less what its checkpoint already keeps; eager PyTorch also
  // materialises what the fused kernels keep in registers.
  const int64_t seq = s.seq_len / p.cp;
  double whole = LayerActivationBytes(m, seq, p.micro_batch, p.tp, p.sequence_parallel,
                                      Recompute::kNone, s.flash_attention,
                                      s.precision == Precision::kFp8);
  if (!s.fused_elementwise) {
    whole += EagerActivationBytes(m, static_cast<double>(seq) * p.micro_batch, p.tp);
  }
  return std::max(0.0, whole - per_layer);
}

double LossBytes(const Model& m, const TrainingSetup& s, double tokens, int tp) {
  const FrameworkFacts& facts = FactsOf(s.framework);
  // The framework's loss (planner/cost/framework.h: 12 bytes a logit for PyTorch's eager
  // cross-entropy, 4 for Megatron's and flash-attn's fused ones). torch.compile fuses
  // cross_entropy(x.float()) into one kernel each way: the 16-bit logits stay, the 16-bit
  // gradient is written directly, 4 bytes a logit.
  double per_logit = facts.loss_bytes_per_logit;
  if (tp > 1 && facts.tp_loss_bytes_per_logit > 0) per_logit = facts.tp_loss_bytes_per_logit;
  if (s.fused_elementwise && s.compiled_loss) per_logit = std::min(per_logit, 4.0);
  return tokens *
         (per_logit * static_cast<double>(m.vocab) +
          facts.loss_bytes_per_hidden * static_cast<double>(m.hidden)) / tp;
}

MemoryBreakdown StageMemory(const Model& m, const Plan& p, const TrainingSetup& s, int stage) {
  const ParamCounts counts = CountParameters(m);
  return StageMemoryFrom(m, p, s, stage, StageParameters(m, counts, p, stage),
                         StageExpertParameters(m, counts, p, stage),
                         PlanLayerActivationBytes(m, p, s), LayerParameters(m, counts, p));
}

double LayerParameters(const Model& m, const ParamCounts& c, const Plan& p) {
  const double common = c.attention_per_layer + c.norms_per_layer;
  const double dense = (common + c.dense_mlp_per_layer) / p.tp;
  if (!IsMoe(m)) return dense;
  const double moe = (common + c.shared_mlp_per_layer) / p.tp + c.expert_mlp_per_layer / (p.ep * p.tp);
  return std::max(m.dense_layers > 0 ? dense : 0.0, moe);
}

StageParamsSet PlanStageParams(const Model& m, const ParamCounts& counts, const Plan& p) {
  return StageParamsSet{.first = StageParameters(m, counts, p, 0),
                        .second = p.pp > 2 ? StageParameters(m, counts, p, 1) : 0.0,
                        .last = StageParameters(m, counts, p, p.pp - 1),
                        .layer = LayerParameters(m, counts, p),
                        .first_expert = StageExpertParameters(m, counts, p, 0),
                        .second_expert = p.pp > 2 ? StageExpertParameters(m, counts, p, 1) : 0.0,
                        .last_expert = StageExpertParameters(m, counts, p, p.pp - 1)};
}

double PlanLayerActivationBytes(const Model& m, const Plan& p, const TrainingSetup& s) {
  if (s.framework == Framework::kTorchtitan && p.recompute == Recompute::kSelective) {
    return OpCheckpointBytes(m, s.seq_len / p.cp, p.micro_batch, p.tp);
  }
  const bool split_checkpoints =
      p.recompute == Recompute::kFull && FactsOf(s.framework).distribute_checkpoints;
  return LayerActivationBytes(m, s.seq_len / p.cp, p.micro_batch, p.tp,
                              p.sequence_parallel || split_checkpoints, p.recompute,
                              s.flash_attention, s.precision == Precision::kFp8);
}

MemoryBreakdown StageMemoryFrom(const Model& m, const Plan& p, const TrainingSetup& s, int stage,
                                double params, double expert_params, double per_layer,
                                double layer_params) {
  const int64_t layers = StageLayers(m, p, stage);
  const StateBytes bytes = StateBytesPerParam(s);
  MemoryBreakdown mem;
  // Megatron shards over the data- and context-parallel ranks together: CP ranks hold the same
  // parameters (parallel_state's data-parallel group with context parallelism). A routed
  // expert's copies sit on dp * cp / ep ranks only, its expert-data-parallel group
  // (parallel_state's expert_data_parallel_group), so its states shard over that many.
  const double dp_cp = static_cast<double>(p.dp) * p.cp;
  const double expert_dp = dp_cp / p.ep;
  const double dense = params - expert_params;
  auto sharded = [&](double per_param, int from_stage) {
    if (p.zero_stage < from_stage) return params * per_param;
    return dense * per_param / dp_cp + expert_params * per_param / expert_dp;
  };
  mem.weights = sharded(bytes.weights, 3);
  mem.gradients = sharded(bytes.gradients, 2);
  mem.optimizer = sharded(bytes.optimizer, 1);

  const int64_t seq = s.seq_len / p.cp;
  const double in_flight = InFlightOnStage(s, p, stage);
  double act = StageLayerActivationBytes(m, p, s, layers, per_layer) * in_flight;
  act -= OffloadedActivationBytes(p, layers, per_layer) * in_flight;
  mem.host = HostActivationBytes(p, layers, per_layer) * in_flight;
  const double sb = static_cast<double>(seq) * p.micro_batch;
  const double sbh = sb * static_cast<double>(m.hidden);
  if (stage == 0) {
    // Megatron's theoretical memory: token ids (8 bytes each) and the embedding dropout mask,
    // both counted per TP rank as Megatron does.
    act += (8.0 * sb + (m.dropout ? sbh : 0.0)) / p.tp * in_flight;
  }
  if (stage == p.pp - 1) {
    const double loss = LossBytes(m, s, sb, p.tp);
    // Each MTP module adds a layer's activations and a loss of its own (DeepSeek-V3 sec. 2.2).
    const double mtp = static_cast<double>(m.mtp_layers);
    act += (1.0 + mtp) * loss + mtp * per_layer * in_flight;
  }
  mem.activations = act + RecomputedLayerBytes(m, p, s, per_layer);
  // Allowances per framework (planner/cost/framework.h states each with its source).
  const FrameworkFacts& facts = FactsOf(s.framework);
  mem.overhead = facts.comm_buffers_bytes + facts.fragmentation * act +
                 2.0 * facts.reduce_bucket_elements;
  // ZeRO-3 / FSDP gathers weights before using them (cost_models/zero3.cc).
  mem.overhead += Zero3GatherBytes(m, p, s, layer_params, bytes.weights, bytes.gradients);
  if (s.offload_optimizer) MoveOptimizerToHost(p, mem);
  return mem;
}

double StageParameters(const Model& m, const ParamCounts& counts, const Plan& p, int stage) {
  return StageParams(m, counts, p, stage, StageLayers(m, p, stage));
}

double StageExpertParameters(const Model& m, const ParamCounts& counts, const Plan& p, int stage) {
  const int64_t layers = StageLayers(m, p, stage);
  const double mtp = stage == p.pp - 1 ? MtpExpertParams(m, counts, p) : 0.0;
  return ExpertParams(counts, p, StageMoeLayers(m, p, stage, layers)) + mtp;
}

int64_t LargestStageLayers(const Model& m, const Plan& p) {
  return std::max({StageLayers(m, p, 0), p.pp > 2 ? StageLayers(m, p, 1) : 0,
                   StageLayers(m, p, p.pp - 1)});
}

int64_t StageLayers(const Model& m, const Plan& p, int stage) {
  if (p.pp == 1) return m.layers;
  const int64_t first = p.first_stage_layers;
  const int64_t last = p.last_stage_layers;
  if (first == 0 && last == 0) return m.layers / p.pp;
  // Uneven split (Megatron's --decoder-first/last-pipeline-num-layers): the rest even.
  const int64_t inner_stages = p.pp - (first > 0 ? 1 : 0) - (last > 0 ? 1 : 0);
  const int64_t inner_layers = m.layers - first - last;
  const int64_t inner = inner_stages > 0 ? inner_layers / inner_stages : 0;
  if (stage == 0 && first > 0) return first;
  if (stage == p.pp - 1 && last > 0) return last;
  return inner;
}

MemoryBreakdown TrainingMemory(const Model& m, const Plan& p, const TrainingSetup& s) {
  return TrainingMemoryFrom(m, p, s, PlanStageParams(m, CountParameters(m), p),
                            PlanLayerActivationBytes(m, p, s));
}

MemoryBreakdown TrainingMemoryFrom(const Model& m, const Plan& p, const TrainingSetup& s,
                                   const StageParamsSet& params, double per_layer) {
  MemoryBreakdown worst =
      StageMemoryFrom(m, p, s, 0, params.first, params.first_expert, per_layer, params.layer);
  auto consider = [&](int stage, double stage_params, double expert_params) {
    const MemoryBreakdown mem =
        StageMemoryFrom(m, p, s, stage, stage_params, expert_params, per_layer, params.layer);
    if (mem.total() > worst.total()) worst = mem;
  };
  if (p.pp > 1) consider(p.pp - 1, params.last, params.last_expert);
  // With an uneven split a middle stage can hold the most layers.
  if (p.pp > 2 && (p.first_stage_layers > 0 || p.last_stage_layers > 0)) {
    consider(1, params.second, params.second_expert);
  }
  return worst;
}

double KvCacheBytesPerToken(const Model& m, double kv_bytes, int64_t context) {
  // formulas.md section 9: 2 (K and V) * L * kv_heads * head_dim * bytes per token; MLA keeps
  // its latent and RoPE key instead (DeepSeek-V2 sec. 2.1.2), and a sliding-window layer keeps
  // at most its window (averaged over the context).
  const double ctx = static_cast<double>(std::max<int64_t>(context, 1));
  const double per_layer = AttentionOf(m).kv_cache_values * kv_bytes;
  return static_cast<double>(m.layers) * per_layer * MeanAttendedKeys(m, ctx) / ctx;
}

ServingMemory InferenceMemory(const Model& m, double weight_bytes, double kv_bytes, int64_t batch,
                              int64_t context) {
  const ParamCounts c = CountParameters(m);
  ServingMemory mem;
  mem.weights = c.total * weight_bytes;
  mem.kv_cache = KvCacheBytesPerToken(m, kv_bytes, context) * static_cast<double>(batch) *
                 static_cast<double>(context);
  // Working set of one layer while the batch's prompts are processed at once (prefill,
  // 16-bit): layer input and output, Q/K/V, and the MLP's widest intermediate; plus fp32 logits
  // of the last position. Nothing is kept for a backward pass.
  const double tokens = static_cast<double>(batch) * static_cast<double>(context);
  const double h = static_cast<double>(m.hidden);
  const AttentionShape a = AttentionOf(m);
  const double qkv = a.q_width + a.k_width + a.v_width;
  const double f = static_cast<double>(IsMoe(m) ? ExpertFfnHidden(m) : m.ffn_hidden);
  const double mlp_width = (IsGatedMlp(m) ? 2.0 : 1.0) * f;
  mem.activations = 2.0 * tokens * (2.0 * h + qkv + mlp_width) +
                    4.0 * static_cast<double>(batch) * static_cast<double>(m.vocab);
  return mem;
}

double OpCheckpointBytes(const Model& m, int64_t seq, int64_t micro_batch, int tp) {
  const double h = static_cast<double>(m.hidden);
  const double sbh = static_cast<double>(seq) * static_cast<double>(micro_batch) * h;
  const AttentionShape a = AttentionOf(m);
  const double q = a.q_width / h;
  const double kv = (a.k_width + a.v_width) / (2.0 * h);
  const double f = static_cast<double>(m.ffn_hidden) / h;
  // Matmul outputs of a layer (in sbh): Q, K, V, output projection, the MLP's up (and gate) and
  // down projections. torchtitan's policy keeps every other one, the attention output, and the
  // layer's input; everything else is recomputed.
  const double mm_outputs =
      2.0 * q + 4.0 * kv + 2.0 + (IsGatedMlp(m) ? 4.0 : 2.0) * f + 2.0;
  return (2.0 + 2.0 * q + 0.5 * mm_outputs) * sbh / tp;
}

int64_t GpusNeeded(double bytes, double capacity_bytes) {
  return static_cast<int64_t>(std::ceil(bytes / capacity_bytes));
}

double QuickServingBytes(double params, int bits) {
  // formulas.md section 1: M = (P * 4 bytes) / (32 / Q) * 1.2.
  return params * 4.0 / (32.0 / bits) * 1.2;
}

}  // namespace planner
