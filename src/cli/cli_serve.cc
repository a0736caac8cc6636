// `planner serve`: flags to a serving query, the search, and the answer.

#include "cli_common.h"
#include "planner/model/error.h"
#include "planner/model/text.h"
#include "planner/render/serve_output.h"

namespace planner {
namespace po = boost::program_options;
namespace {

struct ServeInput {
  SpecInput spec;
  std::string weights = "bf16";
  std::string kv = "bf16";
  std::string decode_attention = "grouped";
  int64_t weight_group = 0;  // 0: not given (the format's default, 128)
  bool quantize_output = false;
  double ttft_ms = 0;
  double tpot_ms = 0;
  std::string format = "table";
  bool wide = false;
  bool help = false;
};

std::vector<WeightFormat> ParseWeights(const std::string& list) {
  std::vector<WeightFormat> out;
  for (const std::string& name : Split(list, ',')) {
    bool known = false;
    for (int i = 0; i < kWeightFormatCount; ++i) {
      if (name == WeightFormatName(static_cast<WeightFormat>(i))) {
        out.push_back(static_cast<WeightFormat>(i));
        known = true;
      }
    }
    if (!known) {
      throw InputError("--weights", "unknown format '" + name +
                                        "'; expected a comma-separated list of bf16, fp8, int8, "
                                        "int8-wo, int4-wo, int4-awq, int4-gptq, nvfp4");
    }
  }
  if (out.empty()) throw InputError("--weights", "expected at least one format");
  return out;
}

std::vector<Precision> ParseKv(const std::string& list) {
  std::vector<Precision> out;
  for (const std::string& name : Split(list, ',')) {
    if (name == "bf16" || name == "fp16") {
      out.push_back(Precision::kBf16);
    } else if (name == "fp8") {
      out.push_back(Precision::kFp8);
    } else {
      throw InputError("--kv-cache", "unknown format '" + name + "'; expected bf16 or fp8");
    }
  }
  if (out.empty()) throw InputError("--kv-cache", "expected at least one format");
  return out;
}

void AddServeOptions(po::options_description& d, ServeInput& in, ServeQuery& q) {
  d.add_options()
      ("model", po::value(&in.spec.model), "catalog name or JSON file (planner schema or HF config.json)")
      ("catalog", po::value(&in.spec.catalogs)->composing(), "JSON file adding models, GPUs, links")
      ("gpu", po::value(&in.spec.gpu), "GPU type (planner list gpus)")
      ("gpus", PositiveValue(&q.gpus, "--gpus"), "GPUs to use (default: the fewest that serve the load)")
      ("gpus-per-node", PositiveValue(&in.spec.gpus_per_node, "--gpus-per-node"), "GPUs per node (default 8)")
      ("intra-link", po::value(&in.spec.intra_link), "link inside a node (default: the GPU's)")
      ("input-tokens", PositiveValue(&q.setup.input_tokens, "--input-tokens"), "prompt tokens per request")
      ("output-tokens", PositiveValue(&q.setup.output_tokens, "--output-tokens"), "generated tokens per request")
      ("concurrency", PositiveValue(&q.concurrency, "--concurrency"), "sequences in flight over all replicas")
      ("request-rate", BoundedValue(&q.request_rate, 1e7, "--request-rate"), "requests per second to sustain")
      ("ttft-ms", BoundedValue(&in.ttft_ms, 1e7, "--ttft-ms"), "time-to-first-token target, ms")
      ("tpot-ms", BoundedValue(&in.tpot_ms, 1e7, "--tpot-ms"), "time-per-output-token target, ms")
      ("weights", po::value(&in.weights),
       "bf16 (default), fp8, int8 (W8A8), int8-wo, int4-wo (weight-only, torchao), int4-awq, "
       "int4-gptq, nvfp4; a comma list to choose among")
      ("weight-group", PositiveValue(&in.weight_group, "--weight-group"),
       "weights per 16-bit scale and zero of int4-wo, int4-awq, int4-gptq: 32, 64, 128 "
       "(default), 256")
      ("quantize-output", po::bool_switch(&in.quantize_output),
       "the output layer (LM head) in the weights' format too, as torchao's quantize_ does "
       "(default: 16 bits, as vLLM, SGLang and TensorRT-LLM checkpoints keep it)")
      ("kv-cache", po::value(&in.kv), "bf16 (default) or fp8; a comma list to choose among")
      ("decode-attention", po::value(&in.decode_attention),
       "grouped (default: one KV read per query group, e.g. TensorRT-LLM's XQA from 0.8) or "
       "per-head (one KV read per query head: TensorRT-LLM's masked MHA up to 0.7)")
      ("tp", PositiveValue(&q.tp, "--tp"), "tensor-parallel size per replica (default: searched)")
      ("pp", PositiveValue(&q.pp, "--pp"), "pipeline-parallel size per replica (default: searched)")
      ("ep", PositiveValue(&q.ep, "--ep"),
       "expert parallelism of a MoE: 1 or the replica's --tp (default: searched)")
      ("replicas", PositiveValue(&q.replicas, "--replicas"), "replicas (default: from --gpus or the load)")
      ("calibration", po::value(&in.spec.calibration),
       "constants fitted by `planner calibrate --out FILE` (default: the GPU's built-in set)")
      ("memory-fraction", BoundedValue(&q.setup.memory_fraction, 1.0, "--memory-fraction"),
       "share of GPU memory the engine takes (default 0.9)")
      ("top", PositiveValue(&q.top, "--top"), "plans to show (default 5)")
      ("format", po::value(&in.format), "table (default) or json")
      ("wide", po::bool_switch(&in.wide), "every column (the default table fits 80 columns)")
      ("help,h", po::bool_switch(&in.help), "this help");
}

// EP spans the tensor-parallel group; the model's own checks (MoE, experts % ep) follow in the
// search, which names a plan that breaks them "indivisible".
void CheckExpertParallel(const ServeQuery& q) {
  if (q.ep <= 1) return;
  if (q.tp > 0 && q.ep != q.tp) {
    throw InputError("--ep", "expert parallelism spans the replica's tensor-parallel group: "
                             "expected 1 or --tp (" + std::to_string(q.tp) + "), got " +
                                 std::to_string(q.ep));
  }
}

// --weights, --weight-group, --quantize-output. A group size means something to the grouped
// 4-bit formats only, and their kernels take these (torchao asserts 32, 64, 128 or 256).
void ApplyWeightFlags(const ServeInput& in, ServeQuery& q) {
  q.weights = ParseWeights(in.weights);
  q.setup.output_quantized = in.quantize_output;
  if (in.weight_group == 0) return;
  const int64_t g = in.weight_group;
  if (g != 32 && g != 64 && g != 128 && g != 256) {
    throw InputError("--weight-group", "expected 32, 64, 128 or 256, got " + std::to_string(g));
  }
  bool grouped = false;
  for (const WeightFormat w : q.weights) grouped = grouped || UsesWeightGroups(w);
  if (!grouped) {
    throw InputError("--weight-group", "applies to --weights int4-wo, int4-awq or int4-gptq");
  }
  q.setup.weight_group = g;
}

// What the search could only report as "no plan": a request longer than any sequence it
// answers for, a fixed split the model cannot take (the cluster's range: ClusterFromFlags).
void CheckServeShape(const Model& model, const ServeQuery& q) {
  if (q.setup.input_tokens + q.setup.output_tokens > ModelLimits::kSeqLen) {
    throw InputError("--input-tokens", "prompt and output tokens together are beyond 16M");
  }
  if (q.tp > 0 && model.heads % q.tp != 0) {
    throw InputError("--tp", std::to_string(q.tp) + " does not divide " + model.name + "'s " +
                                 std::to_string(model.heads) + " attention heads");
  }
  if (q.pp > model.layers) {
    throw InputError("--pp", std::to_string(q.pp) + " stages for " + model.name + "'s " +
                                 std::to_string(model.layers) + " layers");
  }
  if (q.ep > 1 && !IsMoe(model)) {
    throw InputError("--ep", "expert parallelism needs a mixture-of-experts model");
  }
  if (q.ep > 1 && model.experts % q.ep != 0) {
    throw InputError("--ep", "must divide the model's " + std::to_string(model.experts) +
                                 " experts, got " + std::to_string(q.ep));
  }
}

}  // namespace

int RunServeCommand(const std::vector<std::string>& args, std::ostream& out) {
  ServeInput in;
  ServeQuery q;
  po::options_description d("planner serve options");
  AddServeOptions(d, in, q);
  ParseOptions(args, d, nullptr);
  if (in.help) {
    out << d;
    return 0;
  }
  if (q.setup.input_tokens == 0) throw InputError("--input-tokens", "is required");
  if (q.setup.output_tokens == 0) throw InputError("--output-tokens", "is required");
  if (in.format != "table" && in.format != "json") {
    throw InputError("--format", "unknown value '" + in.format + "'; expected table or json");
  }
  ApplyWeightFlags(in, q);
  q.kv = ParseKv(in.kv);
  if (in.decode_attention != "grouped" && in.decode_attention != "per-head") {
    throw InputError("--decode-attention", "unknown value '" + in.decode_attention +
                                               "'; expected grouped or per-head");
  }
  q.setup.kv_read_per_query_head = in.decode_attention == "per-head";
  CheckExpertParallel(q);
  q.ttft_target_s = in.ttft_ms / 1e3;
  q.tpot_target_s = in.tpot_ms / 1e3;
  const Catalog catalog = LoadCatalog(in.spec);
  if (in.spec.model.empty()) throw InputError("--model", "is required");
  const Model model = FindModel(catalog, in.spec.model, "--model");
  CheckServeShape(model, q);
  const Cluster cluster = ClusterFromFlags(catalog, in.spec, q.gpus);
  const ServeResult r = SearchServing(model, cluster, q);
  const ServeContext ctx{.model = model, .cluster = cluster, .query = q};
  if (in.format == "json") {
    out << ServeJson(ctx, r);
  } else {
    PrintServeTable(out, ctx, r, in.wide);
  }
  return r.plans.empty() ? 1 : 0;
}

}  // namespace planner
