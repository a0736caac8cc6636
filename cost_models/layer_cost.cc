// One transformer layer's forward pass for one micro-batch on one GPU: matmuls, attention,
// element-wise kernels and the collectives of tensor, context and expert parallelism.
#include <algorithm>

#include "device.h"
#include "planner/cost/collectives.h"
#include "planner/cost/step_time.h"

namespace planner {
namespace {

// The sizes one layer's kernels see on one GPU.
struct LayerShape {
  double t = 1;         // tensor-parallel size
  double tokens = 0;    // local queries: seq / cp x micro-batch
  double full_seq = 0;  // keys each query attends to
  double h = 0;
  double q = 0;         // query (and attention output) width
  double kv = 0;        // key and value width
  double qkv_cols = 0;  // columns of the layer-input -> Q, K, V matmuls (MLA: low-rank steps)
  double attended = 0;  // keys each query attends to, averaged over sliding/global layers
  double attn_width = 0;  // mean of the QK^T and AV widths
  double mats = 2;      // MLP matrices: GELU 2, SwiGLU 3
  double f = 0;         // MLP width (one expert's for a MoE layer)
  double experts = 1;   // MLPs each token passes through
  double vb = 2;        // bytes of one activation value
  double rep = 1;       // TP ranks that hold the replicated activations (t with SP)
  double drop = 0;      // 1 when trained with dropout
  bool eager = false;   // element-wise operators unfused (PyTorch eager)
};

LayerShape ShapeOf(const Model& m, const Plan& p, const TrainingSetup& s, bool moe_layer) {
  LayerShape l;
  l.t = p.tp;
  l.tokens = static_cast<double>(s.seq_len) / p.cp * p.micro_batch;
  l.full_seq = static_cast<double>(s.seq_len);
  l.h = static_cast<double>(m.hidden);
  const AttentionShape a = AttentionOf(m);
  l.q = a.out_width;
  l.kv = (a.k_width + a.v_width) / 2.0;
  l.qkv_cols = a.in_weights / l.h;
  l.attended = MeanAttendedKeys(m, l.full_seq);
  l.attn_width = (a.q_width + a.out_width) / 2.0;
  l.mats = IsGatedMlp(m) ? 3.0 : 2.0;
  l.f = static_cast<double>(m.ffn_hidden);
  l.eager = !s.fused_elementwise;
  if (moe_layer) {
    l.f = static_cast<double>(ExpertFfnHidden(m));
    l.experts = static_cast<double>(m.experts_per_token + m.shared_experts);
  }
  l.vb = BytesPerActivation(s.precision);
  l.rep = p.sequence_parallel ? l.t : 1.0;
  l.drop = m.dropout ? 1.0 : 0.0;
  return l;
}

double GemmsSeconds(const Device& d, const LayerShape& l) {
  return GemmSeconds(d, l.tokens, l.h, l.qkv_cols / l.t) +
         GemmSeconds(d, l.tokens, l.q / l.t, l.h) +
         l.experts * (GemmSeconds(d, l.tokens, l.h, (l.mats - 1.0) * l.f / l.t) +
                      GemmSeconds(d, l.tokens, l.f / l.t, l.h));
}

double AttentionSeconds(const Model& m, const TrainingSetup& s, const Device& d,
                        const LayerShape& l) {
  // Attention core, 4 s^2 b q FLOPs over all heads (Narayanan et al. 2021, eq. 3), in 16 bits.
  const double attn_flops = 4.0 * l.tokens * l.attended * l.attn_width / l.t;
  if (s.flash_attention) return attn_flops / (d.half_peak * d.eff.attention);
  // Unfused: batched matmuls of head_dim width, then softmax (and dropout) over the scores.
  const double hd = static_cast<double>(HeadDim(m));
  const double bmm_share = d.eff.gemm * hd / (hd + d.eff.gemm_half_dim);
  const double scores = static_cast<double>(m.heads) / l.t * l.tokens * l.attended * l.vb;
  return attn_flops / (d.half_peak * bmm_share) + (2.0 + 2.5 * l.drop) * scores / d.hbm;
}

// What PyTorch eager moves beyond the fused kernels, one kernel per operator as torchtitan writes
// them (torchtitan/models/norms.py, llama3/model.py of 2024-12), in bytes per element:
// RMSNorm x.float(), pow, mean, mul, type_as, * weight: 36 against 4 fused; rotary embedding
// float, complex multiply, type_as over Q and K: 20 against 4; SwiGLU silu then mul: 10
// against 6.
double EagerExtraBytes(const LayerShape& l) {
  const double per_value = l.vb / 2.0;  // the counts above are for 2-byte activations
  const double norms = 2.0 * 32.0 * l.tokens * l.h / l.rep;
  const double rotary = 16.0 * l.tokens * (l.q + l.kv) / l.t;
  const double swiglu = l.mats == 3.0 ? l.experts * 4.0 * l.tokens * l.f / l.t : 0.0;
  return per_value * (norms + rotary + swiglu);
}

double ElementwiseSeconds(const Device& d, const LayerShape& l) {
  const double act_bytes = l.tokens * l.h * l.vb;
  // Two norms (read + write), two residual adds (2 reads + 1 write), dropout masks: replicated
  // across TP ranks unless sequence parallel.
  double bytes = (4.0 + 6.0 + l.drop) * act_bytes / l.rep;
  // The activation function over the MLP's f-wide output: GELU reads and writes it; SwiGLU reads
  // two halves and writes one.
  bytes += l.experts * (l.mats == 3.0 ? 3.0 : 2.0) * l.tokens * l.f * l.vb / l.t;
  if (d.fp8) {
    // Transformer Engine casts each matmul's input to fp8 (read 2 bytes, write 1).
    bytes += 3.0 * l.tokens * (2.0 * l.h / l.rep + l.q / l.t + l.experts * l.f / l.t);
  }
  if (l.eager) bytes += EagerExtraBytes(l);
  return bytes / d.hbm;
}

// Two all-reduces of the layer's output per forward (Megatron-LM); overlapped, they run in
// chunks beside the matmuls that produce or consume them (Transformer Engine userbuffers), and
// only what outlasts the matmuls shows.
double TpCommSeconds(const Cluster& c, const Plan& p, const TrainingSetup& s, const Device& d,
                     const LayerShape& l, double gemm_s) {
  const Path path = RingPath(c, p.tp, 1, d.eff.link);
  const double all_reduce =
      2.0 * AllReduceSeconds(l.tokens * l.h * l.vb, p.tp, path.bytes_per_s, path.latency_s);
  return s.comm_overlap ? std::max(0.0, all_reduce - gemm_s) : all_reduce;
}

// Ring attention: each rank passes its K and V chunk cp - 1 times, overlapped with the attention
// of the chunk in hand (Megatron-LM --context-parallel-size).
double CpCommSeconds(const Cluster& c, const Plan& p, const Device& d, const LayerShape& l,
                     double attention_s) {
  if (p.cp <= 1) return 0.0;
  const Path path = RingPath(c, p.cp, p.tp, d.eff.link);
  const double ring = (p.cp - 1.0) * 2.0 * l.tokens * l.kv / l.t * l.vb / path.bytes_per_s;
  return std::max(0.0, ring - attention_s);
}

// Dispatch and combine: each token's hidden vector goes to its top-k experts and back.
double EpCommSeconds(const Model& m, const Cluster& c, const Plan& p, const Device& d,
                     const LayerShape& l) {
  const double bytes =
      l.tokens * l.h * l.vb * static_cast<double>(m.experts_per_token) / l.rep;
  const Path path = RingPath(c, p.ep, static_cast<int64_t>(p.tp) * p.cp, d.eff.link);
  return 2.0 * AllToAllSeconds(bytes, p.ep, path.bytes_per_s, path.latency_s);
}

LayerCost LayerForward(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                       const Device& d, bool moe_layer) {
  const LayerShape l = ShapeOf(m, p, s, moe_layer);
  LayerCost cost;
  cost.gemm = GemmsSeconds(d, l);
  cost.attention = AttentionSeconds(m, s, d, l);
  cost.elementwise = ElementwiseSeconds(d, l);
  cost.tp_comm = TpCommSeconds(c, p, s, d, l, cost.gemm);
  cost.cp_comm = CpCommSeconds(c, p, d, l, cost.attention);
  if (moe_layer && p.ep > 1) cost.ep_comm = EpCommSeconds(m, c, p, d, l);
  return cost;
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

}  // namespace planner
