// Fine-tuning step time: the training model's per-layer forward costs (layer_cost.cc), with the
// backward a method runs: a trained layer computes gradients of its activations and of its
// weights (2 x forward), a frozen one only of its activations (the weight-gradient matmuls are
// skipped: about 4 P tokens FLOPs in all instead of 6), plus the adapters' small matmuls, the
// recomputation, QLoRA's dequantization, sharding's collectives and offload's PCIe traffic.
#include <algorithm>

#include "device.h"
#include "planner/cost/collectives.h"
#include "planner/cost/compute_model.h"
#include "planner/cost/finetune.h"
#include "planner/cost/step_time.h"
#include "planner/cost/zero3.h"

namespace planner {
namespace {

// One micro-batch's kernels by kind, summed over the layers.
struct PassSeconds {
  double forward = 0;    // all layers and the output layer
  double backward = 0;   // activation (and, where trained, weight) gradients
  double recompute = 0;  // what checkpointing runs again
  double tp_comm = 0;    // tensor-parallel all-reduces of forward, backward and recompute
};

PassSeconds LayerPasses(const Model& m, const FinetunePlan& p, const ForwardCosts& f) {
  const double moe = IsMoe(m) ? static_cast<double>(MoeLayers(m)) / m.layers : 0.0;
  const auto mix = [&](double LayerCost::*k) { return (1 - moe) * f.dense.*k + moe * f.moe.*k; };
  const double g = mix(&LayerCost::gemm), a = mix(&LayerCost::attention);
  const double e = mix(&LayerCost::elementwise), t = mix(&LayerCost::tp_comm);
  const double layers = static_cast<double>(m.layers);
  double trained = TrainsBase(p.method) ? layers : 0.0;
  double reached = layers;  // layers backward passes through
  if (p.method == FinetuneMethod::kFreeze) {
    trained = std::min<double>(p.trainable_layers > 0 ? p.trainable_layers : 2, layers);
    reached = trained;
  }
  PassSeconds s;
  s.forward = layers * (g + a + e) + f.logits;
  // Backward of attention is about twice its forward (FlashAttention-2's dQ, dK, dV).
  s.backward = trained * 2.0 * (g + a + e) + (reached - trained) * (g + 2.0 * a + 2.0 * e);
  s.backward += (TrainsBase(p.method) || p.method == FinetuneMethod::kFreeze ? 2.0 : 1.0) *
                f.logits;
  if (p.checkpointing == Checkpointing::kFull) s.recompute = reached * (g + a + e);
  if (p.checkpointing == Checkpointing::kSelective) s.recompute = reached * (0.5 * g + e);
  s.tp_comm = t * (layers + reached) + (p.checkpointing == Checkpointing::kFull ? t * reached : 0);
  return s;
}

// LoRA's A and B matmuls of every adapted weight: forward, and three times that with backward.
double AdapterSeconds(const Model& m, const FinetunePlan& p, const Device& d, double tokens) {
  if (p.method != FinetuneMethod::kLora && p.method != FinetuneMethod::kQlora) return 0.0;
  const double r = p.lora_rank, h = static_cast<double>(m.hidden);
  const AttentionShape a = AttentionOf(m);
  double fwd = 0;
  const auto adapter = [&](double in, double out) {
    fwd += GemmSeconds(d, tokens, in, r) + GemmSeconds(d, tokens, r, out / p.tp);
  };
  if (p.targets.q) adapter(h, a.q_width);
  if (p.targets.k) adapter(h, a.k_width);
  if (p.targets.v) adapter(h, a.v_width);
  if (p.targets.o) adapter(a.out_width, h);
  if (p.targets.mlp) {
    const double f = static_cast<double>(IsMoe(m) ? ExpertFfnHidden(m) : m.ffn_hidden);
    const double mlps = IsMoe(m) ? static_cast<double>(m.experts_per_token) : 1.0;
    for (int i = 0; i < (IsGatedMlp(m) ? 2 : 1); ++i) adapter(h * mlps, f);
    adapter(f * mlps, h);
  }
  const double passes = 3.0 + (p.checkpointing == Checkpointing::kFull ? 1.0 : 0.0);
  return passes * fwd * static_cast<double>(m.layers);
}

// QLoRA (and 8-bit) weights are dequantized to bf16 before each matmul: read the packed weight,
// write the bf16 copy, once per forward, backward and recomputation (bitsandbytes, torchao).
double DequantSeconds(const FinetunePlan& p, const FinetuneParams& n, const Device& d) {
  if (TrainsBase(p.method) || p.base_weights == BaseWeights::kBf16) return 0.0;
  const double passes = 2.0 + (p.checkpointing == Checkpointing::kFull ? 1.0 : 0.0);
  const double bytes = BaseBytesPerParam(p.base_weights) + 2.0;
  return passes * n.linear / p.tp * bytes / d.hbm;
}

}  // namespace

double HostLinkBytesPerS(const Gpu& gpu) {
  if (gpu.host_link_bytes_per_s > 0) return gpu.host_link_bytes_per_s * 0.8;
  const bool gen5 = gpu.arch == Arch::kHopper || gpu.arch == Arch::kBlackwell;
  return (gen5 ? 63e9 : 31.5e9) * 0.8;
}

namespace {

// Bytes of the base weights one GPU stores (16-bit where trained, else at the base precision).
double StoredWeightBytes(const FinetunePlan& p, const FinetuneParams& n) {
  const bool quantized = !TrainsBase(p.method) && p.method != FinetuneMethod::kFreeze;
  return (quantized ? n.linear * BaseBytesPerParam(p.base_weights) : n.linear * 2.0) +
         n.other * 2.0;
}

// Data-parallel traffic of one step: gradients of the trainable parameters all-reduced (no
// sharding) or reduce-scattered with the trained weights all-gathered (ZeRO-1/2, SHARD_GRAD_OP);
// ZeRO-3 / FSDP gather every weight for each micro-batch's forward and backward and
// reduce-scatter gradients after each backward (FSDP, DeepSpeed). Hidden behind the backward
// (ZeRO-3: every pass, by prefetching) as in the training model (step_time.cc).
double ShardingSeconds(const Cluster& c, const FinetunePlan& p, const FinetuneParams& n,
                       const Efficiency& eff, double per_mb_compute) {
  if (p.dp <= 1) return 0.0;
  const Path path = RingPath(c, p.dp, p.tp, eff.link);
  const double grads = n.trainable * 2.0 / p.tp;
  const double accum = p.grad_accum;
  double comm = 0;
  double window = (2.0 / 3.0) * per_mb_compute;
  if (p.sharding == Sharding::kNone) {
    comm = AllReduceSeconds(grads, p.dp, path.bytes_per_s, path.latency_s);
  } else if (ShardsParams(p.sharding)) {
    const double weights = StoredWeightBytes(p, n) / p.tp;
    comm = accum * (2.0 * AllGatherSeconds(weights, p.dp, path.bytes_per_s, path.latency_s) +
                    AllGatherSeconds(grads, p.dp, path.bytes_per_s, path.latency_s));
    window = per_mb_compute * accum;
  } else {
    comm = 2.0 * AllGatherSeconds(grads, p.dp, path.bytes_per_s, path.latency_s);
  }
  return std::max(0.0, comm - window);
}

// Offload: optimizer states on the host (gradients down, updated 16-bit weights up, CPU-Adam in
// between, not overlapped: DeepSpeed's delayed update is off by default); offloaded weights
// fetched for each forward and backward; offloaded activations copied out and back. The copies
// of weights and activations overlap the micro-batch's compute (prefetch on a side stream).
double OffloadSeconds(const Cluster& c, const FinetunePlan& p, const FinetuneParams& n,
                      double saved_activation_bytes, double per_mb_compute) {
  const double pcie = HostLinkBytesPerS(c.gpu);
  const double shard = (p.sharding == Sharding::kNone ? 1.0 : p.dp) * p.tp;
  double t = 0;
  if (p.offload_optimizer) {
    const double gpus_in_node = static_cast<double>(std::min<int64_t>(p.gpus, c.gpus_per_node));
    t += 2.0 * n.trainable / shard * 2.0 / pcie +
         n.trainable / shard * gpus_in_node / kCpuAdamParamsPerS;
  }
  double per_mb = 0;
  if (p.offload_params) {
    const bool sharded = ShardsParams(p.sharding);
    per_mb += 2.0 * StoredWeightBytes(p, n) / ((sharded ? p.dp : 1.0) * p.tp) / pcie;
  }
  if (p.offload_activations) per_mb += 2.0 * saved_activation_bytes / pcie;
  return t + p.grad_accum * std::max(0.0, per_mb - per_mb_compute);
}

}  // namespace

FinetuneTime FinetuneTimeOf(const Model& m, const Cluster& c, const FinetunePlan& p,
                            const FinetuneSetup& s) {
  const Plan plan{.tp = p.tp, .dp = p.dp, .micro_batch = p.micro_batch,
                  .grad_accum = p.grad_accum};
  const TrainingSetup ts{.global_batch = s.global_batch, .seq_len = s.seq_len,
                         .precision = s.precision, .fused_elementwise = s.compile};
  const ForwardCosts f = ForwardPass(m, c, plan, ts);
  const Device d = DeviceFor(c, ts);
  const FinetuneParams n = FinetuneParamsOf(m, p);
  const double tokens = static_cast<double>(s.seq_len) * p.micro_batch;
  const PassSeconds pass = LayerPasses(m, p, f);
  const double stretch = 1.0 + f.eff.step_overhead;
  const double accum = p.grad_accum;
  FinetuneTime t;
  const double adapters = AdapterSeconds(m, p, d, tokens);
  const double per_mb = (pass.forward + pass.backward + adapters) * stretch;
  t.compute = accum * per_mb;
  t.recompute = accum * pass.recompute * stretch;
  t.dequant = accum * DequantSeconds(p, n, d);
  t.comm = accum * pass.tp_comm + ShardingSeconds(c, p, n, f.eff, per_mb);
  const double saved = FinetuneMemoryOf(m, c, p, s).host_activations;
  t.offload = OffloadSeconds(c, p, n, saved, per_mb);
  if (!p.offload_optimizer) {
    const double shard = (p.sharding == Sharding::kNone ? 1.0 : p.dp) * p.tp;
    // Read and write the weights, read the gradients, read and write the states.
    const double bytes_per_param = 2.0 + 2.0 + TrainableStateBytes(m, p, s);
    t.optimizer = n.trainable / shard * bytes_per_param * 2.0 / d.hbm;
  }
  const double step_tokens = static_cast<double>(s.global_batch) * s.seq_len;
  t.tokens_per_s = t.step() > 0 ? step_tokens / t.step() : 0.0;
  t.model_flops = ModelFlopsPerStep(m, s.seq_len, s.global_batch) *
                  (TrainsBase(p.method) ? 1.0 : 2.0 / 3.0);
  return t;
}

}  // namespace planner
