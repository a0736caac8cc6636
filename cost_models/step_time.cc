#include "planner/step_time.h"

#include <algorithm>
#include <cmath>

#include "planner/collectives.h"
#include "planner/compute_model.h"
#include "planner/memory_model.h"

namespace planner {

Efficiency EfficiencyFor(const Gpu& gpu) {
  // One set per architecture, fitted once over all published runs of that architecture
  // (README, "Calibration"); never per run or per paper.
  if (gpu.arch == "hopper" || gpu.arch == "blackwell") {
    return Efficiency{.gemm = 0.80, .gemm_half_dim = 128, .attention = 0.55, .hbm = 0.80,
                      .link = 0.80, .dp_overlap = 1.0};
  }
  return Efficiency{.gemm = 0.82, .gemm_half_dim = 96, .attention = 0.50, .hbm = 0.80,
                    .link = 0.80, .dp_overlap = 1.0};
}

namespace {

struct Device {
  double peak = 0;       // FLOP/s at the training precision
  double hbm = 0;        // bytes/s reachable by element-wise kernels
  Efficiency eff;
};

// One GEMM of m x k by k x n: compute at a shape-dependent share of peak, or memory-bound
// when a dimension is small (roofline against HBM).
double GemmSeconds(const Device& d, double m, double k, double n, double value_bytes) {
  const double flops = 2.0 * m * k * n;
  const double edge = std::min(k, n);
  const double share = d.eff.gemm * edge / (edge + d.eff.gemm_half_dim);
  const double bytes = value_bytes * (m * k + k * n + m * n);
  return std::max(flops / (d.peak * share), bytes / d.hbm);
}

// Seconds of one layer's forward on one GPU for one micro-batch, split by kind.
struct LayerCost {
  double gemm = 0;        // matmuls
  double attention = 0;   // attention core (scores, softmax, weighted sum)
  double elementwise = 0; // norms, residuals, activation function, dropout
  double tp_comm = 0;     // two all-reduces (or RS + AG with sequence parallelism)
  double cp_comm = 0;     // K/V ring exchange not hidden behind attention
  double ep_comm = 0;     // token dispatch and combine
};

LayerCost LayerForward(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                       const Device& d, bool moe_layer) {
  const double t = p.tp;
  const double seq = static_cast<double>(s.seq_len) / p.cp;  // local queries
  const double tokens = seq * p.micro_batch;
  const double h = static_cast<double>(m.hidden);
  const double q = static_cast<double>(m.heads * HeadDim(m));
  const double kv = static_cast<double>(m.kv_heads * HeadDim(m));
  const double vb = s.precision == Precision::kFp32 ? 4.0 : 2.0;
  const double mats = m.mlp == MlpKind::kSwiglu ? 3.0 : 2.0;
  double f = static_cast<double>(m.ffn_hidden);
  double experts_active = 1.0;
  if (moe_layer) {
    f = static_cast<double>(m.moe_ffn_hidden > 0 ? m.moe_ffn_hidden : m.ffn_hidden);
    experts_active = static_cast<double>(m.experts_per_token + m.shared_experts);
  }
  LayerCost cost;
  cost.gemm = GemmSeconds(d, tokens, h, (q + 2.0 * kv) / t, vb) + GemmSeconds(d, tokens, q / t, h, vb);
  cost.gemm += experts_active * (GemmSeconds(d, tokens, h, (mats - 1.0) * f / t, vb) +
                                 GemmSeconds(d, tokens, f / t, h, vb));
  // Attention core: 4 s^2 b q FLOPs over all heads (Narayanan et al. 2021, eq. 3).
  const double full_seq = static_cast<double>(s.seq_len);
  const double attn_flops = 4.0 * tokens * full_seq * q / t;
  const double act_bytes = tokens * h * vb;  // one activation tensor of the layer
  const double rep = p.sequence_parallel ? t : 1.0;
  const double drop = m.dropout ? 1.0 : 0.0;
  // Two norms (read + write), two residual adds (2 reads + 1 write), dropout masks: replicated
  // across TP ranks unless sequence parallel.
  double elem_bytes = (4.0 + 6.0 + 1.0 * drop) * act_bytes / rep;
  // Activation function over the MLP's f-wide output: GELU reads and writes it, SwiGLU reads two.
  elem_bytes += experts_active * (mats == 3.0 ? 3.0 : 2.0) * tokens * f * vb / t;
  if (s.flash_attention) {
    cost.attention = attn_flops / (d.peak * d.eff.attention);
  } else {
    // Unfused: batched matmuls of head_dim width, then softmax (+ dropout) over the scores.
    const double hd = static_cast<double>(HeadDim(m));
    const double bmm_share = d.eff.gemm * hd / (hd + d.eff.gemm_half_dim);
    const double scores = static_cast<double>(m.heads) / t * tokens * full_seq * vb;
    cost.attention = attn_flops / (d.peak * bmm_share) + (2.0 + 2.5 * drop) * scores / d.hbm;
  }
  cost.elementwise = elem_bytes / d.hbm;
  const bool tp_in_node = p.tp * p.cp <= c.gpus_per_node;
  const Link& tp_link = tp_in_node ? c.intra : c.inter;
  const double tp_bw = (tp_in_node ? c.intra.one_way_bytes_per_s : c.inter_bytes_per_s_per_gpu()) *
                       d.eff.link;
  cost.tp_comm = 2.0 * AllReduceSeconds(act_bytes, p.tp, tp_bw, tp_link.latency_s);
  if (p.cp > 1) {
    // Ring attention: each rank passes its K and V chunk cp - 1 times, overlapped with the
    // attention of the chunk in hand (Megatron-LM --context-parallel-size).
    const double kv_bytes = 2.0 * tokens * kv / t * vb;
    const bool cp_in_node = p.tp * p.cp <= c.gpus_per_node;
    const double bw = (cp_in_node ? c.intra.one_way_bytes_per_s : c.inter_bytes_per_s_per_gpu()) *
                      d.eff.link;
    const double ring = (p.cp - 1.0) * kv_bytes / bw;
    cost.cp_comm = std::max(0.0, ring - cost.attention);
  }
  if (moe_layer && p.ep > 1) {
    // Dispatch and combine: each token's hidden vector goes to its top-k experts and back.
    const double bytes = tokens * h * vb * static_cast<double>(m.experts_per_token) / rep;
    const bool ep_in_node = p.tp * p.cp * p.ep <= c.gpus_per_node;
    const Link& link = ep_in_node ? c.intra : c.inter;
    const double bw = (ep_in_node ? c.intra.one_way_bytes_per_s : c.inter_bytes_per_s_per_gpu()) *
                      d.eff.link;
    cost.ep_comm = 2.0 * AllToAllSeconds(bytes, p.ep, bw, link.latency_s);
  }
  return cost;
}

}  // namespace

TimeBreakdown StepTime(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s) {
  const Device d{.peak = c.gpu.PeakFlops(s.precision),
                 .hbm = c.gpu.hbm_bytes_per_s * EfficiencyFor(c.gpu).hbm,
                 .eff = EfficiencyFor(c.gpu)};
  const LayerCost dense = LayerForward(m, c, p, s, d, false);
  const LayerCost moe = IsMoe(m) ? LayerForward(m, c, p, s, d, true) : dense;
  const double vb = s.precision == Precision::kFp32 ? 4.0 : 2.0;
  const double tokens = static_cast<double>(s.seq_len) / p.cp * p.micro_batch;
  const double h = static_cast<double>(m.hidden);
  const double mb = p.grad_accum;

  // The slowest stage sets the pace; with an even split every stage has the same layers and the
  // last one also runs the output layer, so it is the slowest.
  const int last = p.pp - 1;
  const double layers = static_cast<double>(StageLayers(m, p, last));
  const double moe_share = IsMoe(m) ? static_cast<double>(MoeLayers(m)) / m.layers : 0.0;
  auto mix = [&](double LayerCost::*field) {
    return layers * ((1.0 - moe_share) * dense.*field + moe_share * moe.*field);
  };
  const double logits = GemmSeconds(d, tokens, h, static_cast<double>(m.vocab) / p.tp, vb);
  const double fwd_compute = mix(&LayerCost::gemm) + mix(&LayerCost::attention) +
                             mix(&LayerCost::elementwise) + logits;
  const double fwd_comm = mix(&LayerCost::tp_comm) + mix(&LayerCost::cp_comm);
  const double fwd_ep = mix(&LayerCost::ep_comm);
  double recompute = 0;
  double recompute_comm = 0;
  if (p.recompute == Recompute::kFull) {
    recompute = fwd_compute - logits;
    recompute_comm = fwd_comm + fwd_ep;
  } else if (p.recompute == Recompute::kSelective && !s.flash_attention) {
    recompute = mix(&LayerCost::attention);
  }
  // Backward is twice the forward's work and repeats its collectives.
  const double per_mb_compute = 3.0 * fwd_compute;
  const double per_mb_comm = 2.0 * fwd_comm + recompute_comm;
  const double per_mb_ep = 2.0 * fwd_ep;
  const double per_mb = per_mb_compute + recompute + per_mb_comm + per_mb_ep;

  TimeBreakdown t;
  t.compute = mb * per_mb_compute;
  t.recompute = mb * recompute;
  t.tp_comm = mb * per_mb_comm;
  t.ep_comm = mb * per_mb_ep;
  // Pipeline fill and drain: (p - 1) / v micro-batch slots (Narayanan et al. 2021, section 2.2).
  t.bubble = (p.pp - 1.0) / p.virtual_stages * per_mb;

  if (p.pp > 1) {
    // Activations cross each stage boundary forward and their gradients backward; with
    // interleaving v times as often. Megatron sends 1/t of the tensor (scatter/gather).
    const bool pp_in_node = static_cast<int64_t>(p.tp) * p.cp * p.dp < c.gpus_per_node;
    const Link& link = pp_in_node ? c.intra : c.inter;
    const double bw = (pp_in_node ? c.intra.one_way_bytes_per_s : c.inter_bytes_per_s_per_gpu()) *
                      d.eff.link;
    const double send = SendSeconds(tokens * h * vb / p.tp, bw, link.latency_s);
    t.pp_comm = 2.0 * (mb * p.virtual_stages + p.pp - 1.0) * send;
  }

  // Data parallelism: gradients of this GPU's parameters, reduced over dp ranks once per step.
  const StateBytes per_param = StateBytesPerParam(s);
  const double params = std::max(StageParameters(m, p, 0), StageParameters(m, p, last));
  if (p.dp > 1) {
    const bool dp_in_node = static_cast<int64_t>(p.tp) * p.cp * p.dp <= c.gpus_per_node;
    const Link& link = dp_in_node ? c.intra : c.inter;
    const double bw = (dp_in_node ? c.intra.one_way_bytes_per_s : c.inter_bytes_per_s_per_gpu()) *
                      d.eff.link;
    const double grad_bytes = params * per_param.gradients;
    const double weight_bytes = params * per_param.weights;
    double comm = 0;
    if (p.zero_stage == 0) {
      comm = AllReduceSeconds(grad_bytes, p.dp, bw, link.latency_s);
    } else if (p.zero_stage <= 2) {
      // Reduce-scatter the gradients, all-gather the updated 16-bit weights.
      comm = AllGatherSeconds(grad_bytes, p.dp, bw, link.latency_s) +
             AllGatherSeconds(weight_bytes, p.dp, bw, link.latency_s);
    } else {
      // ZeRO-3 gathers the weights for every micro-batch's forward and backward.
      comm = mb * 2.0 * AllGatherSeconds(weight_bytes, p.dp, bw, link.latency_s) +
             AllGatherSeconds(grad_bytes, p.dp, bw, link.latency_s);
    }
    // Buckets are reduced while the last micro-batch's backward runs (--overlap-grad-reduce).
    const double window = d.eff.dp_overlap * (2.0 / 3.0) * per_mb_compute *
                          (p.zero_stage >= 3 ? mb : 1.0);
    t.dp_comm = std::max(0.0, comm - window);
  }
  // The optimizer reads and writes fp32 master weights, moments and gradients: ~16 bytes of
  // state per parameter each way, over this GPU's shard.
  const double shard = p.zero_stage >= 1 ? params / p.dp : params;
  t.optimizer = shard * (per_param.optimizer + per_param.gradients + per_param.weights) * 2.0 /
                d.hbm;
  return t;
}

}  // namespace planner
