// Predicted against published: step time and memory of each run in published-runs.jsonl.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "planner/search/evaluate.h"
#include "planner/input/published_runs.h"

namespace planner {

struct RunAccuracy {
  PublishedRun run;
  Evaluation predicted;
  double error = 0;         ///< (predicted - measured) / measured iteration time; 0 if skipped
  double memory_error = 0;  ///< same for peak memory, where published
  int search_rank = 0;      ///< the published plan's rank in the search's top 10; 0 if absent
  double search_best_s = 0; ///< the search's best predicted step for the same model and cluster
};

struct ErrorSummary {
  int runs = 0;
  double mean_abs = 0;
  double max_abs = 0;
};

struct AccuracyReport {
  std::vector<RunAccuracy> rows;
  std::map<std::string, ErrorSummary> by_source;  ///< source = the id's prefix ("narayanan21")
  ErrorSummary trust_a;
  ErrorSummary all;
};

AccuracyReport ComputeAccuracy(const std::vector<PublishedRun>& runs);

}  // namespace planner
