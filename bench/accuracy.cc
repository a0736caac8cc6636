// Prints predicted against published iteration time and memory for every published run.
//   build/release/accuracy [../shared/validation/published-runs.jsonl] [--format json]
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "accuracy_report.h"
#include "planner/model/error.h"
#include "planner/model/units.h"

namespace planner {
namespace {

void PrintJson(const AccuracyReport& r) {
  nlohmann::ordered_json j;
  for (const RunAccuracy& a : r.rows) {
    nlohmann::ordered_json row = {{"id", a.run.id}, {"trust", a.run.trust}};
    if (!a.run.skip_reason.empty()) {
      row["skipped"] = a.run.skip_reason;
    } else {
      row["predicted_iter_s"] = a.predicted.time.step();
      row["measured_iter_s"] = a.run.iter_time_s;
      row["error"] = a.error;
      row["fits"] = a.predicted.memory.total() <= a.predicted.capacity_bytes;
      row["memory_bytes"] = a.predicted.memory.total();
      row["capacity_bytes"] = a.predicted.capacity_bytes;
      if (a.run.peak_memory_bytes > 0) row["measured_peak_bytes"] = a.run.peak_memory_bytes;
      row["search_rank_of_published"] = a.search_rank;
      row["search_best_predicted_s"] = a.search_best_s;
    }
    j["runs"].push_back(row);
  }
  auto summary = [](const ErrorSummary& s) {
    return nlohmann::ordered_json{{"runs", s.runs}, {"mean_abs_error", s.mean_abs},
                                  {"max_abs_error", s.max_abs}};
  };
  for (const auto& [source, s] : r.by_source) j["by_source"][source] = summary(s);
  j["trust_a"] = summary(r.trust_a);
  j["all"] = summary(r.all);
  std::cout << j.dump(2) << "\n";
}

// One run: predicted against measured time, memory, and the search's verdict on its plan.
void PrintRow(const RunAccuracy& a) {
  char mem[64];
  std::snprintf(mem, sizeof mem, "%.1f/%.1f%s", a.predicted.memory.total() / kGiB,
                a.predicted.capacity_bytes / kGiB,
                a.predicted.memory.total() <= a.predicted.capacity_bytes ? "" : " OOM");
  // The search's verdict on the published plan: its rank, or a plan predicted faster.
  char search[64];
  if (a.search_rank > 0) {
    std::snprintf(search, sizeof search, "rank %d", a.search_rank);
  } else if (a.search_best_s > 0 && a.search_best_s <= a.predicted.time.step()) {
    std::snprintf(search, sizeof search, "faster %.3gs", a.search_best_s);
  } else {
    std::snprintf(search, sizeof search, "MISSED");
  }
  std::printf("%-38s %5s %8.3f %8.3f %+6.1f%% %15s %-14s", a.run.id.c_str(),
              a.run.trust.c_str(), a.predicted.time.step(), a.run.iter_time_s, 100 * a.error,
              mem, search);
  if (a.run.peak_memory_bytes > 0) {
    std::printf(" %.1f/%.1f (%+.1f%%)", a.run.peak_memory_bytes / kGiB,
                a.predicted.memory.total() / kGiB, 100 * a.memory_error);
  }
  std::printf("\n");
}

void PrintTable(const AccuracyReport& r) {
  std::printf("%-38s %5s %8s %8s %7s %15s %-14s %s\n", "run", "trust", "pred s", "meas s",
              "error", "mem GiB/usable", "search", "peak meas/pred");
  for (const RunAccuracy& a : r.rows) {
    if (!a.run.skip_reason.empty()) {
      std::printf("%-38s %5s skipped: %s\n", a.run.id.c_str(), a.run.trust.c_str(),
                  a.run.skip_reason.c_str());
      continue;
    }
    PrintRow(a);
  }
  std::printf("\nmean |error| (max) of predicted iteration time:\n");
  for (const auto& [source, s] : r.by_source) {
    std::printf("  %-14s %2d runs  %5.1f%%  (%5.1f%%)\n", source.c_str(), s.runs,
                100 * s.mean_abs, 100 * s.max_abs);
  }
  std::printf("  %-14s %2d runs  %5.1f%%  (%5.1f%%)\n", "trust A", r.trust_a.runs,
              100 * r.trust_a.mean_abs, 100 * r.trust_a.max_abs);
  std::printf("  %-14s %2d runs  %5.1f%%  (%5.1f%%)\n", "all", r.all.runs, 100 * r.all.mean_abs,
              100 * r.all.max_abs);
}

}  // namespace
}  // namespace planner

int main(int argc, char** argv) {
  using namespace planner;
  std::string path = PLANNER_SHARED_DIR "/validation/published-runs.jsonl";
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--format" && i + 1 < argc) {
      json = std::string(argv[++i]) == "json";
    } else {
      path = arg;
    }
  }
  try {
    const AccuracyReport r = ComputeAccuracy(LoadPublishedRuns(path, BuiltinCatalog()));
    if (json) {
      PrintJson(r);
    } else {
      PrintTable(r);
    }
  } catch (const InputError& e) {
    std::cerr << "accuracy: " << e.where() << ": " << e.what() << "\n";
    return 2;
  }
  return 0;
}
