// Prints predicted against published iteration time and memory for every published run, each
// predicted by the command it prints (`planner evaluate --run FILE`, the file made from the
// run's JSONL line and written to DIR), with the mean and max |error| per framework and per GPU.
//   build/release/accuracy [published-runs.jsonl] [--runs DIR] [--format json] [--commands]
// The file defaults to ../shared/validation/published-runs.jsonl; bench/validation/more-runs.jsonl
// holds the B200/GB200 runs.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "accuracy_report.h"
#include "planner/model/error.h"
#include "planner/model/units.h"

namespace planner {
namespace {

nlohmann::ordered_json Summary(const ErrorSummary& s) {
  return {{"runs", s.runs},
          {"mean_abs_error", s.mean_abs},
          {"max_abs_error", s.max_abs},
          {"mean_error", s.mean}};
}

void PrintJson(const AccuracyReport& r) {
  nlohmann::ordered_json j;
  for (const RunAccuracy& a : r.rows) {
    nlohmann::ordered_json row = {{"id", a.run.id}, {"trust", a.run.trust},
                                  {"framework", a.framework}, {"command", a.command}};
    if (!a.run.skip_reason.empty()) {
      row["skipped"] = a.run.skip_reason;
    } else {
      row["predicted_iter_s"] = a.predicted_step_s;
      row["measured_iter_s"] = a.measured.iter_time_s;
      row["error"] = a.error;
      row["fits"] = a.fits();
      row["memory_bytes"] = a.predicted_memory_bytes;
      row["capacity_bytes"] = a.capacity_bytes;
      if (a.measured.peak_memory_bytes > 0) {
        row["measured_peak_bytes"] = a.measured.peak_memory_bytes;
      }
      row["search_rank_of_published"] = a.search_rank;
      row["search_best_predicted_s"] = a.search_best_s;
    }
    j["runs"].push_back(row);
  }
  for (const auto& [framework, s] : r.by_framework) j["by_framework"][framework] = Summary(s);
  for (const auto& [gpu, s] : r.by_gpu) j["by_gpu"][gpu] = Summary(s);
  j["trust_a"] = Summary(r.trust_a);
  j["all"] = Summary(r.all);
  j["peak_memory"] = Summary(r.memory);
  std::cout << j.dump(2) << "\n";
}

// One run: predicted against measured time, memory (with the margin left), and the search's
// verdict on its plan.
void PrintRow(const RunAccuracy& a) {
  char mem[64];
  std::snprintf(mem, sizeof mem, "%.1f/%.1f %+.1f", a.predicted_memory_bytes / kGiB,
                a.capacity_bytes / kGiB, (a.capacity_bytes - a.predicted_memory_bytes) / kGiB);
  char search[64];
  if (a.search_rank > 0) {
    std::snprintf(search, sizeof search, "rank %d", a.search_rank);
  } else if (a.search_best_s > 0 && a.search_best_s <= a.predicted_step_s) {
    std::snprintf(search, sizeof search, "faster %.3gs", a.search_best_s);
  } else {
    std::snprintf(search, sizeof search, "MISSED");
  }
  std::printf("%-38s %5s %-10s %8.3f %8.3f %+6.1f%% %20s%s %-14s", a.run.id.c_str(),
              a.run.trust.c_str(), a.framework.c_str(), a.predicted_step_s,
              a.measured.iter_time_s, 100 * a.error, mem, a.fits() ? "   " : "OOM", search);
  if (a.measured.peak_memory_bytes > 0) {
    std::printf(" %.1f/%.1f (%+.1f%%)", a.measured.peak_memory_bytes / kGiB,
                a.predicted_memory_bytes / kGiB, 100 * a.memory_error);
  }
  std::printf("\n");
}

void PrintLine(const char* name, const ErrorSummary& s) {
  std::printf("  %-14s %2d runs  %5.1f%%  (%5.1f%%)  signed %+5.1f%%\n", name, s.runs,
              100 * s.mean_abs, 100 * s.max_abs, 100 * s.mean);
}

void PrintTable(const AccuracyReport& r, bool commands) {
  std::printf("%-38s %5s %-10s %8s %8s %7s %23s %-14s %s\n", "run", "trust", "framework",
              "pred s", "meas s", "error", "GiB pred/usable margin", "search",
              "peak meas/pred GiB");
  for (const RunAccuracy& a : r.rows) {
    if (!a.run.skip_reason.empty()) {
      std::printf("%-38s %5s skipped: %s\n", a.run.id.c_str(), a.run.trust.c_str(),
                  a.run.skip_reason.c_str());
      continue;
    }
    PrintRow(a);
    if (commands) std::printf("    %s\n", a.command.c_str());
  }
  std::printf("\nmean |error| (max) of predicted iteration time, through `planner evaluate --run`:\n");
  for (const auto& [framework, s] : r.by_framework) PrintLine(framework.c_str(), s);
  std::printf("by GPU (signed below 0: predicted steps faster than measured):\n");
  for (const auto& [gpu, s] : r.by_gpu) PrintLine(gpu.c_str(), s);
  PrintLine("trust A", r.trust_a);
  PrintLine("all", r.all);
  std::printf("mean |error| (max) of predicted peak memory:\n");
  PrintLine("peak memory", r.memory);
  if (!commands) std::printf("(--commands prints the command reproducing each row)\n");
}

}  // namespace
}  // namespace planner

int main(int argc, char** argv) {
  using namespace planner;
  std::string path = PLANNER_SHARED_DIR "/validation/published-runs.jsonl";
  std::string run_dir = PLANNER_RUN_DIR;
  bool json = false;
  bool commands = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--format" && i + 1 < argc) {
      json = std::string(argv[++i]) == "json";
    } else if (arg == "--runs" && i + 1 < argc) {
      run_dir = argv[++i];
    } else if (arg == "--commands") {
      commands = true;
    } else if (arg == "--help") {
      std::cout << "usage: accuracy [RUNS.jsonl] [--runs DIR] [--format json] [--commands]\n"
                   "  RUNS.jsonl  published runs (default " PLANNER_SHARED_DIR
                   "/validation/published-runs.jsonl)\n";
      return 0;
    } else {
      path = arg;
    }
  }
  try {
    const AccuracyReport r = ComputeAccuracy(LoadPublishedRuns(path), run_dir);
    if (json) {
      PrintJson(r);
    } else {
      PrintTable(r, commands);
    }
  } catch (const InputError& e) {
    std::cerr << "accuracy: " << e.where() << ": " << e.what() << "\n";
    return 2;
  }
  return 0;
}
