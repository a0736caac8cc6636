// What each training framework does that the cost models read: a small table of facts with
// sources, never a per-run factor. A new framework is a new row (style.md: "a new framework in
// one table of facts the cost models read").
#pragma once

#include <string>

#include "planner/model/plan.h"

namespace planner {

struct FrameworkFacts {
  Framework framework = Framework::kMegatron;
  const char* name = "";
  /// TP collectives and pipeline sends overlapped with matmuls unless the user turns it off.
  bool comm_overlap_default = false;
  /// Gradients reduced (and kept as main grads) in fp32 unless the user says otherwise.
  bool fp32_grads_default = true;
  /// Runs the interleaved (virtual-stage) pipeline schedule.
  bool interleaved_pipeline = true;
  /// Highest ZeRO stage it combines with pipeline parallelism.
  int max_zero_with_pp = 1;
  /// ZeRO-3 / FSDP reduce-scatters gradients after every micro-batch's backward rather than
  /// once per step.
  bool zero3_reduce_per_micro_batch = false;
  /// NCCL communicators' buffers and cuBLAS workspaces beyond the CUDA context, bytes. NCCL's
  /// default is 4 MiB per channel per peer; a few communicators with 32 channels come to a few
  /// hundred MiB.
  double comm_buffers_bytes = 0.5 * 1073741824.0;
  /// Caching-allocator fragmentation as a share of activations: PyTorch reports reserved -
  /// allocated of 5-15 % in training.
  double fragmentation = 0.10;
  /// Flat 16-bit gradient bucket the framework allocates besides the gradients, in elements
  /// (DeepSpeed's reduce_bucket_size); 0 where buckets are views of the gradient buffer.
  double reduce_bucket_elements = 0;
  /// ZeRO-3 gathers each leaf submodule's parameters (DeepSpeed: every nn.Linear, fetched
  /// by hooks) rather than a whole transformer block (FSDP's wrapping unit).
  bool zero3_gathers_submodules = false;
  /// Default cap on gathered parameters below which ZeRO-3 prefetches, elements (DeepSpeed
  /// stage3_max_live_parameters); 0: no cap.
  double zero3_max_live_params = 0;
  /// Elements ZeRO-3 prefetches ahead per fetch (DeepSpeed stage3_prefetch_bucket_size).
  double zero3_prefetch_bucket_elements = 0;
  /// Gathered parameters reused within this many elements of the module trace stay gathered
  /// (DeepSpeed stage3_max_reuse_distance).
  double zero3_max_reuse_distance = 0;
  /// Can keep the optimizer in host memory and step it on the CPU (offload_optimizer).
  bool optimizer_offload = false;
  /// Shards the optimizer states alone (ZeRO-1, Megatron's distributed optimizer).
  bool has_zero1 = true;
  /// Highest ZeRO stage at all (Megatron: distributed optimizer = 1; Megatron-FSDP = 3).
  int max_zero = 3;
  /// Full recomputation keeps 1/tp of each layer's checkpointed input on each TP rank even
  /// without sequence parallelism (Megatron's --distribute-saved-activations).
  bool distribute_checkpoints = false;
  /// Bytes the loss holds per logit at its peak (logits, fp32 copies, their gradients).
  double loss_bytes_per_logit = 4.0;
  /// With TP > 1, bytes a logit of its vocabulary-parallel loss; 0: loss_bytes_per_logit.
  double tp_loss_bytes_per_logit = 0.0;
  /// Bytes the loss holds per value of the output layer's input (Megatron keeps it in fp32).
  double loss_bytes_per_hidden = 4.0;
  /// Can recompute only the first N layers of each stage (Megatron --recompute-method block;
  /// Megatron-DeepSpeed has it too). torchtitan's and FSDP's checkpointing wrap every block.
  bool block_recompute = false;
  /// Built on Megatron-core's TransformerConfig: layer-wise activation offload to host memory
  /// (cpu_offloading_num_layers) and CUDA-graph capture of training (--enable-cuda-graph).
  bool megatron_core = false;
  /// The search may choose activation offload for a plan that does not fit: Megatron-Bridge's
  /// GB200 recipes set cpu_offloading_num_layers and its overrides state it (emit_bridge.cc).
  /// Megatron-LM's command line of the checked flag list cannot, so its plans never offload.
  bool searches_activation_offload = false;
  /// Fused attention goes through Transformer Engine, which prefers cuDNN's fused attention
  /// over FlashAttention on Hopper and newer (calibration.h: FusedAttentionGain). The others run
  /// FlashAttention-2 (flash-attn, or PyTorch's SDPA flash backend) everywhere.
  bool te_attention = false;
  const char* source = "";
};

/// The facts of one framework.
const FrameworkFacts& FactsOf(Framework f);
/// "megatron", "nemo", "deepspeed", "torchtitan", "fsdp".
const char* FrameworkName(Framework f);
/// The framework a name states, or false when no framework has that name.
bool FrameworkFromName(const std::string& name, Framework& out);
/// The names, comma-separated, for error messages.
std::string FrameworkNames();

}  // namespace planner
