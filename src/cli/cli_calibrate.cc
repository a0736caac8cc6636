// `planner calibrate RUNS.jsonl --out calib.json`: fits the cluster's constants to measured runs
// (each line a run file, README: "Run files", with measured.iter_time_s), prints the fitted
// values, each run's residual and the leave-one-out error. `--suggest` prints runs to measure.
#include <cmath>
#include <set>
#include <sstream>

#include "cli_common.h"
#include "planner/cli/calibration_runs.h"
#include "planner/cost/calibration.h"
#include "planner/input/calibration_file.h"
#include "planner/input/run_file.h"
#include "planner/model/files.h"
#include "planner/model/text.h"
#include "planner/render/calibration_output.h"
#include "planner/render/columns.h"
#include "planner/search/calibrate.h"

namespace planner {
namespace po = boost::program_options;

// One line of the runs file as `planner evaluate --run` would read it: specs and resolved plan.
CalibrationRun CalibrationRunFromText(const std::string& line, const std::string& where,
                                      const std::vector<std::string>& catalogs) {
  const RunFile file = ParseRunFile(line, where);
  if (file.measured.iter_time_s <= 0) {
    throw InputError(where + ": measured: iter_time_s", "is required: the measured seconds per "
                                                        "iteration of this run");
  }
  SpecInput in = file.spec;
  in.catalogs = catalogs;
  const Plan& p = file.plan.plan;
  if (in.gpus == 0 && file.plan.dp > 0) in.gpus = CheckPlanSizes(p, file.plan.dp) * file.plan.dp;
  try {
    const Specs specs = BuildSpecs(in, LoadCatalog(in));
    PlanInput plan{p, file.plan.dp, file.plan.recompute};
    plan.plan.recompute = ParseRecompute(file.plan.recompute, "plan: recompute");
    const SearchLimits limits{.allow_cross_node_tp = true, .allow_comm_bound = true};
    return CalibrationRun{.name = where,
                          .specs = specs,
                          .plan = ResolvePlan(plan, specs, limits),
                          .measured_s = file.measured.iter_time_s,
                          .measured_peak_bytes = file.measured.peak_memory_bytes};
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.where(), e.what());
  }
}

std::vector<CalibrationRun> LoadCalibrationRuns(const std::string& path,
                                                const std::vector<std::string>& catalogs) {
  std::istringstream text(ReadTextFile(path, "RUNS"));
  std::vector<CalibrationRun> runs;
  std::string line;
  for (int n = 1; std::getline(text, line); ++n) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;  // blank, or a comment
    runs.push_back(CalibrationRunFromText(line, path + ":" + std::to_string(n), catalogs));
    const std::string& gpu = runs.back().specs.cluster.gpu.name;
    if (gpu != runs.front().specs.cluster.gpu.name) {
      throw InputError(runs.back().name + ": gpu", "is " + gpu + ", but the first run's is " +
                                                       runs.front().specs.cluster.gpu.name +
                                                       "; calibrate one GPU type at a time");
    }
  }
  if (runs.empty()) throw InputError(path, "no runs; each line is a run file with measured times");
  return runs;
}

namespace {

std::string Pct(double share) { return Printf("%+.1f%%", 100.0 * share); }

void PrintFit(std::ostream& out, const std::vector<CalibrationRun>& runs,
              const CalibrationFit& fit) {
  out << "Calibrating " << runs.front().specs.cluster.gpu.name << " on " << runs.size()
      << " measured runs.\n\n";
  std::vector<std::vector<std::string>> rows = {{"constant", "built-in", "fitted", "bounds"}};
  for (const FitBound& b : CalibrationBounds()) {
    rows.push_back({b.name, Printf("%.3f", fit.start.*b.field), Printf("%.3f", fit.eff.*b.field),
                    Printf("%.2f-", b.least) + Printf("%.2f", b.most)});
  }
  PrintColumns(out, rows, {0});
  out << "(gemm_fp8 moves with gemm: " << Printf("%.3f", fit.eff.gemm_fp8)
      << "; hbm and gemm_half_dim are kept.)\n\n";
  rows = {{"run", "measured s", "built-in s", "error", "fitted s", "residual", "leave-one-out"}};
  for (size_t i = 0; i < runs.size(); ++i) {
    const double m = runs[i].measured_s;
    rows.push_back({runs[i].name, Printf("%.4g", m), Printf("%.4g", fit.before_s[i]),
                    Pct((fit.before_s[i] - m) / m), Printf("%.4g", fit.predicted_s[i]),
                    Pct((fit.predicted_s[i] - m) / m),
                    fit.loo_error.empty() ? "-" : Pct(fit.loo_error[i])});
  }
  PrintColumns(out, rows, {0});
  out << "\nFitted: mean |residual| " << Printf("%.1f%%", 100 * fit.mean_error) << " (max "
      << Printf("%.1f%%", 100 * fit.max_error) << ")";
  if (!fit.loo_error.empty()) {
    out << "; leave-one-out " << Printf("%.1f%%", 100 * fit.loo_mean_error) << " (max "
        << Printf("%.1f%%", 100 * fit.loo_max_error) << ")";
  }
  out << ".\n";
}

}  // namespace

int RunCalibrateCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::string runs_path, out_path;
  bool suggest = false, help = false;
  SpecInput in;
  po::options_description d("planner calibrate RUNS.jsonl [--out calib.json] | --suggest");
  d.add_options()("runs", po::value(&runs_path), "measured runs: JSONL, one run file a line")(
      "out", po::value(&out_path), "write the fitted constants here (use: --calibration FILE)")(
      "suggest", po::bool_switch(&suggest), "print runs to measure (with --model, --gpu, --gpus)")(
      "help,h", po::bool_switch(&help), "this help");
  AddSpecOptions(d, in);
  po::positional_options_description positional;
  positional.add("runs", 1);
  ParseOptions(args, d, &positional);
  if (help) {
    out << d;
    return 0;
  }
  if (suggest) return RunSuggest(in, out);
  if (runs_path.empty()) throw InputError("RUNS", "is required: a JSONL file of measured runs");
  const std::vector<CalibrationRun> runs = LoadCalibrationRuns(runs_path, in.catalogs);
  const Cluster& cluster = runs.front().specs.cluster;
  const CalibrationFit fit = Calibrate(runs, EfficiencyFor(cluster.gpu));
  PrintFit(out, runs, fit);
  if (out_path.empty()) {
    out << "Not written: give --out FILE to keep these constants.\n";
    return 0;
  }
  const CalibrationFile file{.gpu = cluster.gpu.name,
                             .runs_file = runs_path,
                             .runs = static_cast<int>(runs.size()),
                             .eff = fit.eff,
                             .mean_error = fit.mean_error,
                             .max_error = fit.max_error,
                             .loo_mean_error = fit.loo_mean_error,
                             .loo_max_error = fit.loo_max_error};
  WriteFileAtomically(out_path, CalibrationFileText(file), "--out");
  out << "Wrote " << out_path << "; use it with --calibration " << out_path
      << " (search, evaluate, sweep, serve). Ranges: +/-"
      << Printf("%.0f%%", 100 * CalibrationOf(file, out_path).provenance.band) << ".\n";
  return 0;
}

}  // namespace planner
