#include "planner/cost/zero3.h"

#include <algorithm>
#include <vector>

#include "planner/cost/collectives.h"
#include "planner/cost/finetune.h"
#include "planner/cost/framework.h"
#include "planner/cost/recompute_layers.h"

namespace planner {
namespace {

// Layers whose gathers are simulated; every layer repeats the same matrices, so their waits
// per layer stand for the stage's (scaled by layers / simulated, edges included).
constexpr int kSimulatedLayers = 4;

// One use of a gathered unit in a micro-batch's module trace (DeepSpeed records the order of
// submodule calls in its first step and prefetches along it).
struct TraceStep {
  int unit = 0;          // index into Zero3Units of the layer
  int layer = 0;         // which simulated layer
  double compute_s = 0;  // GPU time of this use
  bool backward = false;
};

// Forward over the layers, then per layer (last first) a recomputed forward when activations
// are checkpointed and the backward, units in reverse.
std::vector<TraceStep> MicroBatchTrace(const Zero3Units& u, int layers, double layer_forward_s,
                                       bool recompute) {
  std::vector<TraceStep> trace;
  const double sum = u.Sum();
  auto share = [&](int i) { return sum > 0 ? layer_forward_s * u.params[i] / sum : 0.0; };
  for (int l = 0; l < layers; ++l) {
    for (int i = 0; i < u.count; ++i) trace.push_back({i, l, share(i), false});
  }
  for (int l = layers - 1; l >= 0; --l) {
    if (recompute) {
      for (int i = 0; i < u.count; ++i) trace.push_back({i, l, share(i), false});
    }
    // Backward does twice the forward's matmul work.
    for (int i = u.count - 1; i >= 0; --i) trace.push_back({i, l, 2.0 * share(i), true});
  }
  return trace;
}

// Whether the unit used at trace step k stays gathered for its next use: DeepSpeed keeps a
// parameter whose next use comes within stage3_max_reuse_distance elements of the trace
// (partitioned_param_coordinator.py __params_to_release).
bool KeptForReuse(const std::vector<TraceStep>& trace, const Zero3Units& u, size_t k,
                  double reuse_distance) {
  double traversed = 0;
  for (size_t j = k + 1; j < trace.size() && traversed < reuse_distance; ++j) {
    if (trace[j].unit == trace[k].unit && trace[j].layer == trace[k].layer) return true;
    traversed += u.params[trace[j].unit];
  }
  return false;
}

// The coordinator's walk over the trace: fetch the unit in use if it is not gathered, wait,
// then prefetch along the trace min(cap - gathered, bucket) elements, at least one whole
// parameter, skipping units already gathered, which then stay until that use
// (fetch_sub_module, __params_to_release). Returns the seconds the GPU waits on the link and
// the peak of gathered elements. The link carries gathers and, in the backward, each unit's
// gradient reduce-scatter, one after another.
struct Walk {
  double exposed_s = 0;
  double peak_params = 0;
};

// Seconds of one unit's gather and gradient reduce-scatter on the data-parallel link.
struct UnitSeconds {
  double gather[4] = {0, 0, 0, 0};
  double reduce[4] = {0, 0, 0, 0};
  bool reduce_overlapped = true;  // overlap_comm: reduce-scatters on their own stream
};

Walk WalkTrace(const std::vector<TraceStep>& trace, const Zero3Units& u, double cap,
               double bucket, double reuse_distance, const UnitSeconds& t) {
  Walk w;
  auto key = [&](size_t k) { return static_cast<size_t>(trace[k].layer * 4 + trace[k].unit); };
  int layers = 0;
  for (const TraceStep& step : trace) layers = std::max(layers, step.layer + 1);
  const size_t keys = 4 * static_cast<size_t>(layers);
  std::vector<double> ready(keys, -1.0);  // when a unit is gathered; -1: it is not
  std::vector<size_t> keep_until(keys, 0);
  double now = 0, link_free = 0, gathered = 0, compute = 0;
  auto gather = [&](size_t k) {
    link_free = std::max(link_free, now) + t.gather[trace[k].unit];
    ready[key(k)] = link_free;
    gathered += u.params[trace[k].unit];
  };
  size_t next = 0;  // the next trace step the prefetcher looks at
  for (size_t k = 0; k < trace.size(); ++k) {
    next = std::max(next, k + 1);
    if (ready[key(k)] < 0) gather(k);
    now = std::max(now, ready[key(k)]);
    const double room = std::min(cap - gathered, bucket);
    for (double fetched = 0; fetched < room && next < trace.size(); ++next) {
      if (ready[key(next)] >= 0) {
        keep_until[key(next)] = std::max(keep_until[key(next)], next);
        continue;
      }
      fetched += u.params[trace[next].unit];
      gather(next);
    }
    w.peak_params = std::max(w.peak_params, gathered);
    now += trace[k].compute_s;
    compute += trace[k].compute_s;
    if (trace[k].backward) {
      link_free = std::max(link_free, now) + t.reduce[trace[k].unit];
      // Without overlap_comm the reduction runs on the compute stream and the GPU waits.
      if (!t.reduce_overlapped) now = link_free;
    }
    if (keep_until[key(k)] <= k && !KeptForReuse(trace, u, k, reuse_distance)) {
      gathered -= u.params[trace[k].unit];
      ready[key(k)] = -1.0;
    }
  }
  w.exposed_s = std::max(now, link_free) - compute;
  return w;
}

}  // namespace

double Zero3Units::Largest() const { return *std::max_element(params, params + count); }
double Zero3Units::Sum() const {
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += params[i];
  return sum;
}

double Zero3MaxLiveParams(const TrainingSetup& s) {
  return s.zero3_max_live_params > 0 ? s.zero3_max_live_params
                                     : FactsOf(s.framework).zero3_max_live_params;
}

Zero3Units LayerGatherUnits(const Model& m, const Plan& p, const TrainingSetup& s,
                            double layer_params) {
  Zero3Units u;
  if (!FactsOf(s.framework).zero3_gathers_submodules) {
    u.params[0] = layer_params;
    u.count = 1;
    return u;
  }
  // The layer's matrices in forward order: QKV, output projection, MLP in (SwiGLU/GeGLU: gate
  // and up, one fused matrix in Megatron-DeepSpeed), MLP out. Norms and biases ride along.
  const AttentionShape a = AttentionOf(m);
  const double qkv = a.in_weights / p.tp;
  const double out = a.out_weights / p.tp;
  const double mlp = std::max(0.0, layer_params - qkv - out);
  const double in_share = IsGatedMlp(m) ? 2.0 / 3.0 : 0.5;
  u.params[0] = qkv;
  u.params[1] = out;
  u.params[2] = mlp * in_share;
  u.params[3] = mlp * (1.0 - in_share);
  u.count = 4;
  return u;
}

namespace {

struct Zero3Caps {
  double cap = 0;
  double bucket = 0;
  double reuse = 0;
};

Zero3Caps CapsOf(const TrainingSetup& s) {
  const FrameworkFacts& f = FactsOf(s.framework);
  return Zero3Caps{.cap = Zero3MaxLiveParams(s),
                   .bucket = f.zero3_prefetch_bucket_elements,
                   .reuse = f.zero3_max_reuse_distance};
}

int SimulatedLayers(double layers) {
  return std::max(1, std::min(kSimulatedLayers, static_cast<int>(layers)));
}

}  // namespace

double Zero3GatherBytes(const Model& m, const Plan& p, const TrainingSetup& s,
                        double layer_params, double weight_bytes, double grad_bytes) {
  if (p.zero_stage < 3 || p.dp * p.cp <= 1) return 0.0;
  if (!FactsOf(s.framework).zero3_gathers_submodules) {
    // FSDP's unit is the block: the block in use and the one prefetched are whole, and the
    // block's gradients are whole until reduce-scattered.
    return layer_params * (2.0 * weight_bytes + grad_bytes);
  }
  const Zero3Units u = LayerGatherUnits(m, p, s, layer_params);
  const Zero3Caps caps = CapsOf(s);
  const bool recompute = p.recompute == Recompute::kFull;
  const std::vector<TraceStep> trace =
      MicroBatchTrace(u, SimulatedLayers(m.layers), 0.0, recompute);
  const Walk w = WalkTrace(trace, u, caps.cap, caps.bucket, caps.reuse, UnitSeconds{});
  // A unit's gradient is whole (in the parameter's 16-bit dtype, stage3.py) until it is
  // copied into the reduce bucket, counted with the framework's buffers.
  return (w.peak_params + u.Largest()) * weight_bytes;
}

double DeepSpeedZero3ExposedSeconds(const Model& m, const Plan& p, const TrainingSetup& s,
                                    double layer_params, double layers, double layer_forward_s,
                                    double weight_bytes, double grad_bytes, const Zero3Link& link) {
  const Zero3Units u = LayerGatherUnits(m, p, s, layer_params);
  UnitSeconds t{.reduce_overlapped = s.overlap_grad_reduce};
  for (int i = 0; i < u.count; ++i) {
    t.gather[i] = AllGatherSeconds(u.params[i] * weight_bytes, link.ranks, link.bytes_per_s,
                                   link.latency_s);
    t.reduce[i] = AllGatherSeconds(u.params[i] * grad_bytes, link.ranks, link.bytes_per_s,
                                   link.latency_s);
  }
  const Zero3Caps caps = CapsOf(s);
  const int simulated = SimulatedLayers(layers);
  auto exposed = [&](bool recompute) {
    const std::vector<TraceStep> trace =
        MicroBatchTrace(u, simulated, layer_forward_s, recompute);
    return WalkTrace(trace, u, caps.cap, caps.bucket, caps.reuse, t).exposed_s * layers /
           simulated;
  };
  // The block method: its recomputed layers' share walks with a recomputed forward, the
  // rest without.
  const double share = RecomputedShare(p, layers);
  if (share > 0.0 && share < 1.0) return share * exposed(true) + (1.0 - share) * exposed(false);
  return exposed(p.recompute == Recompute::kFull);
}

OptimizerOffload OptimizerOffloadSeconds(const Cluster& c, double shard_params, double grad_bytes,
                                       double weight_bytes) {
  const double pcie = HostLinkBytesPerS(c.gpu);
  const double gpus_in_node = static_cast<double>(std::min<int64_t>(c.gpus, c.gpus_per_node));
  return OptimizerOffload{
      .to_host_s = shard_params * grad_bytes / pcie,
      .cpu_step_s = shard_params * std::max(1.0, gpus_in_node) / kCpuAdamParamsPerS,
      .to_gpu_s = shard_params * weight_bytes / pcie,
  };
}

void MoveOptimizerToHost(const Plan& p, MemoryBreakdown& mem) {
  // offload_optimizer keeps the fp32 master weights and moments in host memory, and with
  // ZeRO-2/3 the gradient shard too (stage3.py grad_partitions_flat_buffer on the offload
  // device; stage_1_and_2.py cpu_offload).
  mem.host += mem.optimizer;
  mem.optimizer = 0;
  if (p.zero_stage >= 2) {
    mem.host += mem.gradients;
    mem.gradients = 0;
  }
}

}  // namespace planner
