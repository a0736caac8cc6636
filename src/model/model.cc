#include "planner/model/model.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "planner/model/error.h"

namespace planner {

int64_t HeadDim(const Model& m) { return m.head_dim > 0 ? m.head_dim : m.hidden / m.heads; }

int64_t ExpertFfnHidden(const Model& m) {
  return m.moe_ffn_hidden > 0 ? m.moe_ffn_hidden : m.ffn_hidden;
}

bool IsMoe(const Model& m) { return m.experts > 0; }
bool IsMla(const Model& m) { return m.kv_lora_rank > 0; }
bool IsGatedMlp(const Model& m) { return m.mlp != MlpKind::kGelu; }

bool IsMoeLayer(const Model& m, int64_t layer) {
  const int64_t every = std::max<int64_t>(m.moe_every, 1);
  return IsMoe(m) && layer >= m.dense_layers && (layer + 1) % every == 0;
}

int64_t MoeLayersIn(const Model& m, int64_t first, int64_t count) {
  if (!IsMoe(m)) return 0;
  if (m.moe_every <= 1) {
    return std::clamp<int64_t>(first + count - std::max(first, m.dense_layers), 0, count);
  }
  int64_t n = 0;
  for (int64_t i = first; i < first + count; ++i) n += IsMoeLayer(m, i) ? 1 : 0;
  return n;
}

int64_t MoeLayers(const Model& m) { return MoeLayersIn(m, 0, m.layers); }

double GlobalLayerShare(const Model& m) {
  if (m.sliding_window <= 0) return 1.0;
  return m.global_every > 0 ? 1.0 / static_cast<double>(m.global_every) : 0.0;
}

double MeanAttendedKeys(const Model& m, double seq) {
  const double g = GlobalLayerShare(m);
  const double local = m.sliding_window > 0 ? std::min(seq, double(m.sliding_window)) : seq;
  return g * seq + (1.0 - g) * local;
}

AttentionShape AttentionOf(const Model& m) {
  const double h = static_cast<double>(m.hidden);
  const double heads = static_cast<double>(m.heads);
  AttentionShape a;
  if (!IsMla(m)) {
    const double hd = static_cast<double>(HeadDim(m));
    a.q_width = heads * hd;
    a.k_width = static_cast<double>(m.kv_heads) * hd;
    a.v_width = a.k_width;
    a.out_width = a.q_width;
    a.in_weights = h * (a.q_width + 2.0 * a.k_width);
    a.out_weights = a.q_width * h;
    a.kv_cache_values = 2.0 * a.k_width;
    return a;
  }
  // DeepSeek-V2 (arXiv 2405.04434) sec. 2.1.2-2.1.3: W_DQ, W_UQ (or W_Q), W_DKV plus the shared
  // RoPE key W_KR, then W_UK and W_UV per head; the cache keeps the latent and the RoPE key.
  const double qk = static_cast<double>(m.qk_nope_head_dim + m.qk_rope_head_dim);
  const double lq = static_cast<double>(m.q_lora_rank);
  const double lkv = static_cast<double>(m.kv_lora_rank);
  const double rope = static_cast<double>(m.qk_rope_head_dim);
  a.q_width = heads * qk;
  a.k_width = heads * qk;
  a.v_width = heads * static_cast<double>(m.v_head_dim);
  a.out_width = a.v_width;
  const double q_in = m.q_lora_rank > 0 ? h * lq + lq * a.q_width : h * a.q_width;
  const double kv_in =
      h * (lkv + rope) + lkv * heads * static_cast<double>(m.qk_nope_head_dim + m.v_head_dim);
  a.in_weights = q_in + kv_in;
  a.out_weights = a.out_width * h;
  a.kv_cache_values = lkv + rope;
  return a;
}

namespace {

// One layer's attention parameters: projections, their biases, and per-head or latent norms.
double AttentionParams(const Model& m) {
  const AttentionShape a = AttentionOf(m);
  const double h = static_cast<double>(m.hidden);
  double n = a.in_weights + a.out_weights;
  if (m.linear_bias) n += a.q_width + 2.0 * a.k_width + h;
  if (m.qkv_bias && !m.linear_bias) n += a.q_width + 2.0 * a.k_width;
  if (m.qk_norm) n += 2.0 * static_cast<double>(HeadDim(m));
  // MLA normalises the two latents (DeepSeek-V3 q_a_layernorm, kv_a_layernorm).
  if (IsMla(m)) n += static_cast<double>(m.q_lora_rank + m.kv_lora_rank);
  return n;
}

double MlpParams(const Model& m, double f) {
  const double h = static_cast<double>(m.hidden);
  const double mats = IsGatedMlp(m) ? 3.0 : 2.0;
  return mats * h * f + (m.linear_bias ? (mats - 1.0) * f + h : 0.0);
}

}  // namespace

ParamCounts CountParameters(const Model& m) {
  const double h = static_cast<double>(m.hidden);
  ParamCounts c;
  c.embedding = static_cast<double>(m.vocab) * h;
  const int64_t positions = m.max_context > 0 ? m.max_context : m.seq_len;
  if (m.learned_positions) c.embedding += static_cast<double>(positions) * h;
  c.output = m.tied_embeddings ? 0.0 : static_cast<double>(m.vocab) * h;
  c.attention_per_layer = AttentionParams(m);
  c.dense_mlp_per_layer = MlpParams(m, static_cast<double>(m.ffn_hidden));
  const double norm = m.rms_norm ? h : 2.0 * h;  // LayerNorm has a weight and a bias
  c.norms_per_layer = 2.0 * norm;
  c.final_norm = norm;
  double active_mlp = c.dense_mlp_per_layer;
  if (IsMoe(m)) {
    const double fe = static_cast<double>(ExpertFfnHidden(m));
    const double fs = m.shared_ffn_hidden > 0 ? static_cast<double>(m.shared_ffn_hidden) : fe;
    const double router = h * static_cast<double>(m.experts);
    c.expert_mlp_per_layer = static_cast<double>(m.experts) * MlpParams(m, fe) + router;
    c.shared_mlp_per_layer = static_cast<double>(m.shared_experts) * MlpParams(m, fs);
    active_mlp = static_cast<double>(m.experts_per_token) * MlpParams(m, fe) + router +
                 c.shared_mlp_per_layer;
  }
  const double moe_layers = static_cast<double>(MoeLayers(m));
  const double dense_layers = static_cast<double>(m.layers) - moe_layers;
  const double common =
      static_cast<double>(m.layers) * (c.attention_per_layer + c.norms_per_layer) + c.final_norm +
      c.embedding + c.output + dense_layers * c.dense_mlp_per_layer;
  c.total = common + moe_layers * (c.expert_mlp_per_layer + c.shared_mlp_per_layer);
  c.active = common + moe_layers * active_mlp;
  c.active_matmul = c.active - c.embedding;
  // DeepSeek-V3 sec. 2.2: each MTP module is a layer of the last kind, the projection of
  // [h; embedding] (2h x h) and two norms; the embedding and output head are shared.
  const double last_mlp = IsMoe(m) ? c.expert_mlp_per_layer + c.shared_mlp_per_layer
                                   : c.dense_mlp_per_layer;
  c.mtp = static_cast<double>(m.mtp_layers) *
          (c.attention_per_layer + c.norms_per_layer + last_mlp + 2.0 * h * h + 2.0 * norm);
  return c;
}

namespace {

// One bound of ValidateModel: the field's value, its largest allowed value and its key.
struct Bound {
  int64_t value;
  int64_t most;
  const char* key;
};

[[noreturn]] void Refuse(const std::string& where, const char* key, const std::string& message) {
  throw InputError(where + "." + key, message);
}

// The sizes every model has, and the divisibility attention needs.
void CheckShape(const Model& m, const std::string& where) {
  for (const auto& [v, key] :
       {std::pair{m.layers, "layers"}, std::pair{m.hidden, "hidden"}, std::pair{m.heads, "heads"},
        std::pair{m.kv_heads, "kv_heads"}, std::pair{m.ffn_hidden, "ffn_hidden"},
        std::pair{m.vocab, "vocab"}, std::pair{m.seq_len, "seq_len"}}) {
    if (v <= 0) Refuse(where, key, "must be a positive integer, got " + std::to_string(v));
  }
  if (m.head_dim == 0 && m.hidden % m.heads != 0) {
    Refuse(where, "heads",
           "hidden " + std::to_string(m.hidden) + " is not divisible by heads " +
               std::to_string(m.heads));
  }
  if (m.heads % m.kv_heads != 0) {
    Refuse(where, "kv_heads",
           "heads " + std::to_string(m.heads) + " is not divisible by kv_heads " +
               std::to_string(m.kv_heads));
  }
}

// Mixture-of-experts counts: none negative, top-k within the experts, dense layers within layers.
void CheckExperts(const Model& m, const std::string& where) {
  if (m.experts < 0 || m.experts_per_token < 0 || m.shared_experts < 0 || m.dense_layers < 0) {
    Refuse(where, "experts", "expert counts must not be negative");
  }
  if (m.experts > 0 && (m.experts_per_token < 1 || m.experts_per_token > m.experts)) {
    Refuse(where, "experts_per_token",
           "must be between 1 and experts (" + std::to_string(m.experts) + ")");
  }
  if (m.experts == 0 && m.experts_per_token > 0) {
    Refuse(where, "experts", "experts_per_token is set but experts is 0");
  }
  if (m.dense_layers > m.layers) Refuse(where, "dense_layers", "exceeds layers");
  if (m.moe_every < 1) Refuse(where, "moe_every", "must be at least 1");
}

// MLA needs its per-head widths; a sliding window needs a window.
void CheckAttention(const Model& m, const std::string& where) {
  if (IsMla(m)) {
    for (const auto& [v, key] : {std::pair{m.qk_nope_head_dim, "qk_nope_head_dim"},
                                 std::pair{m.qk_rope_head_dim, "qk_rope_head_dim"},
                                 std::pair{m.v_head_dim, "v_head_dim"}}) {
      if (v <= 0) Refuse(where, key, "must be positive with kv_lora_rank (MLA)");
    }
  }
  if (m.global_every > 0 && m.sliding_window == 0) {
    Refuse(where, "global_every", "needs sliding_window");
  }
}

// Every size within ModelLimits, and the optional ones (0: unset) not negative.
void CheckLimits(const Model& m, const std::string& where) {
  using L = ModelLimits;
  for (const Bound& b :
       {Bound{m.layers, L::kLayers, "layers"}, Bound{m.hidden, L::kHidden, "hidden"},
        Bound{m.heads, L::kHeads, "heads"}, Bound{m.kv_heads, L::kHeads, "kv_heads"},
        Bound{m.head_dim, L::kHeads, "head_dim"}, Bound{m.ffn_hidden, L::kFfnHidden, "ffn_hidden"},
        Bound{m.moe_ffn_hidden, L::kFfnHidden, "moe_ffn_hidden"},
        Bound{m.vocab, L::kVocab, "vocab"}, Bound{m.seq_len, L::kSeqLen, "seq_len"},
        Bound{m.experts, L::kHeads, "experts"},
        Bound{m.shared_experts, L::kHeads, "shared_experts"},
        Bound{m.default_global_batch, L::kGlobalBatch, "default_global_batch"},
        Bound{m.shared_ffn_hidden, L::kFfnHidden, "shared_ffn_hidden"},
        Bound{m.q_lora_rank, L::kHidden, "q_lora_rank"},
        Bound{m.kv_lora_rank, L::kHidden, "kv_lora_rank"},
        Bound{m.qk_nope_head_dim, L::kHeads, "qk_nope_head_dim"},
        Bound{m.qk_rope_head_dim, L::kHeads, "qk_rope_head_dim"},
        Bound{m.v_head_dim, L::kHeads, "v_head_dim"},
        Bound{m.sliding_window, L::kSeqLen, "sliding_window"},
        Bound{m.global_every, L::kLayers, "global_every"},
        Bound{m.moe_every, L::kLayers, "moe_every"}, Bound{m.mtp_layers, L::kLayers, "mtp_layers"},
        Bound{m.max_context, L::kSeqLen, "max_context"}}) {
    if (b.value > b.most) {
      Refuse(where, b.key,
             "must be at most " + std::to_string(b.most) + ", got " + std::to_string(b.value));
    }
  }
  for (const auto& [v, key] :
       {std::pair{m.head_dim, "head_dim"}, std::pair{m.moe_ffn_hidden, "moe_ffn_hidden"},
        std::pair{m.default_global_batch, "default_global_batch"},
        std::pair{m.shared_ffn_hidden, "shared_ffn_hidden"}, std::pair{m.q_lora_rank, "q_lora_rank"},
        std::pair{m.kv_lora_rank, "kv_lora_rank"}, std::pair{m.sliding_window, "sliding_window"},
        std::pair{m.global_every, "global_every"}, std::pair{m.mtp_layers, "mtp_layers"},
        std::pair{m.max_context, "max_context"}}) {
    if (v < 0) Refuse(where, key, "must not be negative, got " + std::to_string(v));
  }
}

}  // namespace

void ValidateModel(const Model& m, const std::string& where) {
  CheckShape(m, where);
  CheckExperts(m, where);
  CheckLimits(m, where);
  CheckAttention(m, where);
  const double params = CountParameters(m).total;
  if (!(params <= ModelLimits::kParameters)) {
    // Every digit: rounded to 3 ("1e+13 parameters; at most 1e+13"), a model just over the
    // limit seemed to be at it.
    char buf[128];
    std::snprintf(buf, sizeof buf,
                  "%.0f parameters (%.4g); at most 10000000000000 (10T) are supported", params,
                  params);
    throw InputError(where, buf);
  }
}

}  // namespace planner
