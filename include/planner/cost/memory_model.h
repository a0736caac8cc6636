// Memory per GPU, for training (the most loaded pipeline stage) and for serving. All bytes.
#pragma once

#include <cstdint>

#include "planner/model/hardware.h"
#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

/// Bytes per GPU by kind. total() is what must fit in the GPU's usable memory.
struct MemoryBreakdown {
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;
  double overhead = 0;  ///< allocator fragmentation and communication buffers
  double host = 0;      ///< offloaded to host memory (CPU RAM) per GPU; not in total()
  double total() const { return weights + gradients + optimizer + activations + overhead; }
  bool operator==(const MemoryBreakdown&) const = default;
};

/// Bytes per parameter of each model state, before any sharding.
struct StateBytes {
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
};
StateBytes StateBytesPerParam(const TrainingSetup& setup);

/// Activation bytes of one transformer layer for one micro-batch, on one GPU.
/// Korthikanti et al. 2022 Table 2, generalised to GQA (kv/heads) and SwiGLU (3 matrices).
/// With `fp8_inputs`, matmul inputs are stored in fp8 (Transformer Engine).
double LayerActivationBytes(const Model& m, int64_t seq, int64_t micro_batch, int tp, bool sp,
                            Recompute r, bool flash_attention, bool fp8_inputs = false);

/// Bytes per layer kept by torchtitan's op-level selective checkpointing (its default
/// "selective" mode): every other matmul output, the attention output and the layer input.
double OpCheckpointBytes(const Model& m, int64_t seq, int64_t micro_batch, int tp);

/// Bytes the loss holds at its peak for `tokens` tokens on one of `tp` GPUs splitting the
/// vocabulary: the framework's bytes per logit times vocab plus its bytes per output-layer input
/// value times hidden, over tp (planner/cost/framework.h); 4 a logit when torch.compile fuses it.
double LossBytes(const Model& m, const TrainingSetup& setup, double tokens, int tp);

/// Bytes PyTorch eager keeps per layer beyond the fused kernels for `tokens` tokens on one of
/// `tp` GPUs: RMSNorm's fp32 input copies (8 bytes a token and hidden unit) and SwiGLU's silu
/// output (2 bytes a token and MLP unit, split by TP).
double EagerActivationBytes(const Model& m, double tokens, int tp);

/// Bytes of the one layer backward recomputes (full recomputation, torchtitan's op-level
/// selective), beyond its checkpoint `per_layer`: the layer without recomputation, less
/// `per_layer`, plus EagerActivationBytes when eager. 0 without recomputation.
double RecomputedLayerBytes(const Model& m, const Plan& p, const TrainingSetup& s,
                            double per_layer);

/// Micro-batches whose activations the first pipeline stage holds at its peak.
/// 1F1B: min(m, p); interleaved: p * (1 + (p - 1) / (p * v)) (Narayanan et al. 2021);
/// GPipe: m; naive: 2p - 1 (formulas.md section 7).
double InFlightMicroBatches(Schedule s, int pp, int virtual_stages, int grad_accum);

/// Layers held by pipeline stage `stage` (0-based) of a plan.
int64_t StageLayers(const Model& m, const Plan& p, int stage);
/// Layers of the plan's largest pipeline stage (uneven splits make the first or last larger).
int64_t LargestStageLayers(const Model& m, const Plan& p);

/// Parameters held by one GPU of pipeline stage `stage` (before ZeRO sharding).
double StageParameters(const Model& m, const ParamCounts& counts, const Plan& p, int stage);

/// Of StageParameters, the routed experts' share: their optimizer states (and gradients and
/// weights under ZeRO-2/3) shard over the expert-data-parallel group, dp * cp / ep ranks.
double StageExpertParameters(const Model& m, const ParamCounts& counts, const Plan& p, int stage);

/// Parameters per GPU of the first, a middle (pp > 2) and the last stage, and of each the
/// routed experts' share (StageExpertParameters).
struct StageParamsSet {
  double first = 0;
  double second = 0;
  double last = 0;
  double layer = 0;  ///< the largest transformer layer's parameters per GPU (ZeRO-3 gathers it)
  double first_expert = 0;
  double second_expert = 0;
  double last_expert = 0;
};

/// Parameters per GPU of the largest transformer layer (dense or MoE) under the plan's tp, ep.
double LayerParameters(const Model& m, const ParamCounts& counts, const Plan& p);

/// All of StageParamsSet for a plan.
StageParamsSet PlanStageParams(const Model& m, const ParamCounts& counts, const Plan& p);

/// LayerActivationBytes for the plan's tp, cp, micro-batch, SP, recomputation and precision.
double PlanLayerActivationBytes(const Model& m, const Plan& p, const TrainingSetup& s);

/// StageMemory from its costly inputs, computed once and reused across plans by the search.
/// `expert_params` is the routed experts' share of `params`.
MemoryBreakdown StageMemoryFrom(const Model& m, const Plan& p, const TrainingSetup& s, int stage,
                                double params, double expert_params,
                                double per_layer_activation_bytes, double layer_params);
MemoryBreakdown TrainingMemoryFrom(const Model& m, const Plan& p, const TrainingSetup& s,
                                   const StageParamsSet& params, double per_layer_activation_bytes);

/// Training memory of one GPU of pipeline stage `stage`.
MemoryBreakdown StageMemory(const Model& m, const Plan& p, const TrainingSetup& s, int stage);

/// Training memory of the most loaded GPU. Precondition: the plan divides the model.
MemoryBreakdown TrainingMemory(const Model& m, const Plan& p, const TrainingSetup& s);

/// Serving: weights at `weight_bytes` per parameter, the KV cache for `batch` sequences of
/// `context` tokens (GQA-aware), and one layer's working activations, on `gpus` GPUs (TP).
struct ServingMemory {
  double weights = 0;
  double kv_cache = 0;
  double activations = 0;
  double total() const { return weights + kv_cache + activations; }
};
ServingMemory InferenceMemory(const Model& m, double weight_bytes, double kv_bytes, int64_t batch,
                              int64_t context);
/// KV-cache bytes per token over all layers at `kv_bytes` per value, for a context of
/// `context` tokens (sliding-window layers keep at most their window): MLA keeps
/// kv_lora_rank + qk_rope_head_dim values per layer (DeepSeek-V3 bf16: 70,272 bytes).
double KvCacheBytesPerToken(const Model& m, double kv_bytes, int64_t context);

/// The fewest GPUs whose capacity holds `bytes`, before any parallelism overhead.
int64_t GpusNeeded(double bytes, double capacity_bytes);

/// The quick rule of formulas.md section 1: P * 4 / (32 / Q) * 1.2 bytes.
double QuickServingBytes(double params, int bits);

}  // namespace planner
