// Prefill is compute: 2 x active parameters x tokens plus causal attention, at the matmul
// efficiency. Decode is memory traffic: every weight once per step for the whole batch, the KV
// cache of every sequence, for a MoE the experts the batch touches; or compute when the batch is
// large. Tensor parallelism adds two all-reduces per layer, small and latency-bound in decode.
#include <algorithm>
#include <cmath>

#include "device.h"
#include "planner/cost/calibration.h"
#include "planner/cost/collectives.h"
#include "planner/cost/serving.h"

namespace planner {
namespace {

// A forward pass launches a dozen kernels per layer; for a short prompt they are too small to
// hide the host's launch and synchronization gaps. TensorRT-LLM's published first-token latencies
// at 128 tokens (v0.5, ../shared/validation: GPT-J 6B, Llama 2 7B and 70B, Falcon 180B on H100,
// A100 and L40S) sit 0.1-0.25 ms per layer above the roofline of their matmuls and weight reads;
// 0.15 ms per layer is their middle. It is added once per prefill.
constexpr double kPrefillGapPerLayerS = 0.15e-3;

// The GPU as the serving precision sees it.
struct ServeDevice {
  double matmul_flops = 0;  // FLOP/s a large matmul reaches at the weights' compute precision
  double half_flops = 0;    // 16-bit FLOP/s attention reaches
  double hbm = 0;           // bytes/s a streaming kernel reaches
  Efficiency eff;
};

// The constants are the cluster's: its GPU's built-in set or a --calibration file's.
ServeDevice ServeDeviceFor(const Cluster& c, WeightFormat w) {
  const Gpu& gpu = c.gpu;
  const Efficiency eff = EfficiencyOf(c);
  ServeDevice d{.hbm = gpu.hbm_bytes_per_s * eff.hbm, .eff = eff};
  d.half_flops = gpu.bf16_flops * eff.attention;
  if (Computes8Bit(w)) {
    // int8 tensor cores run at twice the 16-bit rate where the GPU has no fp8 (A100).
    const double peak = gpu.fp8_flops > 0 ? gpu.fp8_flops : 2.0 * gpu.bf16_flops;
    d.matmul_flops = peak * eff.gemm_fp8;
  } else {
    d.matmul_flops = gpu.bf16_flops * eff.gemm;
  }
  return d;
}

// Parameters a step multiplies per token (top-k experts only), and the weight bytes a decode step
// of `batch` sequences reads on one GPU: a MoE layer's experts that at least one token of the
// batch picks, E (1 - (1 - k/E)^batch) of E under uniform routing.
double ActiveParams(const Model& m) { return CountParameters(m).active; }

double DecodeWeightBytes(const Model& m, const ServePlan& p, const ServeSetup& s,
                         double batch) {
  const double all = WeightBytesPerGpu(m, p, s);
  if (!IsMoe(m)) return all;
  const ParamCounts c = CountParameters(m);
  const double e = static_cast<double>(m.experts);
  const double k = static_cast<double>(m.experts_per_token);
  const double touched = 1.0 - std::pow(1.0 - k / e, batch);
  const double experts = c.expert_mlp_per_layer * static_cast<double>(MoeLayers(m));
  return all - (1.0 - touched) * experts * all / c.total;
}

// Two all-reduces of the layer's output per layer on each GPU's share of the layers. With
// expert parallelism a MoE layer's second one becomes a dispatch and a combine all-to-all of
// each token's top-k copies (16-bit).
double TpCommSeconds(const Model& m, const Cluster& c, const ServePlan& p, double tokens,
                     const Efficiency& eff) {
  if (p.tp <= 1) return 0.0;
  const bool in_node = p.tp <= c.gpus_per_node;
  const Link& link = in_node ? c.intra : c.inter;
  const double bw = link.one_way_bytes_per_s * eff.link;
  const double bytes = tokens * static_cast<double>(m.hidden) * 2.0;
  const double all_reduce = AllReduceSeconds(bytes, p.tp, bw, link.latency_s);
  const double layers = static_cast<double>(m.layers);
  if (p.ep <= 1 || !IsMoe(m)) return 2.0 * all_reduce * layers;
  const double moe = static_cast<double>(MoeLayers(m));
  const double routed = bytes * static_cast<double>(m.experts_per_token);
  const double exchange = 2.0 * AllToAllSeconds(routed, p.ep, bw, link.latency_s);
  return 2.0 * all_reduce * (layers - moe) + (all_reduce + exchange) * moe;
}

// Activations cross pp - 1 stage boundaries once per step.
double PpSendSeconds(const Model& m, const Cluster& c, const ServePlan& p, double tokens) {
  if (p.pp <= 1) return 0.0;
  const bool in_node = static_cast<int64_t>(p.tp) * p.pp <= c.gpus_per_node;
  const Link& link = in_node ? c.intra : c.inter;
  const double bytes = tokens * static_cast<double>(m.hidden) * 2.0;
  return (p.pp - 1.0) * SendSeconds(bytes, link.one_way_bytes_per_s, link.latency_s);
}

// A prefill of `sequences` prompts of `prompt` tokens each: matmuls, causal attention (half of
// 4 s^2 q per sequence and layer), logits of the last position only, and the weights read once.
double PrefillSeconds(const Model& m, const Cluster& c, const ServePlan& p, const ServeSetup& s,
                      const ServeDevice& d, double sequences, double prompt) {
  const double tokens = sequences * prompt;
  const double q = static_cast<double>(m.heads * HeadDim(m));
  const double linear_flops = 2.0 * ActiveParams(m) * tokens;
  const double attention_flops =
      2.0 * sequences * prompt * prompt * q * static_cast<double>(m.layers);
  const double compute = linear_flops / (p.tp * p.pp) / d.matmul_flops +
                         attention_flops / (p.tp * p.pp) / d.half_flops;
  const double reads = WeightBytesPerGpu(m, p, s) / d.hbm;
  return std::max(compute, reads) * p.pp + TpCommSeconds(m, c, p, tokens, d.eff) +
         PpSendSeconds(m, c, p, tokens) + kPrefillGapPerLayerS * static_cast<double>(m.layers);
}

// How often a decode step reads each cached KV value: once per KV head when the kernel serves
// the whole query group from one read (TensorRT-LLM's XQA from 0.8, FlashInfer, FlashAttention),
// once per query head when it runs a thread block per query head (TensorRT-LLM's masked MHA
// before XQA), which multiplies the KV traffic of grouped-query attention by heads / kv_heads.
// With more ranks than KV heads each rank keeps one KV head for its heads / tp query heads.
double KvReadsPerToken(const Model& m, const ServePlan& p, const ServeSetup& s) {
  if (!s.kv_read_per_query_head || m.kv_heads <= 0) return 1.0;
  const double tp = static_cast<double>(p.tp);
  const double kv_heads_per_gpu = std::max(static_cast<double>(m.kv_heads) / tp, 1.0);
  return std::max(static_cast<double>(m.heads) / tp / kv_heads_per_gpu, 1.0);
}

// One decode step of `batch` sequences whose contexts average `context` tokens.
struct DecodeStep {
  double seconds = 0;
  double comm = 0;
};
DecodeStep DecodeSeconds(const Model& m, const Cluster& c, const ServePlan& p,
                         const ServeSetup& s, const ServeDevice& d, double batch, double context) {
  // The matmuls and the attention are separate kernels, one after the other: each is bound by
  // its own roofline (the matmuls by the weights or their FLOPs, the attention by the KV cache),
  // so a step whose matmuls are compute-bound still pays the KV reads in full.
  // Weight-only kernels that dequantize on the CUDA cores add that work to the reading, once
  // per weight whatever the batch (the share of a MoE's weights the batch touches).
  const double read = DecodeWeightBytes(m, p, s, batch);
  double weights = read / d.hbm;
  if (const double ops = DequantOpsPerWeight(p.weights); ops > 0) {
    weights += ops * QuantizedWeightsPerGpu(m, p, s) * read / WeightBytesPerGpu(m, p, s) /
               c.gpu.fp32_flops;
  }
  const double matmuls = 2.0 * ActiveParams(m) * batch / (p.tp * p.pp) / d.matmul_flops;
  const double kv_bytes = batch * context *
                          KvBytesPerTokenPerGpu(m, p, static_cast<int64_t>(context)) *
                          KvReadsPerToken(m, p, s);
  const double q = static_cast<double>(m.heads * HeadDim(m));
  const double attention = 4.0 * batch * context * q * static_cast<double>(m.layers) /
                           (p.tp * p.pp) / d.half_flops;
  const double stage = std::max(weights, matmuls) + std::max(kv_bytes / d.hbm, attention);
  DecodeStep step;
  step.comm = TpCommSeconds(m, c, p, batch, d.eff) + PpSendSeconds(m, c, p, batch);
  // Launch gaps and the sampler: the architecture's share of the step, as in training.
  step.seconds = stage * p.pp * (1.0 + d.eff.step_overhead) + step.comm;
  return step;
}

}  // namespace

ServeTime ServingTimeOf(const Model& m, const Cluster& c, const ServePlan& p,
                        const ServeSetup& s) {
  const ServeDevice d = ServeDeviceFor(c, p.weights);
  const double batch = static_cast<double>(p.batch);
  const double input = static_cast<double>(s.input_tokens);
  const double output = static_cast<double>(s.output_tokens);
  ServeTime t;
  t.ttft = PrefillSeconds(m, c, p, s, d, 1.0, input);
  t.prefill = PrefillSeconds(m, c, p, s, d, batch, input);
  const DecodeStep step = DecodeSeconds(m, c, p, s, d, batch, input + output / 2.0);
  t.decode_step = step.seconds;
  t.decode_comm = step.comm;
  // The batch in lockstep (TensorRT-LLM's static-batch benchmark; in-flight batching reaches the
  // same steady state): all prompts, then every output token of every sequence.
  const double total = t.prefill + std::max(0.0, output - 1.0) * t.decode_step;
  t.tokens_per_s = total > 0 ? batch * output / total : 0.0;
  return t;
}

}  // namespace planner
