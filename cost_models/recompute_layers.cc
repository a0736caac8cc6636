#include "planner/cost/recompute_layers.h"

#include <algorithm>
#include <cmath>

#include "planner/cost/framework.h"
#include "planner/cost/memory_model.h"

namespace planner {
namespace {

// Bytes of a layer that keeps all its activations, as a plan without recomputation counts it.
double StoredLayerBytes(const Model& m, const Plan& p, const TrainingSetup& s) {
  Plan stored = p;
  stored.recompute = Recompute::kNone;
  stored.recompute_layers = 0;
  return PlanLayerActivationBytes(m, stored, s);
}

}  // namespace

double StageLayerActivationBytes(const Model& m, const Plan& p, const TrainingSetup& s,
                                 int64_t stage_layers, double checkpoint_bytes) {
  const int64_t recomputed = RecomputedLayers(p, stage_layers);
  if (p.recompute != Recompute::kFull || recomputed == stage_layers) {
    return checkpoint_bytes * static_cast<double>(stage_layers);
  }
  // Megatron-DeepSpeed megatron/model/transformer.py:1955-1960 (block method): the first N
  // layers of the chunk run under checkpoint() and keep only their input; the others run
  // plainly and keep everything backward reads.
  return checkpoint_bytes * static_cast<double>(recomputed) +
         StoredLayerBytes(m, p, s) * static_cast<double>(stage_layers - recomputed);
}

double RecomputedShare(const Plan& p, double stage_layers) {
  if (p.recompute != Recompute::kFull) return 0.0;
  if (p.recompute_layers == 0 || stage_layers <= 0) return 1.0;
  const auto layers = static_cast<int64_t>(stage_layers);
  return static_cast<double>(RecomputedLayers(p, layers)) / stage_layers;
}

int FewestRecomputedLayers(const Model& m, const Plan& full, const TrainingSetup& s,
                           double used_bytes, double capacity_bytes) {
  const double headroom_bytes = (1.0 - kFittedRecomputeMargin) * capacity_bytes - used_bytes;
  const FrameworkFacts& facts = FactsOf(s.framework);
  if (!facts.block_recompute || full.recompute != Recompute::kFull ||
      full.recompute_layers != 0 || headroom_bytes <= 0) {
    return 0;
  }
  // A layer stored whole instead of checkpointed adds its activations less its checkpoint for
  // every micro-batch in flight, and the allocator's share of that (StageMemoryFrom). The first
  // stage holds the most micro-batches, so a count that fits there fits every stage.
  const double in_flight =
      InFlightMicroBatches(s.schedule, full.pp, full.virtual_stages, full.grad_accum);
  const double per_layer = (StoredLayerBytes(m, full, s) - PlanLayerActivationBytes(m, full, s)) *
                           in_flight * (1.0 + facts.fragmentation);
  if (per_layer <= 0) return 0;
  // One layer fewer per chunk stores virtual_stages layers on the stage; rounding the chunk up
  // keeps a stage whose layers the chunks do not divide within the count.
  const int64_t v = full.virtual_stages;
  const int64_t chunk = (LargestStageLayers(m, full) + v - 1) / v;
  const double stored = std::floor(headroom_bytes / (per_layer * static_cast<double>(v)));
  if (stored < 1 || stored >= static_cast<double>(chunk)) return 0;
  return static_cast<int>(chunk - static_cast<int64_t>(stored));
}

}  // namespace planner
