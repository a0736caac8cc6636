#include "planner/model/plan.h"

#include <algorithm>

namespace planner {

const char* RecomputeName(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

int64_t RecomputedLayers(const Plan& p, int64_t stage_layers) {
  if (p.recompute != Recompute::kFull) return 0;
  if (p.recompute_layers <= 0) return stage_layers;
  // Megatron counts --recompute-num-layers in each model chunk's layers (Megatron-DeepSpeed
  // megatron/model/transformer.py:1809 divides the stage's layers by the virtual stages).
  return std::min<int64_t>(stage_layers, int64_t{p.recompute_layers} * p.virtual_stages);
}

std::string RecomputeLabel(const Plan& p, int64_t stage_layers) {
  if (p.recompute != Recompute::kFull || p.recompute_layers <= 0) return RecomputeName(p.recompute);
  return "full (" + std::to_string(RecomputedLayers(p, stage_layers)) + " of " +
         std::to_string(stage_layers) + " layers)";
}

std::string RecomputeCell(const Plan& p, int64_t stage_layers) {
  // Offload is the alternative to recomputing: "off 40/80", the layers whose activations go to
  // host memory.
  if (p.offload_activation_layers > 0) {
    return "off " + std::to_string(p.offload_activation_layers) + "/" +
           std::to_string(stage_layers);
  }
  if (p.recompute != Recompute::kFull || p.recompute_layers <= 0) return RecomputeName(p.recompute);
  return "full " + std::to_string(RecomputedLayers(p, stage_layers)) + "/" +
         std::to_string(stage_layers);
}

const char* ScheduleName(Schedule s) {
  switch (s) {
    case Schedule::k1F1B: return "1f1b";
    case Schedule::kInterleaved: return "interleaved";
    case Schedule::kGPipe: return "gpipe";
    case Schedule::kNaive: return "naive";
  }
  return "?";
}

const char* OptimizerName(Optimizer o) {
  switch (o) {
    case Optimizer::kAdamW: return "adamw";
    case Optimizer::kAdamW8bit: return "adamw-8bit";
    case Optimizer::kSgdMomentum: return "sgd";
  }
  return "?";
}

}  // namespace planner
