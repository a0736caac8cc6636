// Fine-tuning: the memory of one GPU (and of its host) and the time of one optimizer step for a
// FinetunePlan, from each method's mechanism (full, LoRA, QLoRA, freeze, GaLore). All bytes,
// seconds and FLOP/s.
#pragma once

#include "planner/model/finetune_plan.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"

namespace planner {

/// Parameters by role for a method: what stays frozen, what trains, and the adapters.
struct FinetuneParams {
  double linear = 0;     ///< weights of the decoder's linear layers (what QLoRA quantizes)
  double other = 0;      ///< embeddings, output layer, norms (kept in 16 bits)
  double trainable = 0;  ///< parameters with gradients and optimizer states
  double adapters = 0;   ///< LoRA A and B matrices (in trainable for LoRA/QLoRA)
  double largest_matrix = 0;  ///< the largest linear weight, for gathers and dequant buffers
};
FinetuneParams FinetuneParamsOf(const Model& m, const FinetunePlan& p);

/// Bytes one frozen base weight takes: bf16 2; int8 1 (LLM.int8 row-wise scales, negligible);
/// NF4 0.5 plus its block constants (QuantConstantBytesPerParam).
double BaseBytesPerParam(BaseWeights b);
/// NF4's block-wise constants per parameter (Dettmers et al. 2023, section 3): one fp32 absmax
/// per 64 weights = 32/64 = 0.5 bits; with double quantization 8/64 + 32/(64 x 256) = 0.127 bits.
double QuantConstantBytesPerParam(BaseWeights b, bool double_quant);

/// Optimizer-state bytes per trainable parameter, before sharding: AdamW two moments in the
/// states' dtype; bitsandbytes 8-bit (and paged 8-bit) AdamW 1 byte per moment (Dettmers et al.
/// 2022, block-wise quantization); AdaFactor's factored second moment (Shazeer and Stern 2018),
/// about 4 (1/rows + 1/cols) bytes; plain SGD none.
double OptimizerBytesPerParam(FinetuneOptimizer o, double state_bytes, int64_t hidden);

/// Optimizer bytes (any fp32 master copy and the states) per trainable parameter as the plan's
/// framework keeps them, before sharding; GaLore's projected states are not per parameter.
double TrainableStateBytes(const Model& m, const FinetunePlan& p, const FinetuneSetup& s);

/// One GPU's bytes. peak() is what must fit in the GPU's usable memory.
struct FinetuneMemory {
  double base_weights = 0;     ///< frozen (or trained) weights resident on the GPU
  double quant_constants = 0;  ///< NF4 block constants
  double adapters = 0;         ///< adapter weights
  double gradients = 0;        ///< gradients of the trainable parameters
  double optimizer = 0;        ///< optimizer states (with any fp32 master copy) on the GPU
  double activations = 0;      ///< saved activations and the layer being recomputed
  double recomputed = 0;       ///< of which the layer checkpointing recomputes in backward
  double logits_loss = 0;      ///< logits and the loss's fp32 buffers of one micro-batch
  double loss_grads = 0;       ///< the trained output layer's gradient, made in the loss phase
  double logits_held = 0;      ///< of logits_loss, a copy the loop holds through backward
  /// FSDP: an output layer sharded on its own, gathered for the loss beyond the decoder layers
  /// the other phases gather (torchtune's custom_sharded_layers)
  double loss_weights = 0;
  /// FSDP: the root unit's unsharded gradient (embeddings, final norm, output layer), made in
  /// the loss phase and reduced when backward ends (FSDP1's root flat parameter)
  double root_grads = 0;
  /// FSDP: two trained layers' unsharded gradients, the one backward writes and the one being
  /// reduce-scattered (backward phase)
  double layer_grads = 0;
  bool grads_freed = false;    ///< optimizer in backward: each gradient applied and freed
  double dequant_buffer = 0;   ///< QLoRA: a dequantized bf16 copy of the weights in use
  double overhead = 0;         ///< cuBLAS workspaces, NCCL buffers, allocator slack
  double host_bytes = 0;       ///< offloaded states and activations, per node
  double host_activations = 0;  ///< of which this GPU's offloaded activations
  /// The larger of two phases. The loss: saved activations, logits and loss buffers (and the
  /// output layer's gradient where it trains, its weights where FSDP gathers them apart).
  /// Backward, after the logits are freed: the layer being recomputed and any logits the loop
  /// still holds, plus the larger of saved activations and gradients (backward frees the one
  /// while it writes the other), or both when each gradient is applied and freed at once. The
  /// root's unsharded gradient counts in both, FSDP's unsharded layer gradients in backward.
  double peak() const;
};
FinetuneMemory FinetuneMemoryOf(const Model& m, const Cluster& c, const FinetunePlan& p,
                                const FinetuneSetup& s);

/// Where one optimizer step's time goes, seconds.
struct FinetuneTime {
  double compute = 0;    ///< forward and backward of the base (and adapters) over all micro-batches
  double recompute = 0;  ///< the forward work checkpointing repeats
  double dequant = 0;    ///< QLoRA: NF4 weights dequantized for every pass
  double comm = 0;       ///< sharding's gathers and reductions not hidden behind compute
  double offload = 0;    ///< PCIe traffic and CPU optimizer work not hidden behind compute
  double optimizer = 0;  ///< the optimizer's update on the GPU
  double step() const { return compute + recompute + dequant + comm + offload + optimizer; }
  double tokens_per_s = 0;  ///< tokens of the whole job per second
  double model_flops = 0;   ///< FLOPs of one step without recomputation
};
FinetuneTime FinetuneTimeOf(const Model& m, const Cluster& c, const FinetunePlan& p,
                            const FinetuneSetup& s);

/// The least any run of a setting needs, to test measurements against (not a prediction).
struct FinetuneFloor {
  double flops_per_token = 0;  ///< 4 P (frozen base) or 6 P (trained), P = matmul parameters
  double weights_bytes = 0;    ///< base weights at their precision / GPUs sharding them
  double inputs_bytes = 0;     ///< every layer's 16-bit input (what checkpointing keeps)
  double memory_bytes = 0;     ///< weights_bytes + inputs_bytes, per GPU
};
FinetuneFloor FinetuneFloorOf(const Model& m, const FinetunePlan& p, const FinetuneSetup& s);

/// Host-to-GPU bytes/s of one GPU's link to host memory: the GPU's own (Gpu::
/// host_link_bytes_per_s, GB200's NVLink-C2C), else PCIe gen5 x16 (63 GB/s) on Hopper and
/// Blackwell, gen4 x16 (31.5 GB/s) otherwise (PCI-SIG); at 80 % for pinned copies.
double HostLinkBytesPerS(const Gpu& gpu);

}  // namespace planner
