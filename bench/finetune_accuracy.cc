// Predicts every measured fine-tuning run of ../shared/validation/finetune-serving-runs.jsonl
// through the command line: each run becomes a `planner finetune` command (printed beside its
// result) with every choice fixed from the run's config fields, run here as a user would run it,
// and its JSON answer (peak memory per GPU, tokens/s) is compared with the measurement. Runs the
// planner cannot replay (an architecture it does not model, unstated lengths, a mechanism it has
// no flag for) are listed as skipped with the reason. torchtune's README rows take their
// adapter from the recipe config at the README's commit (kRecipes) and compare tokens/s per GPU,
// as the recipes log them. A row whose measurement breaks a physical bound of its stated setting
// (Inconsistency: FLOP rate above the GPU's peak, memory below the floor) is printed with the
// bound and left out of the means. Exit 1 when a fit verdict is wrong.
//   build/release/finetune_accuracy [FILE]
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "planner/cost/finetune.h"
#include "planner/input/catalog.h"
#include "planner/model/files.h"
#include "planner/model/text.h"

namespace {

using nlohmann::json;

// The model each source names, as the planner knows it (a catalog name or a model file).
const std::vector<std::pair<std::string, std::string>> kModels = {
    {"Llama 3.2 3B", PLANNER_SOURCE_DIR "/bench/models/llama3.2-3b.json"},
    {"Llama2-7B", "llama2-7b"},
    {"Llama2-70B", "llama2-70b"},
    {"bloomz-7b1", PLANNER_SOURCE_DIR "/bench/models/bloomz-7b1.json"},
};

bool Has(const std::string& text, const char* word) { return text.find(word) != std::string::npos; }

std::string Text(const json& c, const char* key) {
  if (!c.contains(key)) return "";
  return c[key].is_string() ? c[key].get<std::string>() : c[key].dump();
}

std::string ModelFor(const std::string& name) {
  for (const auto& [known, model] : kModels) {
    if (Has(name, known.c_str())) return model;
  }
  return "";
}

// torchtune's rows name an A100 without its memory; the 60 GiB a run of that table measured
// does not fit a 40 GB card, so the table's A100 is the 80 GB one.
std::string GpuFor(const std::string& text) {
  if (Has(text, "A100")) return "a100-80gb";
  if (Has(text, "4090")) return "rtx-4090";
  return "";
}

// The adapters torchtune's tables ran with: their README names only the recipe, so each row
// takes the rank and targets of the recipe config its model, method and device count select at
// the README's commit (recipes/configs/... at that commit, read from the repository).
struct Recipe {
  const char* commit;  // the source's commit, as the row's "source" names it
  const char* model;
  const char* method;
  bool distributed;
  const char* config;
  const char* rank;
  const char* targets;
};
const Recipe kRecipes[] = {
    {"0217d44c", "Llama2-7B", "qlora", false, "llama2/7B_qlora_single_device.yaml", "8",
     "q+k+v+o+mlp"},
    {"0217d44c", "Llama2-7B", "lora", false, "llama2/7B_lora_single_device.yaml", "8", "q+v"},
    {"0217d44c", "Llama2-7B", "lora", true, "llama2/7B_lora.yaml", "8", "q+v"},
    {"0217d44c", "Llama2-70B", "lora", true, "llama2/70B_lora.yaml", "16", "q+k+v"},
    {"bd2a0fc7", "Llama 3.2 3B", "lora", false, "llama3_2/3B_lora_single_device.yaml", "64",
     "q+v+o+mlp"},
    {"bd2a0fc7", "Llama 3.2 3B", "qlora", false, "llama3_2/3B_qlora_single_device.yaml", "64",
     "q+v+o+mlp"},
};

// Bytes per printed unit of a table's peak memory, by the commit its source names: torchtune's
// get_memory_stats divided by 1e9 at 0217d44c (torchtune/utils/memory.py:198-200), so that
// table's "Peak Memory per GPU (GB)" is decimal GB, not GiB as the row's unit_notes guess; later
// releases divide by 1024**3 (_BYTES_IN_GIB, torchtune/training/memory.py at bd2a0fc7) and
// print GiB. Rows of other sources state GiB in the key's name.
double BytesPerMemoryUnit(const json& r) {
  const std::string source = r.value("source", "");
  if (Has(source, "pytorch/torchtune") && Has(source, "0217d44c")) return 1e9;
  return 1073741824.0;
}

struct Row {
  std::string id, trust, command, skipped, inconsistent;
  double mem_predicted = 0, mem_measured = 0, tps_predicted = 0, tps_measured = 0;
  bool oom_measured = false, fits_predicted = false, verdict_only = false;
};

// What the run states that the planner cannot replay, or "".
std::string Unreplayable(const json& r, const json& c) {
  const std::string model = r.value("model", "");
  if (Has(model, "T0_3B") || Has(model, "mt0")) return "encoder-decoder (T5) model: not modelled";
  if (ModelFor(model).empty()) return "model not in the planner";
  if (GpuFor(Text(c, "gpus")).empty()) return "GPU not stated";
  if (c.contains("packed") && c["packed"] == false) {
    return "unpacked: sequence lengths are the dataset's, not stated";
  }
  if (Has(Text(c, "optimizer"), "PagedAdamW") && !Has(Text(c, "optimizer"), "8bit")) {
    return "32-bit paged AdamW: bitsandbytes pages states out on demand, filling what is free";
  }
  return "";
}

void AddFlag(std::vector<std::string>& argv, const char* flag, const std::string& value) {
  argv.push_back(flag);
  if (!value.empty()) argv.push_back(value);
}

const Recipe* RecipeFor(const json& r, const json& c) {
  for (const Recipe& k : kRecipes) {
    if (Has(r.value("source", ""), k.commit) && r.value("model", "") == k.model &&
        r.value("method", "") == k.method && (c.value("num_gpus", 1) > 1) == k.distributed) {
      return &k;
    }
  }
  return nullptr;
}

// The adapter as the run states it: its recipe's config, or a "rank N" in its text.
void AddAdapterFlags(const json& r, const json& c, std::vector<std::string>& argv) {
  if (const Recipe* k = RecipeFor(r, c)) {
    AddFlag(argv, "--lora-rank", k->rank);
    AddFlag(argv, "--lora-targets", k->targets);
    return;
  }
  const std::string rank = Text(c, "lora_rank");
  const size_t at = rank.find("rank ");
  if (at == std::string::npos) return;
  AddFlag(argv, "--lora-rank", rank.substr(at + 5, rank.find_first_of(",;) ", at + 5) - at - 5));
}

// The run's method, framework, parallelism and numerics as flags.
void AddMethodFlags(const json& r, const json& c, std::vector<std::string>& argv) {
  const std::string fw = Text(c, "framework");
  AddFlag(argv, "--framework", Has(fw, "torchtune") ? "torchtune" : "hf");
  AddFlag(argv, "--method", r.value("method", ""));
  AddAdapterFlags(r, c, argv);
  const std::string par = Text(c, "parallelism");
  if (Has(par, "FSDP")) {
    AddFlag(argv, "--sharding", "fsdp");
    AddFlag(argv, "--offload", "none");
  } else if (Has(par, "ZeRO-3")) {
    AddFlag(argv, "--sharding", "zero-3");
    AddFlag(argv, "--offload", Has(par, "offload") ? "all" : "none");
  } else {
    AddFlag(argv, "--sharding", "none");
    AddFlag(argv, "--offload", "none");
  }
  const std::string ac = Text(c, "activation_checkpointing");
  AddFlag(argv, "--checkpointing", Has(ac, "true") || Has(ac, "True") ? "full" : "none");
  if (c.value("compile", false) || c.value("torch_compile", false)) AddFlag(argv, "--compile", "");
  if (c.value("chunked_ce", false)) AddFlag(argv, "--chunked-loss", "");
  // torchtune 0.1's recipes shift the logits with a contiguous fp32 copy that the loop's variable
  // holds through backward (recipes/*_distributed.py and *_single_device.py at 0217d44c).
  if (Has(fw, "v0.1")) AddFlag(argv, "--logits-copy", "");
  if (c.value("activation_offloading", false)) AddFlag(argv, "--offload-activations", "");
  if (c.value("optimizer_in_bwd", false)) AddFlag(argv, "--optimizer-in-backward", "");
  if (Has(Text(c, "optimizer"), "8bit")) AddFlag(argv, "--optimizer", "adamw-8bit");
}

// The batch: stated per GPU (torchtune's batch_size); unstated (PEFT's table), the verdict is
// judged at the least a run can use, one sequence of 128 tokens.
bool AddBatchFlags(const json& c, std::vector<std::string>& argv) {
  const int gpus = c.value("num_gpus", 1);
  AddFlag(argv, "--gpus", std::to_string(gpus));
  if (!c["batch_size"].is_number() || !c["seq_len"].is_number()) {
    AddFlag(argv, "--global-batch", "1");
    AddFlag(argv, "--seq-len", "128");
    return false;
  }
  const int batch = c["batch_size"].get<int>();
  AddFlag(argv, "--micro-batch", std::to_string(batch));
  AddFlag(argv, "--global-batch", std::to_string(batch * gpus));
  AddFlag(argv, "--seq-len", std::to_string(c["seq_len"].get<int>()));
  return true;
}

// A name the planner prints back to its enum value (values 0..last).
template <typename E>
E Named(const std::string& name, E last, const char* (*names)(E)) {
  for (int i = 0; i <= static_cast<int>(last); ++i) {
    if (name == names(static_cast<E>(i))) return static_cast<E>(i);
  }
  return static_cast<E>(0);
}

// Whether the measurement is physically possible at the stated setting (the plan the planner
// read from the row), by planner::FinetuneFloorOf's bounds:
//   tokens/s per GPU x (4 P frozen base | 6 P trained; P = matmul parameters) <= peak bf16 FLOP/s
//   peak memory per GPU >= base weights at their precision / sharding GPUs
//                          + layers x micro-batch x seq x hidden x 2 B (unless offloaded).
// "" when both hold, else the bound broken, with its numbers.
std::string Inconsistency(const json& r, const json& plan, double tps_per_gpu, double mem_gib) {
  using namespace planner;
  const Catalog catalog = BuiltinCatalog();
  const Model model = FindModel(catalog, ModelFor(r["model"]), "model");
  const Gpu gpu = FindGpu(catalog, GpuFor(Text(r["config"], "gpus")), "gpu");
  FinetunePlan p{
      .method =
          Named(plan["method"].get<std::string>(), FinetuneMethod::kGalore, FinetuneMethodName),
      .gpus = plan["gpus"].get<int>(),
      .tp = plan["tp"].get<int>(),
      .dp = plan["dp"].get<int>(),
      .sharding = Named(plan["sharding"].get<std::string>(), Sharding::kFsdpGradOp, ShardingName),
      .offload_activations = plan["offload_activations"].get<bool>(),
      .micro_batch = plan["micro_batch"].get<int>()};
  p.base_weights =
      Named(plan["base_weights"].get<std::string>(), BaseWeights::kNf4, BaseWeightsName);
  const FinetuneSetup s{.seq_len = r["config"]["seq_len"].get<int64_t>()};
  const FinetuneFloor f = FinetuneFloorOf(model, p, s);
  const double flops = tps_per_gpu * f.flops_per_token;
  std::string out;
  char text[256];
  if (flops > gpu.bf16_flops) {
    std::snprintf(text, sizeof text,
                  "%.0f tok/s/GPU x %.3g FLOP/token = %.3g FLOP/s > %.3g peak of %s", tps_per_gpu,
                  f.flops_per_token, flops, gpu.bf16_flops, gpu.name.c_str());
    out += text;
  }
  constexpr double kGiB = 1073741824.0;
  if (mem_gib > 0 && mem_gib * kGiB < f.memory_bytes) {
    std::snprintf(text, sizeof text,
                  "floor %.1f GiB weights + %.1f GiB layer inputs = %.1f > %.1f GiB",
                  f.weights_bytes / kGiB, f.inputs_bytes / kGiB, f.memory_bytes / kGiB, mem_gib);
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out;
}

Row Predict(const json& r) {
  Row row{.id = r["id"], .trust = r["trust"]};
  const json& c = r["config"];
  const json& m = r["measured"];
  row.skipped = Unreplayable(r, c);
  if (!row.skipped.empty()) return row;
  std::vector<std::string> argv = {"finetune", "--model", ModelFor(r["model"]), "--gpu",
                                   GpuFor(Text(c, "gpus"))};
  AddMethodFlags(r, c, argv);
  row.verdict_only = !AddBatchFlags(c, argv);
  argv.insert(argv.end(), {"--format", "json"});
  for (const std::string& a : argv) row.command += (row.command.empty() ? "planner " : " ") + a;
  std::ostringstream out, err;
  const int rc = planner::RunCli(argv, out, err);
  row.oom_measured = m.value("oom", false);
  const json answer = json::parse(out.str(), nullptr, false);
  if (rc == 2 || answer.is_discarded()) return row.skipped = "planner error: " + err.str(), row;
  row.fits_predicted = !answer["plans"].empty();
  if (!row.fits_predicted || row.verdict_only) return row;
  const json& plan = answer["plans"][0];
  row.mem_predicted = plan["memory_bytes_per_gpu"]["peak"].get<double>() / 1073741824.0;
  // torchtune's recipes log rank 0's input_ids.numel() over its step time
  // (recipes/lora_finetune_distributed.py and full_finetune_distributed.py, "tokens_per_second"):
  // a rate per GPU, so the job's predicted rate is divided by the GPUs. Other sources state the
  // job's rate.
  const bool per_gpu = Has(Text(c, "framework"), "torchtune");
  const int gpus = c.value("num_gpus", 1);
  row.tps_predicted = plan["tokens_per_s"].get<double>() / (per_gpu ? gpus : 1);
  // In GiB, from the unit the source's code printed (BytesPerMemoryUnit).
  row.mem_measured = m.value("peak_mem_active_gib", m.value("peak_mem_gb_per_gpu", 0.0)) *
                     BytesPerMemoryUnit(r) / 1073741824.0;
  row.tps_measured = m.value("tokens_per_s", 0.0);
  row.inconsistent =
      Inconsistency(r, plan, row.tps_measured / (per_gpu ? 1 : gpus), row.mem_measured);
  return row;
}

struct Errors {
  double sum = 0, worst = 0;
  int count = 0;
  void Add(double e) {
    sum += std::fabs(e), worst = std::max(worst, std::fabs(e)), ++count;
  }
  Errors operator+(const Errors& o) const {
    return {sum + o.sum, std::max(worst, o.worst), count + o.count};
  }
  void Print(const char* name) const {
    std::printf("  %-22s %2d runs  mean %5.1f%%  max %5.1f%%\n", name, count,
                count ? 100 * sum / count : 0.0, 100 * worst);
  }
};

// Errors of trust A runs ([0]) and of trust B runs ([1]).
void PrintRow(const Row& r, Errors (&mem)[2], Errors (&tps)[2], int& wrong,
              std::vector<std::string>& inconsistent) {
  if (!r.skipped.empty()) {
    std::printf("%-7s %-2s skipped: %s\n", r.id.c_str(), r.trust.c_str(), r.skipped.c_str());
    return;
  }
  const bool right = r.fits_predicted != r.oom_measured;
  if (!right) ++wrong;
  const char* verdict = r.fits_predicted ? "fits" : "OOM";
  if (r.verdict_only || !r.fits_predicted) {
    std::printf("%-7s %-2s %-4s (measured %s%s)  %s\n", r.id.c_str(), r.trust.c_str(), verdict,
                r.oom_measured ? "OOM" : "fits", right ? "" : ", WRONG", r.command.c_str());
    return;
  }
  if (!r.inconsistent.empty()) {
    std::printf("%-7s %-2s %-4s inconsistent with its stated setting: %s\n        %s\n",
                r.id.c_str(), r.trust.c_str(), verdict, r.inconsistent.c_str(), r.command.c_str());
    inconsistent.push_back(r.id);
    return;
  }
  const double em = r.mem_predicted / r.mem_measured - 1.0;
  std::printf("%-7s %-2s %-4s %6.1f %6.1f %+6.1f%%", r.id.c_str(), r.trust.c_str(), verdict,
              r.mem_predicted, r.mem_measured, 100 * em);
  const int k = r.trust == "A" ? 0 : 1;
  mem[k].Add(em);
  if (r.tps_measured > 0) {
    const double et = r.tps_predicted / r.tps_measured - 1.0;
    std::printf(" %7.0f %7.0f %+6.1f%%", r.tps_predicted, r.tps_measured, 100 * et);
    tps[k].Add(et);
  }
  std::printf("\n        %s\n", r.command.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1] : PLANNER_SHARED_DIR "/validation/finetune-serving-runs.jsonl";
  std::istringstream lines(planner::ReadTextFile(path, path, int64_t{1} << 30));
  std::printf("%-7s %-2s %-4s %6s %6s %7s %7s %7s %7s\n", "run", "tr", "fit", "GiB", "meas",
              "error", "tok/s", "meas", "error");
  Errors mem[2], tps[2];
  int wrong = 0;
  std::vector<std::string> inconsistent;
  for (std::string line; std::getline(lines, line);) {
    const json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || r.value("kind", "") != "finetune") continue;
    // Trust C rows are LLaMA-Factory's printed estimates, not measurements.
    if (r.value("trust", "") == "C") continue;
    PrintRow(Predict(r), mem, tps, wrong, inconsistent);
  }
  std::printf("\n|predicted / measured - 1|:\n");
  mem[0].Print("trust A peak memory");
  tps[0].Print("trust A tokens/s");
  mem[1].Print("trust B peak memory");
  tps[1].Print("trust B tokens/s");
  (mem[0] + mem[1]).Print("trust A+B peak memory");
  (tps[0] + tps[1]).Print("trust A+B tokens/s");
  std::printf("fit verdicts wrong: %d\n", wrong);
  std::printf("left out, inconsistent with their stated setting: %zu (%s)\n", inconsistent.size(),
              planner::Join(inconsistent, ", ").c_str());
  std::printf(
      "  bounds: tok/s per GPU x (4 P frozen base | 6 P trained) <= the GPU's peak bf16 FLOP/s;\n"
      "  peak GiB >= base weights / sharding GPUs + layers x batch x seq x hidden x 2 B.\n"
      "  tok/s: torchtune's are per GPU (rank 0's tokens / step time), compared with the\n"
      "  predicted job rate / GPUs; adapters: the recipe config at the README's commit.\n");
  return wrong == 0 ? 0 : 1;
}
