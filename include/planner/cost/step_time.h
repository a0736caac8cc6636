// Time of one training step and its parts, from FLOPs, bytes and links. All seconds.
#pragma once

#include "planner/cost/calibration.h"
#include "planner/cost/time_breakdown.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

/// One layer's forward costs and the output layer's, for the plan's tp, cp, ep, micro-batch, SP.
ForwardCosts ForwardPass(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s);

/// Step time of a plan. Precondition: the plan divides the model and cluster.
TimeBreakdown StepTime(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s);

/// StepTime from the plan's forward costs and the parameters of its most loaded stage, which
/// the search computes once for many plans.
TimeBreakdown StepTimeFrom(const Model& m, const Cluster& c, const Plan& p,
                           const TrainingSetup& s, const ForwardCosts& f, double stage_params);

}  // namespace planner
