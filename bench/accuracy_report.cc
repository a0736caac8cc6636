#include "accuracy_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "planner/cli/cli.h"
#include "planner/input/catalog.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/search/search.h"

namespace planner {
namespace {

void Add(ErrorSummary& s, double error) {
  s.mean_abs = (s.mean_abs * s.runs + std::fabs(error)) / (s.runs + 1);
  s.mean = (s.mean * s.runs + error) / (s.runs + 1);
  s.max_abs = std::max(s.max_abs, std::fabs(error));
  ++s.runs;
}

Plan PlanFromJson(const nlohmann::json& j) {
  Plan p;
  p.tp = j.at("tp");
  p.pp = j.at("pp");
  p.dp = j.at("dp");
  p.cp = j.at("cp");
  p.ep = j.at("ep");
  p.micro_batch = j.at("micro_batch");
  p.grad_accum = j.at("grad_accum_steps");
  p.recompute = ParseRecompute(j.at("recompute").get<std::string>(), "recompute");
  p.recompute_layers = j.at("recompute_layers");
  p.zero_stage = j.at("zero_stage");
  p.sequence_parallel = j.at("sequence_parallel");
  p.virtual_stages = j.at("virtual_stages");
  p.first_stage_layers = j.at("first_stage_layers");
  p.last_stage_layers = j.at("last_stage_layers");
  p.offload_activation_layers = j.at("offload_activation_layers");
  return p;
}

// `planner evaluate --run FILE --format json`, exactly as a user would run it.
void Predict(RunAccuracy& row) {
  std::ostringstream out, err;
  const int code = RunCli({"evaluate", "--run", row.run_file, "--format", "json"}, out, err);
  if (code == 2) throw InputError(row.run_file, err.str());
  const nlohmann::json j = nlohmann::json::parse(out.str()).at("plan");
  row.plan = PlanFromJson(j);
  row.predicted_step_s = j.at("step_s");
  row.predicted_memory_bytes = j.at("memory_bytes").at("total");
  row.capacity_bytes = j.at("capacity_bytes");
  row.tokens_per_s = j.at("tokens_per_s");
}

// Asked for the same model, cluster and batch, does the search rank the published plan in its
// top 10, or find one it predicts at least as fast?
void CheckSearch(RunAccuracy& row) {
  const SearchResult found = Search(row.specs.model, row.specs.cluster, row.specs.setup,
                                    SearchOptions{.top = 10});
  for (size_t i = 0; i < found.plans.size(); ++i) {
    if (found.plans[i].plan == row.plan) row.search_rank = static_cast<int>(i) + 1;
  }
  if (!found.plans.empty()) row.search_best_s = found.plans.front().time.step();
}

}  // namespace

AccuracyReport ComputeAccuracy(const std::vector<PublishedRun>& runs, const std::string& run_dir) {
  AccuracyReport report;
  std::filesystem::create_directories(run_dir);
  const Catalog catalog = BuiltinCatalog();
  for (const PublishedRun& run : runs) {
    RunAccuracy row{.run = run};
    row.run_file = run_dir + "/" + run.id + ".json";
    row.command = "planner evaluate --run " + row.run_file;
    WriteFileAtomically(row.run_file, run.run_file_json, row.run_file);
    const RunFile file = LoadRunFile(row.run_file);
    row.measured = file.measured;
    row.framework = file.spec.framework;
    if (run.skip_reason.empty()) {
      row.specs = BuildSpecs(file.spec, catalog);
      Predict(row);
      if (row.measured.iter_time_s > 0) {
        row.error = (row.predicted_step_s - row.measured.iter_time_s) / row.measured.iter_time_s;
        Add(report.all, row.error);
        if (run.trust == "A") Add(report.trust_a, row.error);
        Add(report.by_framework[row.framework], row.error);
        Add(report.by_gpu[file.spec.gpu], row.error);
      }
      if (row.measured.peak_memory_bytes > 0) {
        row.memory_error = (row.predicted_memory_bytes - row.measured.peak_memory_bytes) /
                           row.measured.peak_memory_bytes;
        Add(report.memory, row.memory_error);
      }
      CheckSearch(row);
    }
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace planner
