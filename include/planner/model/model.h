// A transformer language model's shape, and the parameter counts that follow from it.
#pragma once

#include <cstdint>
#include <string>

namespace planner {

enum class MlpKind { kGelu, kSwiglu };  ///< GELU: 2 matrices h x f; SwiGLU: 3 (gate, up, down)

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
  MlpKind mlp = MlpKind::kGelu;
  bool tied_embeddings = false;
  bool learned_positions = false;  ///< GPT-style learned position table (else RoPE)
  bool rms_norm = false;           ///< RMSNorm (one vector) instead of LayerNorm (two)
  bool linear_bias = false;        ///< biases on the linear layers (GPT-2/3 style)
  bool dropout = false;            ///< trained with dropout (masks are stored for backward)
  int64_t experts = 0;             ///< routed experts; 0 for a dense model
  int64_t experts_per_token = 0;   ///< top-k routing
  int64_t shared_experts = 0;      ///< always-active experts (DeepSeek style)
  int64_t moe_ffn_hidden = 0;      ///< FFN size of one expert; 0 means ffn_hidden
  int64_t dense_layers = 0;        ///< leading layers with a dense MLP in a MoE model
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
  double total = 0;   ///< every parameter
  double active = 0;  ///< parameters touched per token (top-k experts only)
};

int64_t HeadDim(const Model& m);
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
