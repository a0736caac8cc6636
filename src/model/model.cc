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
        Bound{m.default_global_batch, L::kGlobalBatch, "default_global_batch"}}) {
    if (b.value > b.most) {
      Refuse(where, b.key,
             "must be at most " + std::to_string(b.most) + ", got " + std::to_string(b.value));
    }
  }
  for (const auto& [v, key] :
       {std::pair{m.head_dim, "head_dim"}, std::pair{m.moe_ffn_hidden, "moe_ffn_hidden"},
        std::pair{m.default_global_batch, "default_global_batch"}}) {
    if (v < 0) Refuse(where, key, "must not be negative, got " + std::to_string(v));
  }
}

}  // namespace

void ValidateModel(const Model& m, const std::string& where) {
  CheckShape(m, where);
  CheckExperts(m, where);
  CheckLimits(m, where);
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
