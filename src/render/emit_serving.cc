// vLLM, SGLang and TensorRT-LLM command lines for a serving plan. Flag names are the engines'
// own (tests/fixtures/*-args.txt, extracted from their sources at the commits named there).
#include <string>

#include "planner/model/text.h"
#include "planner/render/serve_output.h"

namespace planner {
namespace {

std::string Str(int64_t v) { return std::to_string(v); }

int64_t MaxLen(const ServeSetup& s) { return s.input_tokens + s.output_tokens; }

// vLLM's --quantization method for pre-quantized checkpoints and fp8 on the fly.
const char* VllmQuantization(WeightFormat w) {
  switch (w) {
    case WeightFormat::kFp8: return "fp8";
    case WeightFormat::kInt4Awq: return "awq";
    case WeightFormat::kInt4Gptq: return "gptq";
    case WeightFormat::kNvfp4: return "modelopt_fp4";
    case WeightFormat::kInt8: return "compressed-tensors";
    // torchao's weight-only formats (vLLM's torchao method).
    case WeightFormat::kInt8Wo:
    case WeightFormat::kInt4Wo: return "torchao";
    case WeightFormat::kBf16: break;
  }
  return "";
}

}  // namespace

std::string VllmCommand(const Model& /*m*/, const ServePlan& p, const ServeSetup& s) {
  std::string c = "vllm serve \"$MODEL\" --tensor-parallel-size " + Str(p.tp) +
                  " --pipeline-parallel-size " + Str(p.pp);
  if (p.ep > 1) c += " --enable-expert-parallel";
  c += " --max-model-len " + Str(MaxLen(s)) + " --max-num-seqs " + Str(p.batch) +
       " --max-num-batched-tokens " + Str(s.max_batched_tokens) + " --gpu-memory-utilization " +
       Printf("%.2f", s.memory_fraction) + " --dtype bfloat16";
  if (p.weights != WeightFormat::kBf16) c += std::string(" --quantization ") + VllmQuantization(p.weights);
  if (p.kv == Precision::kFp8) c += " --kv-cache-dtype fp8";
  return c;
}

std::string SglangCommand(const Model& /*m*/, const ServePlan& p, const ServeSetup& s) {
  std::string c = "python -m sglang.launch_server --model-path \"$MODEL\" --tp-size " +
                  Str(p.tp) + " --pp-size " + Str(p.pp);
  if (p.ep > 1) c += " --ep-size " + Str(p.ep);
  c += " --context-length " + Str(MaxLen(s)) + " --max-running-requests " + Str(p.batch) +
       " --chunked-prefill-size " + Str(s.max_batched_tokens) + " --mem-fraction-static " +
       Printf("%.2f", s.memory_fraction) + " --dtype bfloat16";
  if (p.weights == WeightFormat::kInt8Wo || p.weights == WeightFormat::kInt4Wo) {
    // SGLang quantizes on load with torchao: --torchao-config int8wo / int4wo-<group>.
    c += p.weights == WeightFormat::kInt8Wo ? " --torchao-config int8wo"
                                            : " --torchao-config int4wo-" + Str(s.weight_group);
  } else if (p.weights != WeightFormat::kBf16) {
    const std::string q = p.weights == WeightFormat::kInt4Awq   ? "awq"
                          : p.weights == WeightFormat::kInt4Gptq ? "gptq"
                          : p.weights == WeightFormat::kNvfp4    ? "modelopt_fp4"
                          : p.weights == WeightFormat::kInt8     ? "w8a8_int8"
                                                                 : "fp8";
    c += " --quantization " + q;
  }
  if (p.kv == Precision::kFp8) c += " --kv-cache-dtype fp8_e4m3";
  return c;
}

std::string TrtllmCommand(const Model& /*m*/, const ServePlan& p, const ServeSetup& s) {
  std::string c = "trtllm-serve \"$MODEL\" --tp_size " + Str(p.tp) + " --pp_size " + Str(p.pp);
  if (p.ep > 1) c += " --ep_size " + Str(p.ep);
  c += " --max_batch_size " + Str(p.batch) + " --max_num_tokens " + Str(s.max_batched_tokens) +
       " --max_seq_len " + Str(MaxLen(s)) + " --kv_cache_free_gpu_memory_fraction " +
       Printf("%.2f", s.memory_fraction);
  // Quantization is a property of the checkpoint TensorRT-LLM loads (ModelOpt), not a flag.
  return c;
}

}  // namespace planner
