// A fine-tuning plan: what a fine-tuning user chooses (method, adapter, sharding, offload,
// checkpointing, batch split) and what one search holds fixed. The search (search/), the cost
// models (cost_models/) and the emitters (PEFT + Trainer + accelerate, torchtune) read these.
#pragma once

#include <cstdint>
#include <string>

#include "planner/model/hardware.h"

namespace planner {

/// How the model is tuned. kFreeze: only the last `trainable_layers` blocks (and the head) train.
/// kGalore: full-rank weights, optimizer states in a rank-r projection (Zhao et al. 2024).
enum class FinetuneMethod { kFull, kLora, kQlora, kFreeze, kGalore };
/// Whether the method trains the base weights (full fine-tuning, GaLore) rather than freezing
/// them.
inline bool TrainsBase(FinetuneMethod m) {
  return m == FinetuneMethod::kFull || m == FinetuneMethod::kGalore;
}
/// Whether the method trains low-rank adapters (LoRA, QLoRA).
inline bool UsesAdapters(FinetuneMethod m) {
  return m == FinetuneMethod::kLora || m == FinetuneMethod::kQlora;
}

/// Precision of the frozen base weights (LoRA/QLoRA/freeze); full and GaLore train them in
/// the compute precision. kNf4: QLoRA's 4-bit NormalFloat with block-wise constants
/// (Dettmers et al. 2023).
enum class BaseWeights { kBf16, kInt8, kNf4 };

/// The optimizer of the trainable parameters. Paged 8-bit AdamW has 8-bit AdamW's bytes on the
/// GPU and pages to host memory under pressure (bitsandbytes).
enum class FinetuneOptimizer { kAdamW, kAdamW8bit, kPagedAdamW8bit, kAdafactor, kSgd };

/// Who shards the data-parallel replicas. kFsdp is PyTorch FSDP full sharding (as ZeRO-3);
/// kFsdpGradOp is FSDP SHARD_GRAD_OP (as ZeRO-2).
enum class Sharding { kNone, kZero1, kZero2, kZero3, kFsdp, kFsdpGradOp };

/// Whether the sharding splits the parameters themselves (ZeRO-3, FSDP FULL_SHARD).
inline bool ShardsParams(Sharding s) { return s == Sharding::kZero3 || s == Sharding::kFsdp; }

/// Gradient checkpointing as fine-tuning frameworks offer it: kSelective is the framework's
/// selective variant (torchtune's selective AC / Unsloth's offloaded checkpoints).
enum class Checkpointing { kNone, kSelective, kFull };

/// The fine-tuning framework whose files are emitted and whose allowances are counted.
enum class FinetuneFramework { kHuggingFace, kTorchtune };

/// Which linear layers carry adapters: each attention projection, and the MLP's matrices.
/// Recipes differ (torchtune's Llama 2 7B LoRA: q and v; its QLoRA: q, k, v, o and the MLP).
struct AdapterTargets {
  bool q = true, k = true, v = true, o = true;  ///< attention projections
  bool mlp = false;                             ///< gate, up, down projections
  bool operator==(const AdapterTargets&) const = default;
};

/// Every attention projection, none of the MLP (the default).
constexpr AdapterTargets kAttentionTargets{};
/// The MLP alone.
constexpr AdapterTargets kMlpTargets{.q = false, .k = false, .v = false, .o = false, .mlp = true};
/// Every linear layer of a block.
constexpr AdapterTargets kAllTargets{.mlp = true};

/// Whether any attention projection carries an adapter.
bool AnyAttention(const AdapterTargets& t);

/// One way to run the fine-tuning job. gpus = tp * dp.
struct FinetunePlan {
  FinetuneMethod method = FinetuneMethod::kLora;
  int gpus = 1;
  int tp = 1;                       ///< tensor parallel, where the framework has it
  int dp = 1;                       ///< data-parallel replicas (sharded or not)
  Sharding sharding = Sharding::kNone;
  bool offload_optimizer = false;   ///< ZeRO-Offload / FSDP CPU offload of optimizer states
  bool offload_params = false;      ///< ZeRO-3 / FSDP parameter offload to host memory
  bool offload_activations = false; ///< saved activations to host memory (torchtune)
  int micro_batch = 1;              ///< sequences per micro-batch per data-parallel rank
  int grad_accum = 1;               ///< micro-batches per step per data-parallel rank
  Checkpointing checkpointing = Checkpointing::kFull;
  bool packing = true;              ///< sequences packed to seq_len (no padding tokens)
  int lora_rank = 16;
  int lora_alpha = 32;
  AdapterTargets targets;
  BaseWeights base_weights = BaseWeights::kBf16;
  bool double_quant = true;         ///< QLoRA: quantize the block constants too
  int trainable_layers = 0;         ///< kFreeze: blocks trained, counted from the top
  int galore_rank = 128;            ///< kGalore: projection rank
  bool operator==(const FinetunePlan&) const = default;
};

/// Where the trained weights' full-precision copy lives. kFp32: mixed precision, fp32 master
/// weights and AdamW moments (the Trainer with an fp32 model, Micikevicius et al. 2018). kNone:
/// pure 16-bit, the model loaded in bf16 and trained with bf16=True: transformers'
/// TrainingArguments.__post_init__ turns bf16=True into ACCELERATE_MIXED_PRECISION=bf16, and
/// accelerate's mixed precision only wraps forward in autocast (accelerator.py,
/// prepare_model), so parameters,
/// gradients and torch.optim.AdamW's moments (zeros_like(param)) stay bf16. torchtune's
/// recipes (dtype: bf16) always train this way.
enum class MasterWeights { kFp32, kNone };

/// Held fixed across one fine-tuning search: the data, the batch and the numerics.
struct FinetuneSetup {
  int64_t global_batch = 0;         ///< sequences per optimizer step
  int64_t seq_len = 0;
  double dataset_tokens = 0;        ///< tokens in one epoch (0: not given)
  double epochs = 1;
  Precision precision = Precision::kBf16;  ///< compute precision
  FinetuneOptimizer optimizer = FinetuneOptimizer::kAdamW;
  FinetuneFramework framework = FinetuneFramework::kHuggingFace;
  bool chunked_loss = false;        ///< chunked cross-entropy: logits never whole in fp32
  /// The training loop holds a shifted fp32 copy of the logits through backward
  /// (`logits = logits[..., :-1, :].contiguous()` in the loop, as torchtune 0.1's recipes).
  bool logits_copy = false;
  bool compile = false;             ///< torch.compile: element-wise operators fused
  bool optimizer_in_backward = false;  ///< torchtune: each parameter updated as its gradient
                                       ///< is ready, so gradients are never all held
  double host_bytes_per_node = 0;   ///< host memory limit for offload (0: the cluster's)
  std::string hf_model_id;          ///< emitted as the model to load ("" : a placeholder)
  MasterWeights master = MasterWeights::kFp32;  ///< Hugging Face: mixed or pure 16-bit
  bool operator==(const FinetuneSetup&) const = default;
};

/// torchtune with FSDP shards an untied model's embeddings and output layer as units of their
/// own (custom_sharded_layers, as its Llama 3 full configs do: "useful for large vocab size
/// models"), so the root keeps only the final norm. A tied output reads the embedding's weight
/// without calling its module, which FSDP's hooks would not gather: those stay in the root.
inline bool ShardsEmbeddingsApart(FinetuneFramework f, bool tied_embeddings) {
  return f == FinetuneFramework::kTorchtune && !tied_embeddings;
}

const char* FinetuneMethodName(FinetuneMethod m);
const char* BaseWeightsName(BaseWeights b);
const char* FinetuneOptimizerName(FinetuneOptimizer o);
const char* ShardingName(Sharding s);
const char* CheckpointingName(Checkpointing c);
const char* FinetuneFrameworkName(FinetuneFramework f);
const char* MasterWeightsName(MasterWeights w);
/// "attention", "mlp", "all", or the projections joined by '+' ("q+v", "q+k+v+mlp").
std::string AdapterTargetsName(const AdapterTargets& t);

}  // namespace planner
