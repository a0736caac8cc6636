#include <algorithm>
#include <cmath>

#include "planner/cost/memory_model.h"
#include "planner/cost/serving.h"
#include "planner/model/units.h"

namespace planner {

const char* WeightFormatName(WeightFormat w) {
  switch (w) {
    case WeightFormat::kBf16: return "bf16";
    case WeightFormat::kFp8: return "fp8";
    case WeightFormat::kInt8: return "int8";
    case WeightFormat::kInt4Awq: return "int4-awq";
    case WeightFormat::kInt4Gptq: return "int4-gptq";
    case WeightFormat::kNvfp4: return "nvfp4";
    case WeightFormat::kInt8Wo: return "int8-wo";
    case WeightFormat::kInt4Wo: return "int4-wo";
  }
  return "?";
}

bool UsesWeightGroups(WeightFormat w) {
  return w == WeightFormat::kInt4Awq || w == WeightFormat::kInt4Gptq || w == WeightFormat::kInt4Wo;
}

double BytesPerWeight(WeightFormat w, int64_t group) {
  switch (w) {
    case WeightFormat::kBf16: return 2.0;
    // One scale per output channel: torchao's int8 keeps a bf16 scale and an int64 zero point,
    // 10 bytes per row of >= 4096 weights (0.2 %), left out.
    case WeightFormat::kFp8:
    case WeightFormat::kInt8:
    case WeightFormat::kInt8Wo: return 1.0;
    // 4 bits plus a 16-bit scale and a 16-bit zero point per group of `group` weights.
    case WeightFormat::kInt4Awq:
    case WeightFormat::kInt4Gptq:
    case WeightFormat::kInt4Wo: return 0.5 + 4.0 / static_cast<double>(group);
    // 4 bits plus one fp8 scale per block of 16 (and a tensor-wide fp32 scale, negligible).
    case WeightFormat::kNvfp4: return 0.5 + 1.0 / 16.0;
  }
  return 2.0;
}

bool Computes8Bit(WeightFormat w) { return w == WeightFormat::kFp8 || w == WeightFormat::kInt8; }

double KvBytesPerToken(const Model& m, Precision kv, int64_t context) {
  return KvCacheBytesPerToken(m, kv == Precision::kFp8 ? 1.0 : 2.0, context);
}

double WeightBytesPerGpu(const Model& m, const ServePlan& p, const ServeSetup& s) {
  const ParamCounts c = CountParameters(m);
  const double sixteen_bit = c.embedding + (s.output_quantized ? 0.0 : c.output);
  const double linear = c.total - sixteen_bit;
  return (linear * BytesPerWeight(p.weights, s.weight_group) + 2.0 * sixteen_bit) /
         (p.tp * p.pp);
}

double QuantizedWeightsPerGpu(const Model& m, const ServePlan& p, const ServeSetup& s) {
  const ParamCounts c = CountParameters(m);
  const double sixteen_bit = c.embedding + (s.output_quantized ? 0.0 : c.output);
  return (c.total - sixteen_bit) / (p.tp * p.pp);
}

double DequantOpsPerWeight(WeightFormat w) {
  // Fitted once on torchao's Llama-2-7B rows on an A100 (README's generate.py table, batch 1:
  // int8wo 171 and int4wo-64 201 tokens/s; bench/serve_accuracy_torchao.cc): the time each
  // step took beyond reading the weights at the bf16 row's rate, over 6.607e9 weights, at the
  // A100's 19.5 TFLOP/s of fp32: int8 3.3 operations a weight (convert, scale), int4 6.2
  // (shift, mask, convert, zero point, scale). Its Llama-3-8B rows are held out.
  switch (w) {
    case WeightFormat::kInt8Wo: return 3.3;
    case WeightFormat::kInt4Wo: return 6.2;
    default: return 0.0;
  }
}

double KvBytesPerTokenPerGpu(const Model& m, const ServePlan& p, int64_t context) {
  const double split =
      m.kv_lora_rank > 0 ? 1.0 : std::min<double>(p.tp, static_cast<double>(m.kv_heads));
  return KvBytesPerToken(m, p.kv, context) / split / p.pp;
}

namespace {

// The engine's profiling pass runs one step of max_batched_tokens: the layer's widest
// intermediates in 16 bits (input, Q/K/V, the MLP's gate and up halves), plus fp32 logits for
// the sampled positions (one per sequence).
double StepActivationBytes(const Model& m, const ServePlan& p, const ServeSetup& s) {
  const double tokens = static_cast<double>(s.max_batched_tokens);
  const double h = static_cast<double>(m.hidden);
  const double qkv = static_cast<double>((m.heads + 2 * m.kv_heads) * HeadDim(m)) / p.tp;
  const double f = static_cast<double>(IsMoe(m) ? ExpertFfnHidden(m) : m.ffn_hidden) / p.tp;
  const double mlp = (m.mlp == MlpKind::kSwiglu ? 2.0 : 1.0) * f;
  const double logits = 4.0 * static_cast<double>(p.batch) * static_cast<double>(m.vocab) / p.tp;
  return 2.0 * tokens * (2.0 * h + qkv + mlp) + logits;
}

}  // namespace

ServeMemory ServingMemoryOf(const Model& m, const Gpu& gpu, const ServePlan& p,
                            const ServeSetup& s) {
  ServeMemory mem;
  mem.weights = WeightBytesPerGpu(m, p, s);
  mem.embedding = 2.0 * CountParameters(m).embedding / (p.tp * p.pp);
  mem.activations = StepActivationBytes(m, p, s);
  // CUDA graphs of the decode batch sizes and NCCL's buffers: about 0.5 GiB in vLLM's start-up
  // log ("Graph capturing finished ... took 0.5 GiB") plus 0.25 GiB of NCCL buffers with TP.
  mem.overhead = gpu.reserved_bytes + 0.5 * kGiB + (p.tp * p.pp > 1 ? 0.25 * kGiB : 0.0);
  mem.kv_budget =
      s.memory_fraction * gpu.hbm_bytes - mem.weights - mem.activations - mem.overhead;
  const double tokens = static_cast<double>(s.input_tokens + s.output_tokens);
  const double pages = std::ceil(tokens / static_cast<double>(s.block_tokens));
  mem.kv_per_sequence =
      pages * static_cast<double>(s.block_tokens) *
      KvBytesPerTokenPerGpu(m, p, s.input_tokens + s.output_tokens);
  mem.max_sequences = mem.kv_budget > 0 && mem.kv_per_sequence > 0
                          ? static_cast<int64_t>(mem.kv_budget / mem.kv_per_sequence)
                          : 0;
  return mem;
}

}  // namespace planner
