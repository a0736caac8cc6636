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
// The translation of a row into flags is in finetune_accuracy_flags.cc.
//   build/release/finetune_accuracy [FILE]
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "finetune_accuracy_flags.h"
#include "planner/cli/cli.h"
#include "planner/cost/finetune.h"
#include "planner/input/catalog.h"
#include "planner/model/files.h"
#include "planner/model/text.h"

namespace {

using nlohmann::json;

using namespace finetune_accuracy;

struct Row {
  std::string id, trust, command, skipped, inconsistent;
  double mem_predicted = 0, mem_measured = 0, tps_predicted = 0, tps_measured = 0;
  bool oom_measured = false, fits_predicted = false, verdict_only = false;
};

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
      .offload_optimizer = plan["offload_optimizer"].get<bool>(),
      .offload_params = plan["offload_params"].get<bool>(),
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
  row.mem_measured = MeasuredMemory(m) * BytesPerMemoryUnit(r) / 1073741824.0;
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
