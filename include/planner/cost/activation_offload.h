// Megatron-core's activation offload (TransformerConfig cpu_offloading, cpu_offloading_num_
// layers): what the offloaded layers take from GPU memory, put in host memory, and add to a step.
#pragma once

#include <cstdint>

#include "planner/model/hardware.h"
#include "planner/model/plan.h"

namespace planner {

/// Activation bytes of one micro-batch that leave the GPU, of a stage of `stage_layers` layers
/// each keeping `per_layer` bytes: the offloaded layers less the one whose copy is in flight
/// (the handler releases a layer's tensors once the next layer is committed).
double OffloadedActivationBytes(const Plan& p, int64_t stage_layers, double per_layer);

/// Host memory those layers take per GPU and micro-batch in flight.
double HostActivationBytes(const Plan& p, int64_t stage_layers, double per_layer);

/// Seconds one micro-batch waits on the copies: each offloaded layer goes down while the next
/// layer's forward runs, and comes back while the later layer's backward (about twice a
/// forward) runs; only what the compute does not cover is exposed.
double ActivationOffloadSeconds(const Gpu& gpu, const Plan& p, int64_t stage_layers,
                                double per_layer, double layer_forward_s);

/// The fewest layers whose offload brings a plan `over_bytes` over the GPU's memory within it:
/// each layer offloaded past the first takes `per_layer` bytes for each of `in_flight`
/// micro-batches, and the allocator's `fragmentation` share of them, off the GPU. 0 when that
/// needs as many layers as the model's `layers` (Megatron-core wants fewer) or nothing is over.
int FewestOffloadedLayers(int64_t layers, double over_bytes, double per_layer, double in_flight,
                          double fragmentation);

}  // namespace planner
