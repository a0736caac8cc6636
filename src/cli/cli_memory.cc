// `planner memory`, `planner list`, and checks shared by the subcommands.
#include <cmath>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "planner/model/error.h"
#include "planner/cost/memory_model.h"
#include "planner/model/units.h"

namespace planner {
namespace po = boost::program_options;

const char* const kUsage =
    "planner: plan how to parallelise LLM training over a GPU cluster.\n"
    "\n"
    "  planner --model llama2-70b --gpus 2048 --gpu 4090     search and rank plans\n"
    "  planner evaluate --model M --gpu G --gpus N --tp 8 --pp 8 ...   score one plan\n"
    "  planner memory --model M --mode training|finetune|inference [--gpu G]\n"
    "  planner list models|gpus|links [--format json]\n"
    "  planner sweep FILE --out DIR [--shard K/N]            many searches, resumable\n"
    "  planner merge DIR1 DIR2 ... --out DIR                 join a sharded sweep's parts\n"
    "\n"
    "Each command takes --help. Memory is printed in GiB (2^30 bytes), bandwidth in GB/s.\n";

int64_t CheckPlanSizes(const Plan& p, int64_t dp) {
  auto positive = [](int64_t v, const char* flag) {
    if (v < 1) throw InputError(flag, "must be a positive integer, got " + std::to_string(v));
  };
  auto at_most = [](int64_t v, int64_t most, const char* flag) {
    if (v > most) {
      throw InputError(flag, "must be at most " + std::to_string(most) + ", got " +
                                 std::to_string(v));
    }
  };
  for (const auto& [v, flag] : {std::pair<int64_t, const char*>{p.tp, "--tp"},
                                {p.pp, "--pp"}, {p.cp, "--cp"}, {p.ep, "--ep"}}) {
    positive(v, flag);
    at_most(v, kMaxGpus, flag);
  }
  positive(p.micro_batch, "--micro-batch");
  at_most(p.micro_batch, ModelLimits::kGlobalBatch, "--micro-batch");
  positive(p.virtual_stages, "--virtual-stages");
  at_most(p.virtual_stages, ModelLimits::kLayers, "--virtual-stages");
  if (p.zero_stage < 0 || p.zero_stage > 3) {
    throw InputError("--zero", "must be 0, 1, 2 or 3, got " + std::to_string(p.zero_stage));
  }
  if (p.first_stage_layers < 0) throw InputError("--first-stage-layers", "must not be negative");
  if (p.last_stage_layers < 0) throw InputError("--last-stage-layers", "must not be negative");
  if (dp < 0) throw InputError("--dp", "must be a positive integer, got " + std::to_string(dp));
  // Each factor is at most kMaxGpus (10^6), so these products stay far inside int64.
  const int64_t model_parallel = static_cast<int64_t>(p.tp) * p.cp * p.pp;
  if (model_parallel > kMaxGpus) {
    throw InputError("--tp", "tp x cp x pp = " + std::to_string(model_parallel) +
                                 " is more than the largest cluster, " +
                                 std::to_string(kMaxGpus) + " GPUs");
  }
  if (dp > kMaxGpus / model_parallel) {
    throw InputError("--dp", "tp x cp x pp = " + std::to_string(model_parallel) + " times dp " +
                                 std::to_string(dp) + " is more than the largest cluster, " +
                                 std::to_string(kMaxGpus) + " GPUs");
  }
  return model_parallel;
}

void ValidatePlanFlags(const Plan& p, int64_t dp, const Specs& specs) {
  const int64_t model_parallel = CheckPlanSizes(p, dp);
  if (specs.cluster.gpus % model_parallel != 0) {
    throw InputError("--gpus", std::to_string(specs.cluster.gpus) +
                                   " GPUs are not a multiple of tp x cp x pp = " +
                                   std::to_string(model_parallel));
  }
  if (dp > 0 && dp * model_parallel != specs.cluster.gpus) {
    throw InputError("--dp", "tp x cp x pp x dp = " + std::to_string(dp * model_parallel) +
                                 ", not the " + std::to_string(specs.cluster.gpus) + " GPUs");
  }
}

namespace {

double WeightBytes(const std::string& precision) {
  if (precision == "fp32") return 4.0;
  if (precision == "fp16" || precision == "bf16") return 2.0;
  if (precision == "int8" || precision == "fp8") return 1.0;
  if (precision == "int4") return 0.5;
  throw InputError("--precision", "unknown value '" + precision +
                                      "'; expected one of: fp32, fp16, bf16, fp8, int8, int4");
}

}  // namespace

int RunMemory(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  std::string mode = "training";
  std::string recompute = "selective";
  std::string kv_precision = "bf16";
  int64_t batch = 1;
  po::options_description d("planner memory options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o);
  d.add_options()
      ("mode", po::value(&mode), "training (default), finetune (full-parameter), inference")
      ("batch", po::value(&batch), "sequences per micro-batch (training) or in flight (inference)")
      ("recompute", po::value(&recompute), "none, selective (default), full")
      ("kv-precision", po::value(&kv_precision), "KV cache precision when serving (default bf16)");
  ParseOptions(args, d, nullptr);
  if (o.help) {
    out << d;
    return 0;
  }
  if (mode != "training" && mode != "finetune" && mode != "inference") {
    throw InputError("--mode", "unknown value '" + mode +
                                   "'; expected one of: training, finetune, inference");
  }
  if (batch < 1 || batch > ModelLimits::kGlobalBatch) {
    throw InputError("--batch", "must be 1 to " + std::to_string(ModelLimits::kGlobalBatch) +
                                    ", got " + std::to_string(batch));
  }
  const Format format = ParseFormat(o.format, "--format");
  const Catalog catalog = LoadCatalog(in);
  if (in.model.empty()) throw InputError("--model", "is required");
  const Model model = FindModel(catalog, in.model, "--model");
  const int64_t seq = in.seq_len == 0 ? model.seq_len : in.seq_len;
  if (seq < 1 || seq > ModelLimits::kSeqLen) {
    throw InputError("--seq-len", "must be 1 to " + std::to_string(ModelLimits::kSeqLen) +
                                      ", got " + std::to_string(seq));
  }
  const ParamCounts params = CountParameters(model);

  std::vector<std::pair<std::string, double>> parts;
  std::vector<std::string> formulas;
  if (mode == "inference") {
    const double wb = WeightBytes(in.precision);
    const ServingMemory mem = InferenceMemory(model, wb, WeightBytes(kv_precision), batch, seq);
    parts = {{"weights", mem.weights}, {"kv_cache", mem.kv_cache},
             {"activations", mem.activations}, {"total", mem.total()}};
    formulas = {"weights = P x bytes per parameter",
                "kv_cache = 2 x layers x kv_heads x head_dim x bytes x batch x context",
                "activations = one layer's prefill working set 2 x tokens x (2h + q + 2kv + MLP width) + logits",
                "quick rule (formulas.md s.1) = P x 4 / (32 / Q) x 1.2"};
  } else {
    TrainingSetup setup;
    setup.seq_len = seq;
    setup.global_batch = batch;
    setup.precision = ParsePrecision(in.precision, "--precision");
    if (in.grad_precision != "fp32" && in.grad_precision != "16bit") {
      throw InputError("--grad-precision", "unknown value '" + in.grad_precision +
                                               "'; expected one of: fp32, 16bit");
    }
    setup.fp32_grads = in.grad_precision == "fp32";
    setup.optimizer = ParseOptimizer(in.optimizer, "--optimizer");
    setup.flash_attention = in.attention != "standard";
    const Plan plan{.micro_batch = static_cast<int>(batch),
                    .recompute = ParseRecompute(recompute, "--recompute")};
    const MemoryBreakdown mem = TrainingMemory(model, plan, setup);
    parts = {{"weights", mem.weights},         {"gradients", mem.gradients},
             {"optimizer", mem.optimizer},     {"activations", mem.activations},
             {"overhead", mem.overhead},       {"total", mem.total()}};
    const StateBytes b = StateBytesPerParam(setup);
    char line[256];
    std::snprintf(line, sizeof line, "weights = P x %.0f bytes; gradients = P x %.0f; "
                  "optimizer = P x %.0f", b.weights, b.gradients, b.optimizer);
    formulas = {line,
                "activations = layers x per-layer bytes (Korthikanti et al. 2022 Table 2) + "
                "output layer 4sbh(1 + V/h)",
                "overhead = 0.5 GiB communication buffers + 10% of activations"};
  }
  const double total = parts.back().second;
  nlohmann::ordered_json j;
  j["model"] = model.name;
  j["mode"] = mode;
  j["parameters"] = params.total;
  j["active_parameters"] = params.active;
  nlohmann::ordered_json mem_json;
  for (const auto& [name, bytes] : parts) mem_json[name] = bytes;
  j["memory_bytes"] = mem_json;
  if (mode == "inference") {
    const int bits = static_cast<int>(std::lround(WeightBytes(in.precision) * 8));
    j["quick_rule_bytes"] = QuickServingBytes(params.total, bits);
  }
  int64_t gpus_needed = 0;
  Gpu gpu;
  if (!in.gpu.empty()) {
    gpu = FindGpu(catalog, in.gpu, "--gpu");
    gpus_needed = GpusNeeded(total, gpu.usable_bytes());
    j["gpu"] = gpu.name;
    j["capacity_bytes"] = gpu.usable_bytes();
    j["gpus_needed"] = gpus_needed;
  }
  if (format == Format::kJson) {
    out << j.dump(2) << "\n";
    return 0;
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s, %s: %.4g parameters (%.4g active), sequence %lld, batch %lld\n",
                model.name.c_str(), mode.c_str(), params.total, params.active,
                static_cast<long long>(seq), static_cast<long long>(batch));
  out << buf;
  for (const auto& [name, bytes] : parts) {
    std::snprintf(buf, sizeof buf, "  %-12s %10.2f GiB  (%.4g bytes)\n", name.c_str(),
                  bytes / kGiB, bytes);
    out << buf;
  }
  if (j.contains("quick_rule_bytes")) {
    std::snprintf(buf, sizeof buf, "  quick rule   %10.2f GiB  (x1.2 of weights, formulas.md s.1)\n",
                  j["quick_rule_bytes"].get<double>() / kGiB);
    out << buf;
  }
  if (gpus_needed > 0) {
    std::snprintf(buf, sizeof buf, "At least %lld x %s (%.2f GiB usable each), before any "
                  "parallelism overhead.\n", static_cast<long long>(gpus_needed),
                  gpu.name.c_str(), gpu.usable_bytes() / kGiB);
    out << buf;
  }
  if (o.explain) {
    for (const std::string& f : formulas) out << "  " << f << "\n";
  }
  return 0;
}

int RunList(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  std::string what;
  po::options_description d("planner list options");
  d.add_options()("what", po::value(&what), "models, gpus or links")(
      "catalog", po::value(&in.catalogs)->composing(), "JSON file adding entries");
  AddOutputOptions(d, o);
  po::positional_options_description positional;
  positional.add("what", 1);
  ParseOptions(args, d, &positional);
  const Format format = ParseFormat(o.format, "--format");
  const Catalog c = LoadCatalog(in);
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  std::vector<std::string> lines;
  char buf[256];
  if (what == "models") {
    for (const Model& m : c.models) {
      const ParamCounts p = CountParameters(m);
      j.push_back({{"name", m.name}, {"parameters", p.total}, {"active_parameters", p.active},
                   {"layers", m.layers}, {"hidden", m.hidden}, {"heads", m.heads},
                   {"kv_heads", m.kv_heads}, {"ffn_hidden", m.ffn_hidden}, {"vocab", m.vocab},
                   {"seq_len", m.seq_len}, {"mlp", m.mlp == MlpKind::kSwiglu ? "swiglu" : "gelu"},
                   {"tied_embeddings", m.tied_embeddings}, {"experts", m.experts},
                   {"experts_per_token", m.experts_per_token}, {"source", m.source}});
      std::snprintf(buf, sizeof buf, "%-16s %8.2fB  L=%-4lld h=%-6lld heads=%-4lld kv=%-4lld ffn=%-6lld vocab=%-7lld seq=%lld%s",
                    m.name.c_str(), p.total / 1e9, static_cast<long long>(m.layers),
                    static_cast<long long>(m.hidden), static_cast<long long>(m.heads),
                    static_cast<long long>(m.kv_heads), static_cast<long long>(m.ffn_hidden),
                    static_cast<long long>(m.vocab), static_cast<long long>(m.seq_len),
                    IsMoe(m) ? (" experts=" + std::to_string(m.experts) + " top-" +
                                std::to_string(m.experts_per_token)).c_str() : "");
      lines.push_back(buf);
    }
  } else if (what == "gpus") {
    for (const Gpu& g : c.gpus) {
      j.push_back({{"name", g.name}, {"aliases", g.aliases}, {"hbm_bytes", g.hbm_bytes},
                   {"usable_bytes", g.usable_bytes()}, {"bf16_flops", g.bf16_flops},
                   {"fp8_flops", g.fp8_flops}, {"hbm_bytes_per_s", g.hbm_bytes_per_s},
                   {"intra_link", g.intra_link}, {"inter_link", g.inter_link},
                   {"source", g.source}});
      std::snprintf(buf, sizeof buf, "%-10s %6.1f GiB (%.1f usable)  bf16 %6.1f TFLOP/s  fp8 %6.1f  HBM %6.0f GB/s  %s / %s",
                    g.name.c_str(), g.hbm_bytes / kGiB, g.usable_bytes() / kGiB,
                    g.bf16_flops / kTera, g.fp8_flops / kTera, g.hbm_bytes_per_s / kGB,
                    g.intra_link.c_str(), g.inter_link.c_str());
      lines.push_back(buf);
    }
  } else if (what == "links") {
    for (const Link& l : c.links) {
      j.push_back({{"name", l.name}, {"one_way_bytes_per_s", l.one_way_bytes_per_s},
                   {"two_way_bytes_per_s", l.two_way_bytes_per_s}, {"latency_s", l.latency_s},
                   {"source", l.source}});
      std::snprintf(buf, sizeof buf, "%-10s %7.1f GB/s one way  %7.1f GB/s both ways  %5.1f us",
                    l.name.c_str(), l.one_way_bytes_per_s / kGB, l.two_way_bytes_per_s / kGB,
                    l.latency_s * 1e6);
      lines.push_back(buf);
    }
  } else {
    throw InputError("list", "expected models, gpus or links, got '" + what + "'");
  }
  if (format == Format::kJson) {
    out << j.dump(2) << "\n";
  } else {
    for (const std::string& l : lines) out << l << "\n";
  }
  return 0;
}

}  // namespace planner
