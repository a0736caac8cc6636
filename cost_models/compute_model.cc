#include "planner/cost/compute_model.h"

namespace planner {

ForwardFlops CountForwardFlops(const Model& m, int64_t seq, int64_t micro_batch) {
  const double tokens = static_cast<double>(seq) * static_cast<double>(micro_batch);
  const double s = static_cast<double>(seq);
  const double h = static_cast<double>(m.hidden);
  const AttentionShape a = AttentionOf(m);
  const double mats = IsGatedMlp(m) ? 3.0 : 2.0;
  ForwardFlops f;
  // 2 FLOPs per multiply-add. QKV: h -> q + 2kv (or MLA's low-rank steps); output: q -> h.
  f.attention_linear = 2.0 * tokens * (a.in_weights + a.out_weights);
  // Scores QK^T and the weighted sum with V, each 2 s^2 b q (Narayanan et al. 2021, eq. 3);
  // sliding-window layers see at most the window's keys.
  f.attention_core = 2.0 * tokens * MeanAttendedKeys(m, s) * (a.q_width + a.out_width);
  f.dense_mlp = 2.0 * tokens * h * static_cast<double>(m.ffn_hidden) * mats;
  f.mlp = f.dense_mlp;
  if (IsMoe(m)) {
    const double fe = static_cast<double>(ExpertFfnHidden(m));
    const double fs = m.shared_ffn_hidden > 0 ? static_cast<double>(m.shared_ffn_hidden) : fe;
    const double routed = static_cast<double>(m.experts_per_token) * fe;
    const double shared = static_cast<double>(m.shared_experts) * fs;
    f.mlp = 2.0 * tokens * h * (routed + shared) * mats + 2.0 * tokens * h * m.experts;  // router
  }
  f.logits = 2.0 * tokens * h * static_cast<double>(m.vocab);
  return f;
}

double ModelFlopsPerStep(const Model& m, int64_t seq, int64_t global_batch) {
  const ForwardFlops f = CountForwardFlops(m, seq, 1);
  const double moe_layers = static_cast<double>(MoeLayers(m));
  const double dense_layers = static_cast<double>(m.layers) - moe_layers;
  // Each multi-token-prediction module adds a layer (MoE in a MoE model) and an output-head pass.
  const double mtp = static_cast<double>(m.mtp_layers);
  const double forward =
      (static_cast<double>(m.layers) + mtp) * (f.attention_linear + f.attention_core) +
      dense_layers * f.dense_mlp + (moe_layers + mtp) * f.mlp + (1.0 + mtp) * f.logits;
  // Backward costs twice the forward (gradients for activations and for weights).
  return 3.0 * forward * static_cast<double>(global_batch);
}

double TrainingFlops(double params, double tokens) { return 6.0 * params * tokens; }

double TpComputeCommRatio(int64_t hidden, int tp, double bytes_per_value) {
  return 6.0 * (static_cast<double>(hidden) / tp) / bytes_per_value;
}

double TpMax(int64_t hidden, double bytes_per_value, double peak_flops,
             double one_way_bytes_per_s) {
  return 6.0 * static_cast<double>(hidden) /
         (bytes_per_value * peak_flops / one_way_bytes_per_s);
}

}  // namespace planner
