// Floating-point work of a training step, counted from the exact shape.
#pragma once

#include <cstdint>

#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

/// Forward FLOPs of one micro-batch of `micro_batch` sequences of `seq` tokens.
struct ForwardFlops {
  double attention_linear = 0;  ///< QKV and output projections, one layer
  double attention_core = 0;    ///< QK^T and attention x V, one layer (causal: not halved)
  double mlp = 0;               ///< one layer (active experts only for MoE)
  double dense_mlp = 0;         ///< one dense layer's MLP when the model is MoE
  double logits = 0;            ///< output layer
  double layer() const { return attention_linear + attention_core + mlp; }
};
ForwardFlops CountForwardFlops(const Model& m, int64_t seq, int64_t micro_batch);

/// Model FLOPs of one optimizer step: 3 x forward (forward + backward), no recomputation.
/// This is the numerator of MFU.
double ModelFlopsPerStep(const Model& m, int64_t seq, int64_t global_batch);

/// formulas.md section 5: 6 * P * tokens.
double TrainingFlops(double params, double tokens);

/// formulas.md section 6: the work per byte tensor parallelism moves, 6 * (h / t) / bytes.
double TpComputeCommRatio(int64_t hidden, int tp, double bytes_per_value);

/// The largest t with TpComputeCommRatio(t) >= peak_flops / one_way_bytes_per_s (real-valued).
double TpMax(int64_t hidden, double bytes_per_value, double peak_flops, double one_way_bytes_per_s);

}  // namespace planner
