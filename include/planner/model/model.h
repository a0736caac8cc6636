// A transformer language model's shape, and the parameter counts that follow from it.
#pragma once

#include <cstdint>
#include <string>

namespace planner {

/// GELU: 2 matrices h x f; SwiGLU and GeGLU (Gemma): 3 (gate, up, down).
enum class MlpKind { kGelu, kSwiglu, kGeglu };

/// The published shape of a decoder-only transformer. Sizes are counts, not bytes.
struct Model {
  std::string name{};
  int64_t layers = 0;
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;     ///< = heads without grouped-query attention
  int64_t head_dim = 0;     ///< 0 means hidden / heads
  int64_t ffn_hidden = 0;   ///< dense MLP size (per expert for MoE)
  int64_t vocab = 0;
  int64_t seq_len = 0;      ///< default training sequence length
  int64_t max_context = 0;  ///< longest context the model supports; 0 means seq_len
  MlpKind mlp = MlpKind::kGelu;
  bool tied_embeddings = false;
  bool learned_positions = false;  ///< GPT-style learned position table (else RoPE)
  bool rms_norm = false;           ///< RMSNorm (one vector) instead of LayerNorm (two)
  bool linear_bias = false;        ///< biases on the linear layers (GPT-2/3 style)
  bool dropout = false;            ///< trained with dropout (masks are stored for backward)
  bool qkv_bias = false;           ///< biases on the Q, K and V projections only (Qwen2)
  bool qk_norm = false;            ///< RMSNorm over each head's query and key (Qwen3, Gemma 3)
  // Multi-head latent attention (DeepSeek-V2/V3): K and V are rebuilt per head from a
  // kv_lora_rank latent, and a shared qk_rope_head_dim key carries the positions. MLA when
  // kv_lora_rank > 0; heads then has no separate K/V heads (kv_heads = heads).
  int64_t q_lora_rank = 0;       ///< query down-projection rank; 0: queries projected directly
  int64_t kv_lora_rank = 0;      ///< compressed K/V latent per token (what the KV cache keeps)
  int64_t qk_nope_head_dim = 0;  ///< per-head query/key width without positions
  int64_t qk_rope_head_dim = 0;  ///< per-head query/key width with RoPE (the key's is shared)
  int64_t v_head_dim = 0;        ///< per-head value width
  // Sliding-window attention: `sliding_window` keys per query on local layers; one layer in
  // every `global_every` attends to the whole context (0: every layer is local).
  int64_t sliding_window = 0;    ///< 0: every layer attends to the whole sequence
  int64_t global_every = 0;      ///< Gemma 2: 2, Gemma 3: 6, GPT-OSS: 2
  int64_t experts = 0;             ///< routed experts; 0 for a dense model
  int64_t experts_per_token = 0;   ///< top-k routing
  int64_t shared_experts = 0;      ///< always-active experts (DeepSeek style)
  int64_t moe_ffn_hidden = 0;      ///< FFN size of one expert; 0 means ffn_hidden
  int64_t shared_ffn_hidden = 0;   ///< FFN size of one shared expert; 0 means moe_ffn_hidden
  int64_t dense_layers = 0;        ///< leading layers with a dense MLP in a MoE model
  int64_t moe_every = 1;           ///< after dense_layers, layer i (0-based) is MoE when
                                   ///< (i + 1) % moe_every == 0 (Llama 4, Qwen-MoE step)
  int64_t mtp_layers = 0;          ///< multi-token-prediction modules (DeepSeek-V3: 1)
  double rope_theta = 0;           ///< RoPE base; 0: not stated (Megatron-LM's 10000)
  double rope_scaling_factor = 0;  ///< context extension factor (YaRN, Llama 3.1); 0: none
  int64_t default_global_batch = 0;  ///< sequences per optimizer step as published
  double published_params = 0;     ///< the count the model's authors state, for tests
  std::string source{};              ///< where the shape comes from

  bool operator==(const Model&) const = default;
};

/// Parameters split by where they live; all counts.
struct ParamCounts {
  double embedding = 0;       ///< input embedding (and learned positions)
  double output = 0;          ///< output layer; 0 when tied to the embedding
  double attention_per_layer = 0;
  double dense_mlp_per_layer = 0;   ///< MLP of a dense layer
  double expert_mlp_per_layer = 0;  ///< all routed experts of one MoE layer (+ router)
  double shared_mlp_per_layer = 0;  ///< shared experts of one MoE layer
  double norms_per_layer = 0;
  double final_norm = 0;
  double total = 0;   ///< every parameter of the main model (without MTP modules)
  double active = 0;  ///< parameters touched per token (top-k experts only)
  /// active without the input embedding, the convention of DeepSeek-V3's 36.6B and gpt-oss's
  /// model card (a lookup, not a matmul)
  double active_matmul = 0;
  double mtp = 0;     ///< multi-token-prediction modules (not in total; embedding and head shared)
};

/// One layer's attention as the matmuls see it; widths are per token, all heads.
struct AttentionShape {
  double q_width = 0;       ///< queries (and keys) entering QK^T: heads x qk head dim
  double k_width = 0;       ///< keys, after any up-projection (kv_heads x head_dim with GQA)
  double v_width = 0;       ///< values, after any up-projection
  double out_width = 0;     ///< the weighted sum over all heads, = the output projection's input
  double in_weights = 0;    ///< weights from the layer input to Q, K, V (with any low-rank steps)
  double out_weights = 0;   ///< output projection weights
  double kv_cache_values = 0;  ///< values cached per token and layer for decoding
};

int64_t HeadDim(const Model& m);
bool IsMla(const Model& m);
bool IsGatedMlp(const Model& m);  ///< SwiGLU or GeGLU: three matrices
AttentionShape AttentionOf(const Model& m);
/// Whether layer `layer` (0-based) has routed experts.
bool IsMoeLayer(const Model& m, int64_t layer);
/// MoE layers among layers [first, first + count).
int64_t MoeLayersIn(const Model& m, int64_t first, int64_t count);
/// The share of layers that attend to the whole sequence (1 without sliding windows).
double GlobalLayerShare(const Model& m);
/// Keys one query attends to on average over the layers, for a sequence of `seq` tokens.
double MeanAttendedKeys(const Model& m, double seq);
/// FFN size of one routed or shared expert: moe_ffn_hidden, or ffn_hidden when not given.
int64_t ExpertFfnHidden(const Model& m);
int64_t MoeLayers(const Model& m);
bool IsMoe(const Model& m);
ParamCounts CountParameters(const Model& m);

/// The largest models the planner answers for: beyond these a size is a typo, and refusing it
/// keeps every product of sizes (heads x head_dim, ...) within int64 and finite doubles.
struct ModelLimits {
  static constexpr int64_t kLayers = 100'000;
  static constexpr int64_t kHidden = 1 << 20;
  static constexpr int64_t kHeads = 1 << 16;     ///< also kv_heads, head_dim, experts
  static constexpr int64_t kFfnHidden = 1 << 24;  ///< also moe_ffn_hidden
  static constexpr int64_t kVocab = 100'000'000;
  static constexpr int64_t kSeqLen = 1 << 24;    ///< 16M tokens
  static constexpr int64_t kGlobalBatch = 10'000'000;
  static constexpr double kParameters = 1e13;    ///< 10T
};

/// Throws InputError (where = `where` + "." + key) unless the shape is usable and within
/// ModelLimits; a model over kParameters names `where` itself.
void ValidateModel(const Model& m, const std::string& where);

}  // namespace planner
