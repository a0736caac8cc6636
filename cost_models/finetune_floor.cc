// The least work and memory any implementation of a fine-tuning setting needs: a bound to hold
// measurements against (a measured rate above it, or a peak below it, cannot be of that
// setting), not a prediction.
#include "planner/cost/finetune.h"

namespace planner {

FinetuneFloor FinetuneFloorOf(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  FinetuneFloor f;
  // Each weight multiplies each token once forward (2 FLOPs) and once more backward for the
  // input gradient (2 FLOPs); a trained weight also needs its own gradient (2 FLOPs): the
  // 6 P per token of Kaplan et al. 2020 (eq. 2.1), less the weight-gradient term when the base is
  // frozen. The input embedding is a lookup; attention scores and recomputation only add.
  const double matmul = CountParameters(m).active_matmul;
  const bool trains_base = TrainsBase(p.method);
  f.flops_per_token = (trains_base ? 6.0 : 4.0) * matmul;
  // The base weights at their stored precision, split over the GPUs that shard them; offloaded
  // to the host (ZeRO-3 / FSDP CPU offload), only the largest layer's matrix need be on the GPU.
  const FinetuneParams n = FinetuneParamsOf(m, p);
  const bool frozen_low = !trains_base && p.method != FinetuneMethod::kFreeze;
  const double linear_bytes = frozen_low ? BaseBytesPerParam(p.base_weights) : 2.0;
  f.weights_bytes = p.offload_params ? n.largest_matrix * linear_bytes / p.tp
                                     : (n.linear * linear_bytes + n.other * 2.0) /
                                           ((ShardsParams(p.sharding) ? p.dp : 1) * p.tp);
  // Backward needs every layer's input (16-bit), kept even by full checkpointing, unless the
  // saved activations live on the host.
  if (!p.offload_activations) {
    f.inputs_bytes = static_cast<double>(m.layers) * p.micro_batch *
                     static_cast<double>(s.seq_len) * static_cast<double>(m.hidden) * 2.0 / p.tp;
  }
  f.memory_bytes = f.weights_bytes + f.inputs_bytes;
  return f;
}

}  // namespace planner
