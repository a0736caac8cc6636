#include "planner/model/model.h"

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

int64_t MoeLayers(const Model& m) { return IsMoe(m) ? m.layers - m.dense_layers : 0; }

ParamCounts CountParameters(const Model& m) {
  const double h = static_cast<double>(m.hidden);
  const double q = static_cast<double>(m.heads * HeadDim(m));     // query/output width
  const double kv = static_cast<double>(m.kv_heads * HeadDim(m));  // key and value width
  const double mlp_mats = m.mlp == MlpKind::kSwiglu ? 3.0 : 2.0;
  const bool bias = m.linear_bias;
  ParamCounts c;
  c.embedding = static_cast<double>(m.vocab) * h;
  if (m.learned_positions) c.embedding += static_cast<double>(m.seq_len) * h;
  c.output = m.tied_embeddings ? 0.0 : static_cast<double>(m.vocab) * h;
  // Q and output projections h x q, K and V h x kv each.
  c.attention_per_layer = 2.0 * h * q + 2.0 * h * kv + (bias ? q + 2.0 * kv + h : 0.0);
  auto mlp = [&](double f) {
    return mlp_mats * h * f + (bias ? (mlp_mats - 1.0) * f + h : 0.0);
  };
  c.dense_mlp_per_layer = mlp(static_cast<double>(m.ffn_hidden));
  const double norm = m.rms_norm ? h : 2.0 * h;  // LayerNorm has a weight and a bias
  c.norms_per_layer = 2.0 * norm;
  c.final_norm = norm;
  double active_mlp = c.dense_mlp_per_layer;
  if (IsMoe(m)) {
    const double fe = static_cast<double>(ExpertFfnHidden(m));
    const double router = h * static_cast<double>(m.experts);
    c.expert_mlp_per_layer = static_cast<double>(m.experts) * mlp(fe) + router;
    c.shared_mlp_per_layer = static_cast<double>(m.shared_experts) * mlp(fe);
    active_mlp = static_cast<double>(m.experts_per_token) * mlp(fe) + router +
                 c.shared_mlp_per_layer;
  }
  const double dense_layers = static_cast<double>(m.layers - MoeLayers(m));
  const double moe_layers = static_cast<double>(MoeLayers(m));
  const double common =
      static_cast<double>(m.layers) * (c.attention_per_layer + c.norms_per_layer) + c.final_norm +
      c.embedding + c.output + dense_layers * c.dense_mlp_per_layer;
  c.total = common + moe_layers * (c.expert_mlp_per_layer + c.shared_mlp_per_layer);
  c.active = common + moe_layers * active_mlp;
  return c;
}

void ValidateModel(const Model& m, const std::string& where) {
  auto positive = [&](int64_t v, const char* key) {
    if (v <= 0) {
      throw InputError(where + "." + key, "must be a positive integer, got " + std::to_string(v));
    }
  };
  positive(m.layers, "layers");
  positive(m.hidden, "hidden");
  positive(m.heads, "heads");
  positive(m.kv_heads, "kv_heads");
  positive(m.ffn_hidden, "ffn_hidden");
  positive(m.vocab, "vocab");
  positive(m.seq_len, "seq_len");
  if (m.head_dim == 0 && m.hidden % m.heads != 0) {
    throw InputError(where + ".heads", "hidden " + std::to_string(m.hidden) +
                                           " is not divisible by heads " + std::to_string(m.heads));
  }
  if (m.heads % m.kv_heads != 0) {
    throw InputError(where + ".kv_heads", "heads " + std::to_string(m.heads) +
                                              " is not divisible by kv_heads " +
                                              std::to_string(m.kv_heads));
  }
  if (m.experts < 0 || m.experts_per_token < 0 || m.shared_experts < 0 || m.dense_layers < 0) {
    throw InputError(where + ".experts", "expert counts must not be negative");
  }
  if (m.experts > 0 && (m.experts_per_token < 1 || m.experts_per_token > m.experts)) {
    throw InputError(where + ".experts_per_token",
                     "must be between 1 and experts (" + std::to_string(m.experts) + ")");
  }
  if (m.experts == 0 && m.experts_per_token > 0) {
    throw InputError(where + ".experts", "experts_per_token is set but experts is 0");
  }
  if (m.dense_layers > m.layers) {
    throw InputError(where + ".dense_layers", "exceeds layers");
  }
  auto at_most = [&](int64_t v, int64_t most, const char* key) {
    if (v > most) {
      throw InputError(where + "." + key, "must be at most " + std::to_string(most) + ", got " +
                                              std::to_string(v));
    }
  };
  at_most(m.layers, ModelLimits::kLayers, "layers");
  at_most(m.hidden, ModelLimits::kHidden, "hidden");
  at_most(m.heads, ModelLimits::kHeads, "heads");
  at_most(m.kv_heads, ModelLimits::kHeads, "kv_heads");
  at_most(m.head_dim, ModelLimits::kHeads, "head_dim");
  at_most(m.ffn_hidden, ModelLimits::kFfnHidden, "ffn_hidden");
  at_most(m.moe_ffn_hidden, ModelLimits::kFfnHidden, "moe_ffn_hidden");
  at_most(m.vocab, ModelLimits::kVocab, "vocab");
  at_most(m.seq_len, ModelLimits::kSeqLen, "seq_len");
  at_most(m.experts, ModelLimits::kHeads, "experts");
  at_most(m.shared_experts, ModelLimits::kHeads, "shared_experts");
  at_most(m.default_global_batch, ModelLimits::kGlobalBatch, "default_global_batch");
  for (const auto& [v, key] : {std::pair{m.head_dim, "head_dim"},
                               std::pair{m.moe_ffn_hidden, "moe_ffn_hidden"},
                               std::pair{m.default_global_batch, "default_global_batch"}}) {
    if (v < 0) {
      throw InputError(where + "." + key, "must not be negative, got " + std::to_string(v));
    }
  }
  const double params = CountParameters(m).total;
  if (!(params <= ModelLimits::kParameters)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.3g parameters; at most 1e+13 (10T) are supported", params);
    throw InputError(where, buf);
  }
}

}  // namespace planner
