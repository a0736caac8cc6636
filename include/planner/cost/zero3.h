// ZeRO-3 as DeepSpeed runs it (parameters gathered per nn.Linear, a cap on live parameters,
// prefetching one fetch ahead) and the optimizer offloaded to the host CPU. The facts (caps,
// buckets, CPU Adam) are in planner/cost/framework.h and cost_models/zero3.cc with sources.
#pragma once

#include "planner/cost/memory_model.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

/// The stage3_max_live_parameters in force, elements: the setup's, else the framework's.
double Zero3MaxLiveParams(const TrainingSetup& s);

/// Elements per GPU of the units ZeRO-3 gathers for one transformer layer, in forward order,
/// under the plan's tp, ep. DeepSpeed: the QKV, output, MLP-in and MLP-out matrices; FSDP: the
/// whole layer (`layer_params`) as one unit. Unused entries are 0.
struct Zero3Units {
  double params[4] = {0, 0, 0, 0};
  int count = 0;
  double Largest() const;
  double Sum() const;
};
Zero3Units LayerGatherUnits(const Model& m, const Plan& p, const TrainingSetup& s,
                            double layer_params);

/// Bytes per GPU ZeRO-3's gathering adds on top of the weight shard: the gathered 16-bit
/// weights (the unit in use, the one prefetched when the cap leaves room, and those kept for
/// reuse within stage3_max_reuse_distance) and the unit's whole gradient until it is
/// reduce-scattered. `weight_bytes`, `grad_bytes`: bytes per parameter.
double Zero3GatherBytes(const Model& m, const Plan& p, const TrainingSetup& s,
                        double layer_params, double weight_bytes, double grad_bytes);

/// One link's speed as the collectives see it.
struct Zero3Link {
  int ranks = 1;            ///< data-parallel ranks sharing the parameters
  double bytes_per_s = 0;   ///< one-way bytes/s per GPU
  double latency_s = 0;
};

/// Seconds of DeepSpeed ZeRO-3 traffic left exposed for one micro-batch of `layers` layers
/// whose forward takes `layer_forward_s` each: every unit is gathered for the forward, again
/// for a full recomputation (unless kept within the reuse distance) and for the backward;
/// gradients are reduce-scattered per unit in the backward. A gather hides behind the
/// previous unit's compute only when that unit left room under the live-parameter cap to
/// prefetch it (partitioned_param_coordinator.py fetch_sub_module).
double DeepSpeedZero3ExposedSeconds(const Model& m, const Plan& p, const TrainingSetup& s,
                                    double layer_params, double layers, double layer_forward_s,
                                    double weight_bytes, double grad_bytes, const Zero3Link& link);

/// Seconds per step of the CPU-offloaded optimizer over `shard_params` elements per GPU: the
/// fp32 gradient shard to the host, the CPU Adam step, the 16-bit parameters back.
struct OptimizerOffload {
  double to_host_s = 0;
  double cpu_step_s = 0;
  double to_gpu_s = 0;
};
/// The copies run over HostLinkBytesPerS (planner/cost/finetune.h); CPU Adam's throughput is
/// shared by the GPUs of a node.
OptimizerOffload OptimizerOffloadSeconds(const Cluster& c, double shard_params, double grad_bytes,
                                       double weight_bytes);

/// Moves the optimizer states (and, with ZeRO-2/3, the gradient shard) of a GPU's memory to
/// `host`, as offload_optimizer {device: cpu} does.
void MoveOptimizerToHost(const Plan& p, MemoryBreakdown& mem);

/// DeepSpeed's CPU Adam updates about 1e9 parameters per second on a server's cores (Ren et al.
/// 2021, ZeRO-Offload, section 5.2: 6-7x PyTorch's CPU Adam); an estimate, shared by the node.
inline constexpr double kCpuAdamParamsPerS = 1e9;

}  // namespace planner
