// Predicted against published: step time and memory of each run in published-runs.jsonl, each
// predicted by `planner evaluate --run FILE` on the run file made from its JSONL line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "planner/input/published_runs.h"
#include "planner/input/run_file.h"
#include "planner/input/specs.h"
#include "planner/model/plan.h"

namespace planner {

struct RunAccuracy {
  PublishedRun run;
  std::string run_file;        ///< where its run file was written
  std::string command;         ///< the command line that reproduces the prediction
  RunMeasured measured;        ///< as the run file states it
  std::string framework;       ///< as the run file states it
  Specs specs;                 ///< the run file's specs, for the search check
  Plan plan;                   ///< the plan `planner evaluate` resolved (its JSON output)
  double predicted_step_s = 0;
  double predicted_memory_bytes = 0;
  double capacity_bytes = 0;
  double tokens_per_s = 0;
  double error = 0;         ///< (predicted - measured) / measured iteration time; 0 if skipped
  double memory_error = 0;  ///< same for peak memory, where published
  int search_rank = 0;      ///< the published plan's rank in the search's top 10; 0 if absent
  double search_best_s = 0; ///< the search's best predicted step for the same model and cluster

  bool fits() const { return predicted_memory_bytes <= capacity_bytes; }
};

struct ErrorSummary {
  int runs = 0;
  double mean_abs = 0;
  double max_abs = 0;
  double mean = 0;  ///< signed: below 0 the model predicts faster steps than measured
};

struct AccuracyReport {
  std::vector<RunAccuracy> rows;
  std::map<std::string, ErrorSummary> by_framework;  ///< the run file's framework
  std::map<std::string, ErrorSummary> by_gpu;        ///< the run file's catalog GPU
  ErrorSummary trust_a;
  ErrorSummary all;
  ErrorSummary memory;  ///< |error| of peak memory where published
};

/// Writes each run's file to `run_dir`/<id>.json, predicts it with `planner evaluate --run`
/// (the command-line path, in-process) and compares. Throws InputError when a run file is bad.
AccuracyReport ComputeAccuracy(const std::vector<PublishedRun>& runs, const std::string& run_dir);

}  // namespace planner
