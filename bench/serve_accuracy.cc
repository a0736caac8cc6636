// Predicts every measured serving run of ../shared/validation/finetune-serving-runs.jsonl through
// the command line: each run becomes a `planner serve` command (printed beside its result), run
// here exactly as a user would run it, and its JSON answer is compared with the measurement.
//   build/release/serve_accuracy [FILE]
// torchao's quantized runs (batch 1, weight and peak memory) follow in their own table.
// The run's fields map to flags one to one: GPU type, GPU count, tp, pp, batch (concurrency),
// input and output lengths, weight precision and KV precision. Its model name maps to a catalog
// name or a model file of bench/models/ by the table below; runs whose lengths or model the
// source does not state are listed as skipped, with the reason.
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "planner/model/files.h"
#include "serve_accuracy_models.h"
#include "serve_accuracy_torchao.h"

namespace bench {

// The model each source names, as the planner knows it.
static const std::vector<std::pair<std::string, std::string>> kModels = {
    {"GPT-J 6B", PLANNER_SOURCE_DIR "/bench/models/gpt-j-6b.json"},
    {"LLaMA 7B", "llama2-7b"},
    {"LLaMA 70B", "llama2-70b"},
    {"Falcon 180B", PLANNER_SOURCE_DIR "/bench/models/falcon-180b.json"},
    {"Llama-2-7b", "llama2-7b"},
    {"Meta-Llama-3-8B", "llama3-8b"},
};

std::string ModelFor(const std::string& text) {
  for (const auto& [name, model] : kModels) {
    if (text.find(name) != std::string::npos) return model;
  }
  return "";
}

}  // namespace bench

namespace {

using bench::ModelFor;
using nlohmann::json;

std::string GpuFor(const std::string& text) {
  if (text.find("H100") != std::string::npos) return "h100-sxm";
  if (text.find("A100") != std::string::npos) return "a100-80gb";
  if (text.find("L40S") != std::string::npos) return "l40s";
  return "";
}

// TensorRT-LLM's FP8 rows quantize weights and the KV cache (the page's build commands).
void AddPrecision(const std::string& text, std::vector<std::string>& argv) {
  if (text.rfind("FP8", 0) == 0) argv.insert(argv.end(), {"--weights", "fp8", "--kv-cache", "fp8"});
}

// TensorRT-LLM before 0.8 had no XQA kernel: its masked MHA reads the KV cache once per query
// head (the engine's version is stated in each run's "framework").
void AddDecodeAttention(const std::string& framework, std::vector<std::string>& argv) {
  const std::string prefix = "TensorRT-LLM v0.";
  const size_t at = framework.find(prefix);
  if (at == std::string::npos) return;
  const int minor = std::atoi(framework.c_str() + at + prefix.size());
  if (minor < 8) argv.insert(argv.end(), {"--decode-attention", "per-head"});
}

struct Row {
  std::string id, trust, what, command;
  double predicted = 0, measured = 0;
  std::string skipped;
};

Row Predict(const json& r) {
  Row row{.id = r["id"], .trust = r["trust"]};
  const json& c = r["config"];
  const json& m = r["measured"];
  const std::string model = ModelFor(r["model"].get<std::string>());
  const std::string gpu = GpuFor(c.value("gpus", ""));
  if (model.empty() || gpu.empty()) return row.skipped = "model or GPU not in the planner", row;
  if (!c["input_len"].is_number() || !c["output_len"].is_number()) {
    return row.skipped = "input/output lengths not stated", row;
  }
  std::vector<std::string> argv = {
      "serve", "--model", model, "--gpu", gpu,
      "--gpus", std::to_string(c["num_gpus"].get<int>()), "--tp", std::to_string(c["tp"].get<int>()),
      "--pp", std::to_string(c.value("pp", 1)), "--concurrency",
      std::to_string(c["batch_size"].get<int>()), "--input-tokens",
      std::to_string(c["input_len"].get<int>()), "--output-tokens",
      std::to_string(c["output_len"].get<int>()), "--format", "json"};
  AddPrecision(c.value("precision", ""), argv);
  AddDecodeAttention(c.value("framework", ""), argv);
  for (const std::string& a : argv) row.command += (row.command.empty() ? "planner " : " ") + a;
  std::ostringstream out, err;
  planner::RunCli(argv, out, err);
  const json answer = json::parse(out.str(), nullptr, false);
  if (answer.is_discarded() || answer["plans"].empty()) {
    return row.skipped = "no plan: " + err.str() + " (judged not to fit)", row;
  }
  const json& plan = answer["plans"][0];
  if (m.contains("tokens_per_s_per_gpu")) {
    row.what = "tok/s/GPU";
    row.measured = m["tokens_per_s_per_gpu"];
    row.predicted = plan["tokens_per_s_per_gpu"];
  } else if (m.contains("ttft_ms")) {
    row.what = "TTFT ms";
    row.measured = m["ttft_ms"];
    row.predicted = plan["ttft_s"].get<double>() * 1e3;
  } else if (m.contains("tokens_per_s")) {
    row.what = "tok/s";
    row.measured = m["tokens_per_s"];
    row.predicted = plan["tokens_per_s_per_user"];
  }
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1] : PLANNER_SHARED_DIR "/validation/finetune-serving-runs.jsonl";
  std::vector<Row> rows;
  std::vector<json> torchao;  // predicted in their own table (serve_accuracy_torchao.cc)
  std::istringstream lines(planner::ReadTextFile(path, path, int64_t{1} << 30));
  for (std::string line; std::getline(lines, line);) {
    const json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || r.value("kind", "") != "serve") continue;
    if (bench::IsTorchaoRun(r)) {
      torchao.push_back(r);
    } else {
      rows.push_back(Predict(r));
    }
  }
  std::printf("%-8s %-5s %-10s %10s %10s %8s  command\n", "run", "trust", "figure", "predicted",
              "measured", "error");
  double sum[2] = {0, 0};  // |error| of throughput and TTFT, trust A
  int count[2] = {0, 0};
  double worst[2] = {0, 0};
  for (const Row& r : rows) {
    if (!r.skipped.empty()) {
      std::printf("%-8s %-5s skipped: %s\n", r.id.c_str(), r.trust.c_str(), r.skipped.c_str());
      continue;
    }
    const double error = r.predicted / r.measured - 1.0;
    std::printf("%-8s %-5s %-10s %10.1f %10.1f %+7.1f%%  %s\n", r.id.c_str(), r.trust.c_str(),
                r.what.c_str(), r.predicted, r.measured, 100 * error, r.command.c_str());
    if (r.trust != "A") continue;
    const int k = r.what == "TTFT ms" ? 1 : 0;
    sum[k] += std::fabs(error);
    ++count[k];
    worst[k] = std::max(worst[k], std::fabs(error));
  }
  const char* names[2] = {"throughput per GPU", "first-token latency"};
  std::printf("\ntrust-A mean |error| (max):\n");
  for (int k = 0; k < 2; ++k) {
    std::printf("  %-20s %2d runs  %5.1f%%  (%5.1f%%)\n", names[k], count[k],
                count[k] ? 100 * sum[k] / count[k] : 0.0, 100 * worst[k]);
  }
  bench::ReportTorchao(torchao);
  return 0;
}
