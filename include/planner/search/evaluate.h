// Scoring one plan: is it valid, does it fit, how fast is it.
#pragma once

#include <cstdint>
#include <string>

#include "planner/model/hardware.h"
#include "planner/cost/memory_model.h"
#include "planner/model/model.h"
#include "planner/model/plan.h"
#include "planner/cost/time_breakdown.h"

namespace planner {

/// Why a plan was set aside; kFeasible when it was not. Cheapest checks first.
enum class Reason {
  kFeasible,
  kIndivisible,     ///< a size does not divide (heads by tp, layers by pp * v, batch by dp * mb)
  kUnsupported,     ///< no framework runs it: ZeRO-2/3 with pipeline parallelism
  kTpCrossNode,     ///< tp larger than a node without --allow-cross-node-tp
  kCommBound,       ///< formulas.md section 6: ratio(t) below peak / one-way link bandwidth
  kOutOfMemory,
  kHostMemory,      ///< offloaded state (activations, optimizer) over the node's host memory
  kCount
};
const char* ReasonName(Reason r);

struct SearchLimits {
  bool allow_cross_node_tp = false;
  bool allow_comm_bound = false;
};

/// A scored plan. When not feasible, `detail` says which check failed and by how much.
struct Evaluation {
  Plan plan;
  Reason reason = Reason::kFeasible;
  MemoryBreakdown memory;
  double capacity_bytes = 0;
  TimeBreakdown time;
  double tokens_per_s = 0;
  double mfu = 0;  ///< model FLOPs per second over the peak of all GPUs
  bool feasible() const { return reason == Reason::kFeasible; }
};

/// Host memory one node gives the plan's offloaded state: per GPU x the node's GPUs in use.
double HostBytesUsedPerNode(const Cluster& c, const MemoryBreakdown& mem);

/// Checks a plan's structure; kFeasible or the first failing reason (no memory/time work).
Reason CheckStructure(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                      const SearchLimits& limits);

/// Full scoring: structure, memory against capacity (GPU, then host), then time.
Evaluation Evaluate(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                    const SearchLimits& limits);

/// The costly inputs of a plan's scoring. Each depends on only some of the plan's fields, so the
/// search computes each once and reuses it across the plans that share those fields.
struct PlanTerms {
  StageParamsSet params;               ///< depends on tp, pp, ep, stage split
  double layer_activation_bytes = 0;   ///< tp, cp, micro-batch, SP, recompute
  ForwardCosts forward;                ///< tp, cp, ep, micro-batch, SP
  double model_flops = 0;              ///< the search's constant
};
PlanTerms ComputeTerms(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s);

/// Scoring of a plan whose structure check gave `structure` (kFeasible or kCommBound).
Evaluation EvaluateFrom(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                        Reason structure, const PlanTerms& terms);

/// One line saying why a plan is infeasible, with numbers ("needs 31.2 GiB of 22.9 GiB").
std::string Explain(const Model& m, const Cluster& c, const Evaluation& e,
                    const TrainingSetup& s);

}  // namespace planner
