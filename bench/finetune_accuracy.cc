// Predicts every measured fine-tuning run of ../shared/validation/finetune-serving-runs.jsonl
// through the command line: each run becomes a `planner finetune` command (printed beside its
// result) with every choice fixed from the run's config fields, run here as a user would run it,
// and its JSON answer (peak memory per GPU, tokens/s) is compared with the measurement. Runs the
// planner cannot replay (an architecture it does not model, unstated lengths, a mechanism it has
// no flag for) are listed as skipped with the reason. Exit 1 when a fit verdict is wrong.
//   build/release/finetune_accuracy [FILE]
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "planner/model/files.h"

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

struct Row {
  std::string id, trust, command, skipped;
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

// The run's method, framework, parallelism and numerics as flags.
void AddMethodFlags(const json& r, const json& c, std::vector<std::string>& argv) {
  const std::string fw = Text(c, "framework");
  AddFlag(argv, "--framework", Has(fw, "torchtune") ? "torchtune" : "hf");
  AddFlag(argv, "--method", r.value("method", ""));
  const std::string rank = Text(c, "lora_rank");
  const size_t at = rank.find("rank ");
  if (at != std::string::npos) AddFlag(argv, "--lora-rank", rank.substr(at + 5, rank.find_first_of(",;) ", at + 5) - at - 5));
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
  row.tps_predicted = plan["tokens_per_s"];
  // torchtune prints GiB from torch.cuda ("Peak Memory per GPU (GB)" is GiB: unit_notes).
  row.mem_measured = m.value("peak_mem_active_gib", m.value("peak_mem_gb_per_gpu", 0.0));
  row.tps_measured = m.value("tokens_per_s", 0.0);
  return row;
}

struct Errors {
  double sum = 0, worst = 0;
  int count = 0;
  void Add(double e) {
    sum += std::fabs(e), worst = std::max(worst, std::fabs(e)), ++count;
  }
  void Print(const char* name) const {
    std::printf("  %-22s %2d runs  mean %5.1f%%  max %5.1f%%\n", name, count,
                count ? 100 * sum / count : 0.0, 100 * worst);
  }
};

// Errors of trust A runs ([0]) and of trust B runs ([1]).
void PrintRow(const Row& r, Errors (&mem)[2], Errors (&tps)[2], int& wrong) {
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
  for (std::string line; std::getline(lines, line);) {
    const json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || r.value("kind", "") != "finetune") continue;
    // Trust C rows are LLaMA-Factory's printed estimates, not measurements.
    if (r.value("trust", "") == "C") continue;
    PrintRow(Predict(r), mem, tps, wrong);
  }
  std::printf("\n|predicted / measured - 1|:\n");
  mem[0].Print("trust A peak memory");
  tps[0].Print("trust A tokens/s");
  mem[1].Print("trust B peak memory");
  tps[1].Print("trust B tokens/s");
  std::printf("fit verdicts wrong: %d\n", wrong);
  return wrong == 0 ? 0 : 1;
}
