// A parallelisation plan and the training settings every plan of one search shares.
#pragma once

#include <cstdint>
#include <string>

#include "planner/model/hardware.h"

namespace planner {

enum class Recompute { kNone, kSelective, kFull };
enum class Schedule { k1F1B, kInterleaved, kGPipe, kNaive };
enum class Optimizer { kAdamW, kAdamW8bit, kSgdMomentum };
/// Whose implementation the numbers follow; its facts are in planner/cost/framework.h.
/// kTorchtitan: "selective" is torchtitan's op-level checkpointing and the loss is PyTorch's
/// unfused cross-entropy. kNemo: Megatron-Core as NeMo / Megatron-Bridge configure it.
/// kFsdp: PyTorch FSDP1 as Composer / LLM Foundry and metaseq run it (no pipeline).
enum class Framework { kMegatron, kNemo, kDeepSpeed, kTorchtitan, kFsdp };

/// How one training step is split over the GPUs. tp * cp * pp * dp = GPUs.
struct Plan {
  int tp = 1;
  int pp = 1;
  int dp = 1;
  int cp = 1;                 ///< context parallel (sequence split for attention)
  int ep = 1;                 ///< expert parallel, inside the data-parallel group
  int micro_batch = 1;        ///< sequences per micro-batch per data-parallel rank
  int grad_accum = 1;         ///< micro-batches per step per data-parallel rank
  Recompute recompute = Recompute::kNone;
  int zero_stage = 0;         ///< 1 = Megatron's distributed optimizer
  bool sequence_parallel = false;
  int virtual_stages = 1;     ///< model chunks per pipeline rank (interleaved 1F1B when > 1)
  int first_stage_layers = 0;  ///< 0: layers split evenly; else layers on the first stage
  int last_stage_layers = 0;   ///< 0: layers split evenly; else layers on the last stage
  /// With full recomputation: the layers of each pipeline stage (of each model chunk when
  /// interleaved) that are checkpointed at their input and recomputed in backward, the first
  /// ones; the rest keep all their activations (Megatron --recompute-method block
  /// --recompute-num-layers N). 0: every layer (--recompute-method uniform, 1 layer a group).
  int recompute_layers = 0;
  /// Megatron-core's activation offload (TransformerConfig cpu_offloading_num_layers): the
  /// first N layers' activations go to host memory during the forward and come back for the
  /// backward. Needs pp 1 and no recomputation; searched for nemo only, as the fewest layers
  /// that make a plan fit (FrameworkFacts::searches_activation_offload). 0: none.
  int offload_activation_layers = 0;

  bool operator==(const Plan&) const = default;
};

/// Held fixed across one search: the work (batch, sequence) and the numerics.
struct TrainingSetup {
  int64_t global_batch = 0;   ///< sequences per optimizer step
  int64_t seq_len = 0;
  Precision precision = Precision::kBf16;  ///< compute precision (16/8-bit imply mixed precision)
  bool fp32_grads = true;     ///< Megatron keeps fp32 main grads; the articles count 16-bit grads
  Optimizer optimizer = Optimizer::kAdamW;
  Schedule schedule = Schedule::k1F1B;
  bool flash_attention = true;  ///< fused attention: no s^2 scores stored or moved
  bool overlap_grad_reduce = true;  ///< reduce gradient buckets during backward (Megatron DDP)
  Framework framework = Framework::kMegatron;
  /// Element-wise work fused (Transformer Engine, Apex, torch.compile); false: PyTorch eager,
  /// one kernel per operator (norms, rotary embedding and SwiGLU in many passes).
  bool fused_elementwise = true;
  bool comm_overlap = false;  ///< TP collectives and pipeline sends overlapped with matmuls
                              ///< (Megatron --tp-comm-overlap, --overlap-p2p-communication)
  /// Optimizer states, fp32 master weights and the gradient shard live in host memory and the
  /// CPU runs the update (DeepSpeed zero_optimization.offload_optimizer {device: cpu}).
  bool offload_optimizer = false;
  /// ZeRO-3 gathered-parameter cap, elements (DeepSpeed stage3_max_live_parameters); 0: the
  /// framework's default (FrameworkFacts::zero3_max_live_params).
  double zero3_max_live_params = 0;
  /// torchtitan compiles its cross-entropy with the model (components/loss.py, 2025); its
  /// releases of 2024 left the loss eager even with torch.compile on.
  bool compiled_loss = true;
  /// Kernels replayed from CUDA graphs (Megatron --enable-cuda-graph, NeMo/Megatron-Bridge
  /// cuda_graph_impl): no launch gaps between them, so Efficiency::step_overhead does not apply.
  bool cuda_graphs = false;
  bool operator==(const TrainingSetup&) const = default;
};

const char* RecomputeName(Recompute r);
/// Layers of a stage of `stage_layers` layers that the plan recomputes: all with full
/// recomputation of every layer, recompute_layers per model chunk (at most all) with the
/// block method, 0 otherwise.
int64_t RecomputedLayers(const Plan& p, int64_t stage_layers);
/// "full (5 of 32 layers)" when the plan recomputes some layers of a `stage_layers`-layer
/// stage, else the recomputation's name.
std::string RecomputeLabel(const Plan& p, int64_t stage_layers);
/// RecomputeLabel for a table cell: "full 5/32".
std::string RecomputeCell(const Plan& p, int64_t stage_layers);
const char* ScheduleName(Schedule s);
const char* OptimizerName(Optimizer o);

}  // namespace planner
