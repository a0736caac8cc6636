// The space of training plans: each dimension's values as a list, so the enumerator's loops and
// its candidate counts come from the same lists (no count kept by hand).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "planner/model/model.h"
#include "planner/model/plan.h"
#include "planner/search/search.h"

namespace planner {

/// The outer dimensions of the space; the inner ones (ep, SP, interleaving, recomputation, ZeRO)
/// are enumerated per shape.
struct Shape {
  int tp, cp, pp, micro_batch, first_stage_layers, last_stage_layers;
};

/// The divisors of n up to `limit`, ascending.
std::vector<int> Divisors(int64_t n, int64_t limit);

/// The pipeline splits of `layers` over `pp` stages that Megatron-LM can express, as
/// (first_stage_layers, last_stage_layers); (0, 0) is the even split.
std::vector<std::pair<int, int>> StageSplits(int64_t layers, int pp);

/// Every (tp, cp, pp, split, micro-batch) the cluster, model and batch allow.
std::vector<Shape> OuterShapes(const Model& m, const Cluster& c, const TrainingSetup& s,
                               const SearchOptions& o);

/// The plan a shape fixes: parallel sizes, stage split, micro-batch and accumulation steps.
Plan PlanOf(const Shape& sh, const Cluster& c, const TrainingSetup& s);

/// Interleaving depths (model chunks per stage) that split `plan`'s stages into equal chunks.
std::vector<int> InterleavingDepths(const Model& m, Plan plan, const SearchOptions& o);

/// Expert-parallel sizes for `dp` data-parallel ranks: 1 for a dense model.
std::vector<int> ExpertParallelSizes(const Model& m, int dp);

/// Whether sequence parallelism is tried: off, and on where tp > 1.
std::span<const bool> SequenceParallelChoices(int tp, const SearchOptions& o);

/// Recomputation choices. Selective recomputation redoes the attention core, which fused
/// attention never stores: with flash attention it is the same plan as none, so it is left out.
/// --recompute (SearchOptions::recompute) searches that one only.
std::span<const Recompute> RecomputeChoices(const TrainingSetup& s, const SearchOptions& o);

/// ZeRO stages searched for `dp` data-parallel ranks.
std::span<const int> ZeroStages(int dp, const SearchOptions& o);

}  // namespace planner
