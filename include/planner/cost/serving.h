// Serving: the memory of a replica as inference engines lay it out, and the time of its prefill
// and decode steps. All bytes, seconds and FLOP/s.
#pragma once

#include <cstdint>

#include "planner/model/hardware.h"
#include "planner/model/model.h"

namespace planner {

/// How the weights of the linear layers are stored. Embeddings stay in 16 bits; so does the
/// output layer unless ServeSetup::output_quantized (vLLM, SGLang and TensorRT-LLM checkpoints
/// quantize the decoder's linear layers; torchao's quantize_ converts every nn.Linear).
/// kInt8 is W8A8 (int8 matmuls); kInt8Wo and kInt4Wo are weight-only, dequantized to 16-bit
/// matmuls (torchao int8_weight_only, int4_weight_only with round-to-nearest).
enum class WeightFormat { kBf16, kFp8, kInt8, kInt4Awq, kInt4Gptq, kNvfp4, kInt8Wo, kInt4Wo };
inline constexpr int kWeightFormatCount = 8;
const char* WeightFormatName(WeightFormat w);

/// Whether the format stores a 16-bit scale and zero point per group of `weight_group` weights
/// (int4-awq, int4-gptq, int4-wo).
bool UsesWeightGroups(WeightFormat w);

/// Bytes per weight of a quantized linear layer, scales included: fp8 and int8 with one scale
/// per output channel (negligible); the 4-bit integer formats with a 16-bit scale and a 16-bit
/// zero point per group of `group` weights (AutoAWQ, AutoGPTQ default 128; torchao's
/// int4_weight_only keeps both in bf16); NVFP4 with an fp8 scale per block of 16 (NVIDIA's
/// NVFP4 format).
double BytesPerWeight(WeightFormat w, int64_t group);

/// Whether the format runs its matmuls in 8 bits (fp8, int8 W8A8) or dequantizes to 16 bits.
bool Computes8Bit(WeightFormat w);

/// One serving replica and its batch: tp x pp GPUs. With ep = tp (MoE only), the MoE layers
/// place whole experts on the tensor-parallel ranks (vLLM --enable-expert-parallel, SGLang
/// --ep-size, TensorRT-LLM --ep_size) and exchange tokens by all-to-all instead of all-reducing.
struct ServePlan {
  int tp = 1;
  int pp = 1;
  int ep = 1;
  int replicas = 1;
  int64_t batch = 1;  ///< sequences decoded together per replica
  WeightFormat weights = WeightFormat::kBf16;
  Precision kv = Precision::kBf16;  ///< KV cache values: bf16/fp16 (2 bytes) or fp8 (1)
  bool operator==(const ServePlan&) const = default;
};

/// The request shape and the engine's memory budget.
struct ServeSetup {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double memory_fraction = 0.9;       ///< share of the GPU the engine takes (vLLM default)
  int64_t max_batched_tokens = 8192;  ///< tokens one engine step processes at most
  int64_t block_tokens = 16;          ///< KV-cache page size (vLLM, SGLang default 16/1)
  /// The decode attention kernel reads the KV cache once per query head, not once per KV head
  /// (TensorRT-LLM before 0.8's XQA); grouped-query models then read heads / kv_heads times more.
  bool kv_read_per_query_head = false;
  int64_t weight_group = 128;     ///< weights per scale and zero of the 4-bit integer formats
  bool output_quantized = false;  ///< the output layer (LM head) in the weights' format too
};

/// Bytes of K and V (or of MLA's latent and rope key) one token leaves in the cache, all layers,
/// averaged over a context of `context` tokens (sliding-window layers keep at most their window).
double KvBytesPerToken(const Model& m, Precision kv, int64_t context);

/// Bytes of the weights one GPU of the replica holds: the decoder's linear layers at the chosen
/// format, embeddings in 16 bits, the output layer in 16 bits or (s.output_quantized) at the
/// format, all split over tp (vocabulary-parallel embedding) and pp.
double WeightBytesPerGpu(const Model& m, const ServePlan& p, const ServeSetup& s);
/// Of those, the weights stored at the chosen format (linear layers, and the output layer when
/// s.output_quantized), per GPU.
double QuantizedWeightsPerGpu(const Model& m, const ServePlan& p, const ServeSetup& s);

/// ALU operations per weight a decode step spends unpacking and scaling it before use, where
/// the kernel does so on the CUDA cores: torchao's weight-only kernels (int8-wo: a dequantizing
/// matmul; int4-wo: tinygemm). 0 for formats the tensor cores read as stored (bf16, fp8, int8
/// W8A8) and for the 4-bit kernels engines ship (Marlin, TensorRT-LLM), taken at the roofline.
double DequantOpsPerWeight(WeightFormat w);

/// KV bytes per token on one GPU: split over tensor-parallel ranks by KV head; with fewer KV
/// heads than ranks each head is replicated (vLLM, TensorRT-LLM); MLA's latent is one per token
/// and every rank keeps all of it.
double KvBytesPerTokenPerGpu(const Model& m, const ServePlan& p, int64_t context);

/// One GPU of a replica, bytes.
struct ServeMemory {
  double weights = 0;
  double embedding = 0;    ///< of weights: the input embedding, 16 bits
  double activations = 0;  ///< one step's workspace at max_batched_tokens
  double overhead = 0;     ///< CUDA context share, CUDA graphs, NCCL buffers
  double kv_budget = 0;    ///< what is left for the KV cache within the memory fraction
  double kv_per_sequence = 0;  ///< one sequence's pages at input + output tokens
  int64_t max_sequences = 0;   ///< concurrent sequences the KV budget holds
};
ServeMemory ServingMemoryOf(const Model& m, const Gpu& gpu, const ServePlan& p,
                            const ServeSetup& s);

/// Seconds of the phases of one request shape on one replica.
struct ServeTime {
  double ttft = 0;          ///< prefill of one prompt alone, to its first token
  double prefill = 0;       ///< prefill of a whole batch of prompts
  double decode_step = 0;   ///< one decode step of the batch at the mean context
  double decode_comm = 0;   ///< of which tensor- and pipeline-parallel communication
  double tokens_per_s = 0;  ///< output tokens per second of the replica, batch in lockstep
};
ServeTime ServingTimeOf(const Model& m, const Cluster& c, const ServePlan& p,
                        const ServeSetup& s);

}  // namespace planner
