#include "planner/cost/activation_offload.h"

#include <algorithm>
#include <cmath>

#include "planner/cost/finetune.h"

namespace planner {
namespace {

// Megatron-core offloads the first N layers (cpu_offload.py, AsyncDoubleBufferGroupOffload-
// Handler: groups below num_offload_group are bulk-offloaded on commit); at most the stage's.
double OffloadedLayers(const Plan& p, int64_t stage_layers) {
  return static_cast<double>(std::min<int64_t>(p.offload_activation_layers, stage_layers));
}

}  // namespace

double OffloadedActivationBytes(const Plan& p, int64_t stage_layers, double per_layer) {
  return std::max(0.0, OffloadedLayers(p, stage_layers) - 1.0) * per_layer;
}

double HostActivationBytes(const Plan& p, int64_t stage_layers, double per_layer) {
  return OffloadedLayers(p, stage_layers) * per_layer;
}

double ActivationOffloadSeconds(const Gpu& gpu, const Plan& p, int64_t stage_layers,
                                double per_layer, double layer_forward_s) {
  const double layers = OffloadedLayers(p, stage_layers);
  if (layers <= 0) return 0.0;
  const double copy = per_layer / HostLinkBytesPerS(gpu);
  return layers * (std::max(0.0, copy - layer_forward_s) +
                   std::max(0.0, copy - 2.0 * layer_forward_s));
}

int FewestOffloadedLayers(int64_t layers, double over_bytes, double per_layer, double in_flight,
                          double fragmentation) {
  const double freed_per_layer = per_layer * in_flight * (1.0 + fragmentation);
  if (over_bytes <= 0 || freed_per_layer <= 0) return 0;
  const double n = std::ceil(over_bytes / freed_per_layer) + 1.0;
  return n < static_cast<double>(layers) ? static_cast<int>(n) : 0;
}

}  // namespace planner
