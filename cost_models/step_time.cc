#include "planner/cost/step_time.h"

#include <algorithm>
#include <cmath>

#include "planner/cost/collectives.h"
#include "planner/cost/memory_model.h"

namespace planner {

Efficiency EfficiencyFor(const Gpu& gpu) {
  // One set per architecture, fitted once over all published runs of that architecture
  // (README, "Calibration"); never per run or per paper.
  if (gpu.arch == Arch::kHopper || gpu.arch == Arch::kBlackwell) {
    return Efficiency{.gemm = 0.70, .gemm_fp8 = 0.55, .gemm_half_dim = 128, .attention = 0.50,
                      .hbm = 0.80, .link = 0.80, .step_overhead = 0.05};
  }
  return Efficiency{.gemm = 0.82, .gemm_fp8 = 0.82, .gemm_half_dim = 96, .attention = 0.50,
                    .hbm = 0.80, .link = 0.80, .step_overhead = 0.10};
}

namespace {

struct Device {
  double gemm_peak = 0;  // FLOP/s of the matmuls at the training precision
  double half_peak = 0;  // 16-bit FLOP/s: attention and anything not run in fp8
  double gemm_eff = 0;   // share of gemm_peak a large matmul reaches
  double hbm = 0;        // bytes/s element-wise kernels reach
  bool fp8 = false;
  Efficiency eff;
};

// One GEMM of m x k by k x n: compute at a share of peak that falls when its smaller edge is
// short of a few tiles, or bound by HBM traffic (roofline).
double GemmSeconds(const Device& d, double m, double k, double n) {
  const double flops = 2.0 * m * k * n;
  const double edge = std::min(k, n);
  const double share = d.gemm_eff * edge / (edge + d.eff.gemm_half_dim);
  const double bytes = (d.fp8 ? 1.0 : 2.0) * (m * k + k * n + m * n);
  return std::max(flops / (d.gemm_peak * share), bytes / d.hbm);
}

// Bandwidth (bytes/s, one way) each rank of a ring of `n` ranks placed `stride` apart in
// Megatron's rank order (tp, cp, dp, pp from fastest to slowest) gets. Members inside one node
// talk over the intra-node link; a ring that leaves the node shares the node's NICs with the
// other rings of the same kind in that node.
struct Path {
  double bytes_per_s = 0;
  double latency_s = 0;
};
Path RingPath(const Cluster& c, int n, int64_t stride, double link_eff) {
  const int64_t members_in_node = std::clamp<int64_t>(c.gpus_per_node / std::max<int64_t>(1, stride), 1, n);
  if (members_in_node >= n) {
    return {c.intra.one_way_bytes_per_s * link_eff, c.intra.latency_s};
  }
  const double rings_in_node = static_cast<double>(c.gpus_per_node) / members_in_node;
  const double nic_share =
      static_cast<double>(c.nics_per_node) * c.inter.one_way_bytes_per_s / rings_in_node;
  return {std::min(c.intra.one_way_bytes_per_s, nic_share) * link_eff, c.inter.latency_s};
}

LayerCost LayerForward(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                       const Device& d, bool moe_layer) {
  const double t = p.tp;
  const double tokens = static_cast<double>(s.seq_len) / p.cp * p.micro_batch;  // local queries
  const double h = static_cast<double>(m.hidden);
  const double q = static_cast<double>(m.heads * HeadDim(m));
  const double kv = static_cast<double>(m.kv_heads * HeadDim(m));
  const double mats = m.mlp == MlpKind::kSwiglu ? 3.0 : 2.0;
  double f = static_cast<double>(m.ffn_hidden);
  double experts = 1.0;  // MLPs each token passes through
  if (moe_layer) {
    f = static_cast<double>(m.moe_ffn_hidden > 0 ? m.moe_ffn_hidden : m.ffn_hidden);
    experts = static_cast<double>(m.experts_per_token + m.shared_experts);
  }
  LayerCost cost;
  cost.gemm = GemmSeconds(d, tokens, h, (q + 2.0 * kv) / t) + GemmSeconds(d, tokens, q / t, h) +
              experts * (GemmSeconds(d, tokens, h, (mats - 1.0) * f / t) +
                         GemmSeconds(d, tokens, f / t, h));
  // Attention core, 4 s^2 b q FLOPs over all heads (Narayanan et al. 2021, eq. 3), in 16 bits.
  const double full_seq = static_cast<double>(s.seq_len);
  const double attn_flops = 4.0 * tokens * full_seq * q / t;
  const double vb = s.precision == Precision::kFp32 ? 4.0 : 2.0;  // activations' bytes
  const double act_bytes = tokens * h * vb;
  const double rep = p.sequence_parallel ? t : 1.0;
  const double drop = m.dropout ? 1.0 : 0.0;
  // Two norms (read + write), two residual adds (2 reads + 1 write), dropout masks: replicated
  // across TP ranks unless sequence parallel.
  double elem_bytes = (4.0 + 6.0 + drop) * act_bytes / rep;
  // The activation function over the MLP's f-wide output: GELU reads and writes it; SwiGLU reads
  // two halves and writes one.
  elem_bytes += experts * (mats == 3.0 ? 3.0 : 2.0) * tokens * f * vb / t;
  if (d.fp8) {
    // Transformer Engine casts each matmul's input to fp8 (read 2 bytes, write 1).
    elem_bytes += 3.0 * tokens * (2.0 * h / rep + q / t + experts * f / t);
  }
  if (s.flash_attention) {
    cost.attention = attn_flops / (d.half_peak * d.eff.attention);
  } else {
    // Unfused: batched matmuls of head_dim width, then softmax (and dropout) over the scores.
    const double hd = static_cast<double>(HeadDim(m));
    const double bmm_share = d.eff.gemm * hd / (hd + d.eff.gemm_half_dim);
    const double scores = static_cast<double>(m.heads) / t * tokens * full_seq * vb;
    cost.attention = attn_flops / (d.half_peak * bmm_share) + (2.0 + 2.5 * drop) * scores / d.hbm;
  }
  cost.elementwise = elem_bytes / d.hbm;
  const Path tp_path = RingPath(c, p.tp, 1, d.eff.link);
  cost.tp_comm = 2.0 * AllReduceSeconds(act_bytes, p.tp, tp_path.bytes_per_s, tp_path.latency_s);
  // Overlapped, the collectives run in chunks beside the matmuls that produce or consume them
  // (Transformer Engine userbuffers); only what outlasts the matmuls shows.
  if (s.comm_overlap) cost.tp_comm = std::max(0.0, cost.tp_comm - cost.gemm);
  if (p.cp > 1) {
    // Ring attention: each rank passes its K and V chunk cp - 1 times, overlapped with the
    // attention of the chunk in hand (Megatron-LM --context-parallel-size).
    const Path cp_path = RingPath(c, p.cp, p.tp, d.eff.link);
    const double ring = (p.cp - 1.0) * 2.0 * tokens * kv / t * vb / cp_path.bytes_per_s;
    cost.cp_comm = std::max(0.0, ring - cost.attention);
  }
  if (moe_layer && p.ep > 1) {
    // Dispatch and combine: each token's hidden vector goes to its top-k experts and back.
    const double bytes = tokens * h * vb * static_cast<double>(m.experts_per_token) / rep;
    const Path ep_path = RingPath(c, p.ep, static_cast<int64_t>(p.tp) * p.cp, d.eff.link);
    cost.ep_comm = 2.0 * AllToAllSeconds(bytes, p.ep, ep_path.bytes_per_s, ep_path.latency_s);
  }
  return cost;
}

Device DeviceFor(const Cluster& c, const TrainingSetup& s) {
  const Efficiency eff = EfficiencyFor(c.gpu);
  const bool fp8 = s.precision == Precision::kFp8;
  return Device{.gemm_peak = c.gpu.PeakFlops(s.precision),
                .half_peak = fp8 ? c.gpu.bf16_flops : c.gpu.PeakFlops(s.precision),
                .gemm_eff = fp8 ? eff.gemm_fp8 : eff.gemm,
                .hbm = c.gpu.hbm_bytes_per_s * eff.hbm,
                .fp8 = fp8,
                .eff = eff};
}

}  // namespace

ForwardCosts ForwardPass(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s) {
  const Device d = DeviceFor(c, s);
  ForwardCosts f;
  f.eff = d.eff;
  f.dense = LayerForward(m, c, p, s, d, false);
  f.moe = IsMoe(m) ? LayerForward(m, c, p, s, d, true) : f.dense;
  const double tokens = static_cast<double>(s.seq_len) / p.cp * p.micro_batch;
  f.logits = GemmSeconds(d, tokens, static_cast<double>(m.hidden),
                         static_cast<double>(m.vocab) / p.tp);
  return f;
}

TimeBreakdown StepTime(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s) {
  const ParamCounts counts = CountParameters(m);
  const double params = std::max({StageParameters(m, counts, p, 0),
                                  p.pp > 2 ? StageParameters(m, counts, p, 1) : 0.0,
                                  StageParameters(m, counts, p, p.pp - 1)});
  return StepTimeFrom(m, c, p, s, ForwardPass(m, c, p, s), params);
}

TimeBreakdown StepTimeFrom(const Model& m, const Cluster& c, const Plan& p,
                           const TrainingSetup& s, const ForwardCosts& f, double params) {
  const Efficiency& eff = f.eff;
  const double hbm = c.gpu.hbm_bytes_per_s * eff.hbm;
  const LayerCost& dense = f.dense;
  const LayerCost& moe = f.moe;
  const double tokens = static_cast<double>(s.seq_len) / p.cp * p.micro_batch;
  const double h = static_cast<double>(m.hidden);
  const double mb = p.grad_accum;

  // The slowest stage sets the pace: the last one runs the output layer beside its layers, an
  // uneven split can give another stage more layers.
  const int last = p.pp - 1;
  const double moe_share = IsMoe(m) ? static_cast<double>(MoeLayers(m)) / m.layers : 0.0;
  const double layer_time = (1.0 - moe_share) * (dense.gemm + dense.attention + dense.elementwise) +
                            moe_share * (moe.gemm + moe.attention + moe.elementwise);
  double layers = static_cast<double>(StageLayers(m, p, last));
  double logits = f.logits;
  const double busiest_other =
      static_cast<double>(std::max(StageLayers(m, p, 0), p.pp > 2 ? StageLayers(m, p, 1) : 0));
  if (p.pp > 1 && busiest_other * layer_time > layers * layer_time + logits) {
    layers = busiest_other;
    logits = 0.0;
  }
  auto mix = [&](double LayerCost::*field) {
    return layers * ((1.0 - moe_share) * dense.*field + moe_share * moe.*field);
  };
  const double fwd_compute = mix(&LayerCost::gemm) + mix(&LayerCost::attention) +
                             mix(&LayerCost::elementwise) + logits;
  const double fwd_comm = mix(&LayerCost::tp_comm) + mix(&LayerCost::cp_comm);
  const double fwd_ep = mix(&LayerCost::ep_comm);
  double recompute = 0;
  double recompute_comm = 0;
  if (p.recompute == Recompute::kFull) {
    recompute = fwd_compute - logits;
    recompute_comm = fwd_comm + fwd_ep;
  } else if (p.recompute == Recompute::kSelective && s.framework == Framework::kTorchtitan) {
    // Op-level checkpointing recomputes every other matmul and all element-wise work.
    recompute = 0.5 * mix(&LayerCost::gemm) + mix(&LayerCost::elementwise);
  } else if (p.recompute == Recompute::kSelective && !s.flash_attention) {
    recompute = mix(&LayerCost::attention);
  }
  // Backward does twice the forward's work and repeats its collectives. Launch gaps and host
  // work stretch the compute by a share fitted per architecture.
  const double overhead = 1.0 + eff.step_overhead;
  const double per_mb_compute = 3.0 * fwd_compute * overhead;
  const double per_mb_recompute = recompute * overhead;
  const double per_mb_comm = 2.0 * fwd_comm + recompute_comm;
  const double per_mb_ep = 2.0 * fwd_ep;
  const double per_mb = per_mb_compute + per_mb_recompute + per_mb_comm + per_mb_ep;

  TimeBreakdown t;
  t.compute = mb * per_mb_compute;
  t.recompute = mb * per_mb_recompute;
  t.tp_comm = mb * per_mb_comm;
  t.ep_comm = mb * per_mb_ep;
  // Pipeline fill and drain: (p - 1) / v micro-batch slots (Narayanan et al. 2021, section 2.2).
  t.bubble = (p.pp - 1.0) / p.virtual_stages * per_mb;
  if (p.pp > 1) {
    // Activations cross each stage boundary forward and their gradients backward; with
    // interleaving v times as often. Megatron sends 1/t of the tensor (scatter/gather).
    const Path path = RingPath(c, 2, static_cast<int64_t>(p.tp) * p.cp * p.dp, eff.link);
    const double send = SendSeconds(tokens * h * 2.0 / p.tp, path.bytes_per_s, path.latency_s);
    // Overlapped sends hide behind the next chunk's compute except while the pipeline fills and
    // drains.
    const double exposed_sends = s.comm_overlap ? p.pp - 1.0 : mb * p.virtual_stages + p.pp - 1.0;
    t.pp_comm = 2.0 * exposed_sends * send;
  }

  // Data parallelism: gradients of this GPU's parameters, reduced over dp ranks once per step.
  const StateBytes per_param = StateBytesPerParam(s);
  // Gradients are reduced over the data- and context-parallel ranks together (Megatron).
  const int dp = p.dp * p.cp;
  if (dp > 1) {
    const Path path = RingPath(c, dp, p.tp, eff.link);
    const double bw = path.bytes_per_s;
    const double grad_bytes = params * per_param.gradients;
    const double weight_bytes = params * per_param.weights;
    double comm = 0;
    if (p.zero_stage == 0) {
      comm = AllReduceSeconds(grad_bytes, dp, bw, path.latency_s);
    } else if (p.zero_stage <= 2) {
      // Reduce-scatter the gradients, all-gather the updated 16-bit weights.
      comm = AllGatherSeconds(grad_bytes, dp, bw, path.latency_s) +
             AllGatherSeconds(weight_bytes, dp, bw, path.latency_s);
    } else {
      // ZeRO-3 gathers the weights for every micro-batch's forward and backward.
      comm = mb * 2.0 * AllGatherSeconds(weight_bytes, dp, bw, path.latency_s) +
             AllGatherSeconds(grad_bytes, dp, bw, path.latency_s);
    }
    // With overlap, buckets are reduced while the last micro-batch's backward runs (ZeRO-3
    // prefetches weights during every micro-batch).
    double window = 0;
    if (s.overlap_grad_reduce) {
      window = (2.0 / 3.0) * per_mb_compute * (p.zero_stage >= 3 ? mb : 1.0);
    }
    t.dp_comm = std::max(0.0, comm - window);
  }
  // The optimizer reads and writes master weights, moments and gradients over this GPU's shard.
  const double shard = p.zero_stage >= 1 ? params / dp : params;
  t.optimizer = shard * (per_param.optimizer + per_param.gradients + per_param.weights) * 2.0 / hbm;
  return t;
}

}  // namespace planner
