// Partial full recomputation (Megatron --recompute-method block --recompute-num-layers N):
// what the layers a stage recomputes, and those it stores whole, cost in memory and time.
#pragma once

#include <cstdint>

#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

/// Activation bytes of `stage_layers` layers of one micro-batch on one GPU: the recomputed ones
/// (RecomputedLayers) at their checkpoint, `checkpoint_bytes` each, the rest at the bytes of a
/// layer without recomputation. = checkpoint_bytes x stage_layers unless recompute is partial.
double StageLayerActivationBytes(const Model& m, const Plan& p, const TrainingSetup& s,
                                 int64_t stage_layers, double checkpoint_bytes);

/// Share of a stage's `stage_layers` layers whose forward backward reruns: 1 with full
/// recomputation of every layer, RecomputedLayers / stage_layers with the block method.
double RecomputedShare(const Plan& p, double stage_layers);

/// Share of a GPU's usable memory a plan whose recomputed layers are counted to fit leaves
/// free: such plans sit at the edge by construction, and the memory model's largest measured
/// error of peak memory is 4.3 % (`./build/release/accuracy`, "predicted peak memory", 3 runs).
inline constexpr double kFittedRecomputeMargin = 0.05;

/// For a plan recomputing every layer (`full`, recompute_layers 0) that needs `used_bytes` of
/// `capacity_bytes` on its most loaded GPU: the fewest layers per stage (per model chunk) to
/// recompute so that every stage still fits within (1 - kFittedRecomputeMargin) of the
/// capacity, counting each layer stored whole at the first stage's micro-batches in flight plus
/// the allocator's fragmentation. 0 when no layer can be stored whole, when all could (no
/// recomputation fits), or when the framework has no block method.
int FewestRecomputedLayers(const Model& m, const Plan& full, const TrainingSetup& s,
                           double used_bytes, double capacity_bytes);

}  // namespace planner
