// `planner memory`, `planner list`, and checks shared by the subcommands.
#include <cmath>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "planner/input/calibration_file.h"
#include "planner/cost/framework.h"
#include "planner/model/error.h"
#include "planner/search/memory_report.h"
#include "planner/model/units.h"

namespace planner {
namespace po = boost::program_options;

const char* const kVersion = PLANNER_VERSION;

const char* const kUsage =
    "planner: plan how to train, fine-tune and serve LLMs on a GPU cluster.\n"
    "\n"
    "  planner --model llama2-70b --gpus 2048 --gpu 4090\n"
    "      search and rank pre-training plans\n"
    "  planner evaluate --model M --gpu G --gpus N --tp 8 --pp 8 ...\n"
    "      score one plan\n"
    "  planner memory --model M --mode training|finetune|inference [--gpu G]\n"
    "      memory per GPU and the GPUs it needs\n"
    "  planner serve --model M --gpu G --input-tokens I --output-tokens O\n"
    "      serving plans and engine commands\n"
    "  planner finetune --model M --gpu G [--gpus N] --method lora|qlora|full|...\n"
    "      fine-tuning plans, memory, days\n"
    "  planner list models|gpus|links [--format json]\n"
    "  planner sweep FILE --out DIR [--shard K/N]\n"
    "      many searches, resumable\n"
    "  planner calibrate RUNS.jsonl --out calib.json\n"
    "      fit constants to measured runs\n"
    "  planner merge DIR1 DIR2 ... --out DIR\n"
    "      join a sharded sweep's parts\n"
    "  planner help COMMAND | planner --version\n"
    "\n"
    "Each command takes --help. Memory is printed in GiB (2^30 bytes), bandwidth in\n"
    "GB/s. search, evaluate, sweep and merge take --report FILE.html: their results\n"
    "as charts in one page that opens offline.\n";

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

namespace {

// How the engines store weights of the given precision (int4: AWQ/GPTQ groups of 128).
WeightFormat ServingWeights(const std::string& precision) {
  if (precision == "fp16" || precision == "bf16") return WeightFormat::kBf16;
  if (precision == "fp8") return WeightFormat::kFp8;
  if (precision == "int8") return WeightFormat::kInt8;
  if (precision == "int4") return WeightFormat::kInt4Awq;
  throw InputError("--precision", "'" + precision +
                                      "' weights are not served; expected one of: fp16, bf16, "
                                      "fp8, int8, int4");
}

Precision ServingKv(const std::string& precision) {
  if (precision == "fp16" || precision == "bf16") return Precision::kBf16;
  if (precision == "fp8") return Precision::kFp8;
  throw InputError("--kv-precision",
                   "unknown value '" + precision + "'; expected one of: fp16, bf16, fp8");
}

MemoryMode ParseMemoryMode(const std::string& mode) {
  if (mode == "training") return MemoryMode::kTraining;
  if (mode == "finetune") return MemoryMode::kFinetune;
  if (mode == "inference") return MemoryMode::kInference;
  throw InputError("--mode",
                   "unknown value '" + mode + "'; expected one of: training, finetune, inference");
}

// The training numerics a memory question states, every flag checked as search and evaluate
// check it (framework rules included); without --gpu, against no GPU's limits.
TrainingSetup MemorySetup(const SpecInput& in, const Model& model, const std::optional<Gpu>& gpu) {
  const Gpu any{.name = "the GPU", .fp8_flops = 1.0};
  return BuildTrainingSetup(in, model, gpu ? *gpu : any);
}

// `planner memory`'s own flags, as typed.
struct MemoryFlags {
  std::string mode = "training";
  std::string recompute = "selective";
  int recompute_layers = 0;
  int offload_layers = 0;
  std::string kv_precision = "bf16";
  int64_t batch = 1;
  double memory_fraction = 0.9;
};

void AddMemoryOptions(po::options_description& d, MemoryFlags& f) {
  d.add_options()
      ("mode", po::value(&f.mode), "training (default), finetune (planner finetune's flags), inference")
      ("batch", po::value(&f.batch), "sequences per micro-batch (training) or in flight (inference)")
      ("recompute", po::value(&f.recompute), "none, selective (default), full")
      ("recompute-layers", PositiveValue(&f.recompute_layers, "--recompute-layers"),
       "with --recompute full: recompute only the first N layers (Megatron's block method)")
      ("offload-activations", PositiveValue(&f.offload_layers, "--offload-activations"),
       "with --recompute none: the first N layers' activations in host memory (Megatron-core)")
      ("kv-precision", po::value(&f.kv_precision), "KV cache precision when serving: bf16 (default) or fp8")
      ("memory-fraction", BoundedValue(&f.memory_fraction, 1.0, "--memory-fraction"),
       "inference: share of each GPU the engine takes (default 0.9)");
}

// The question the flags ask of `model`, checked.
MemoryQuery MemoryQueryOf(const SpecInput& in, const MemoryFlags& f, MemoryMode mode,
                          const Model& model, const std::optional<Gpu>& gpu) {
  MemoryQuery q{.mode = mode, .batch = f.batch, .gpu = gpu};
  q.seq_len = in.seq_len == 0 ? model.seq_len : in.seq_len;
  if (q.seq_len < 1 || q.seq_len > ModelLimits::kSeqLen) {
    throw InputError("--seq-len", "must be 1 to " + std::to_string(ModelLimits::kSeqLen) +
                                      ", got " + std::to_string(q.seq_len));
  }
  if (q.mode == MemoryMode::kInference) {
    q.weight_bytes = WeightBytes(in.precision);
    q.weights = ServingWeights(in.precision);
    q.kv = ServingKv(f.kv_precision);
    q.memory_fraction = f.memory_fraction;
    return q;
  }
  q.setup = MemorySetup(in, model, gpu);
  q.recompute = ParseRecompute(f.recompute, "--recompute");
  q.recompute_layers = f.recompute_layers;
  q.offload_activation_layers = f.offload_layers;
  const Plan plan{.recompute = q.recompute, .recompute_layers = f.recompute_layers,
                  .offload_activation_layers = f.offload_layers};
  CheckRecomputeLayers(plan, model, q.setup.framework);
  CheckActivationOffload(plan, model, q.setup);
  return q;
}

}  // namespace

int RunMemory(const std::vector<std::string>& args, std::ostream& out) {
  if (IsFinetuneMemory(args)) return RunFinetuneMemory(args, out);
  SpecInput in;
  OutputInput o;
  MemoryFlags f;
  po::options_description d("planner memory options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o, {Format::kTable, Format::kJson});
  AddMemoryOptions(d, f);
  ParseOptions(args, d, nullptr);
  if (o.help) {
    out << d;
    return 0;
  }
  const MemoryMode mode = ParseMemoryMode(f.mode);
  if (!in.host_memory.empty()) {
    // One unsplit model's host bytes say nothing about a node's; plans are checked against it.
    throw InputError("--host-memory", "is a limit on plans: give it to evaluate or search");
  }
  if (f.batch < 1 || f.batch > ModelLimits::kGlobalBatch) {
    throw InputError("--batch", "must be 1 to " + std::to_string(ModelLimits::kGlobalBatch) +
                                    ", got " + std::to_string(f.batch));
  }
  const Format format = CheckedFormat(o.format, {Format::kTable, Format::kJson});
  const Catalog catalog = LoadCatalog(in);
  if (in.model.empty()) throw InputError("--model", "is required");
  const Model model = FindModel(catalog, in.model, "--model");
  std::optional<Gpu> gpu;
  if (!in.gpu.empty()) gpu = FindGpu(catalog, in.gpu, "--gpu");
  const MemoryQuery q = MemoryQueryOf(in, f, mode, model, gpu);
  // Memory does not depend on the efficiency constants; a bad file is still an error.
  if (!in.calibration.empty()) (void)LoadCalibrationFile(in.calibration);
  const MemoryReport report = ComputeMemoryReport(model, q);
  if (format == Format::kJson) {
    out << MemoryReportJson(report);
  } else {
    PrintMemoryReport(out, report, o.explain);
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
  AddOutputOptions(d, o, {Format::kTable, Format::kJson});
  po::positional_options_description positional;
  positional.add("what", 1);
  ParseOptions(args, d, &positional);
  if (o.help) {
    out << d;
    return 0;
  }
  const Format format = CheckedFormat(o.format, {Format::kTable, Format::kJson});
  const Catalog c = LoadCatalog(in);
  CatalogPart part = CatalogPart::kModels;
  if (what == "gpus") {
    part = CatalogPart::kGpus;
  } else if (what == "links") {
    part = CatalogPart::kLinks;
  } else if (what != "models") {
    throw InputError("list", "expected models, gpus or links, got '" + what + "'");
  }
  PrintCatalog(out, c, part, format);
  return 0;
}

}  // namespace planner
