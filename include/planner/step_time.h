// Time of one training step and its parts, from FLOPs, bytes and links. All seconds.
#pragma once

#include "planner/hardware.h"
#include "planner/model.h"
#include "planner/plan.h"

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
  double step() const {
    return compute + recompute + tp_comm + pp_comm + dp_comm + ep_comm + bubble + optimizer;
  }
  bool operator==(const TimeBreakdown&) const = default;
};

/// Constants of the efficiency model, one set per GPU architecture (README: "Calibration").
struct Efficiency {
  double gemm = 0.8;           ///< fraction of peak a large GEMM reaches
  double gemm_half_dim = 96;   ///< GEMM edge length at which efficiency halves (tile occupancy)
  double attention = 0.6;      ///< fraction of peak of the fused attention kernel
  double hbm = 0.8;            ///< fraction of HBM bandwidth element-wise kernels reach
  double link = 0.8;           ///< fraction of a link's bandwidth NCCL reaches
  double dp_overlap = 0.9;     ///< share of data-parallel traffic hidden behind backward
};
Efficiency EfficiencyFor(const Gpu& gpu);

/// Step time of a plan. Precondition: the plan divides the model and cluster.
TimeBreakdown StepTime(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s);

}  // namespace planner
