// The parts of a training step's time, as values: what search and render read of the step-time
// model without depending on its functions (editing step_time.h rebuilds only its users).
#pragma once

#include "planner/model/calibration.h"

namespace planner {

/// Where a step's time goes. step() is the wall time of one optimizer step.
struct TimeBreakdown {
  double compute = 0;     ///< forward + backward of all micro-batches on the slowest stage
  double recompute = 0;   ///< the extra forward work recomputation adds
  double tp_comm = 0;     ///< tensor/context-parallel collectives not hidden behind compute
  double pp_comm = 0;     ///< pipeline sends on the critical path
  double dp_comm = 0;     ///< data-parallel gradient and parameter traffic not overlapped
  double ep_comm = 0;     ///< expert-parallel all-to-all
  double bubble = 0;      ///< pipeline fill and drain
  double optimizer = 0;   ///< the optimizer's update
  double offload = 0;     ///< activation copies to and from host memory not hidden by compute
  double step() const {
    return compute + recompute + tp_comm + pp_comm + dp_comm + ep_comm + bubble + optimizer +
           offload;
  }
  bool operator==(const TimeBreakdown&) const = default;
};

/// Seconds of one layer's forward pass for one micro-batch on one GPU, by kind.
struct LayerCost {
  double gemm = 0;         ///< matmuls
  double attention = 0;    ///< attention core (scores, softmax, weighted sum)
  double elementwise = 0;  ///< norms, residuals, activation function, dropout, fp8 casts
  double tp_comm = 0;      ///< tensor-parallel collectives not hidden behind matmuls
  double cp_comm = 0;      ///< K/V ring exchange not hidden behind attention
  double ep_comm = 0;      ///< expert-parallel token dispatch and combine
};

/// The forward costs that depend on tp, cp, ep, micro-batch and SP only (not on pp, ZeRO, v).
struct ForwardCosts {
  LayerCost dense;
  LayerCost moe;       ///< = dense for a dense model
  double logits = 0;   ///< output layer, seconds
  Efficiency eff;      ///< the cluster's constants (its calibration)
};

}  // namespace planner
