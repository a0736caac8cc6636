// Real training runs from papers (../shared/validation/published-runs.jsonl), turned into the
// planner's specs and plan so that their measured speed and memory can be compared.
#pragma once

#include <string>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/plan.h"
#include "planner/input/specs.h"

namespace planner {

struct PublishedRun {
  std::string id;
  std::string trust;         ///< A, B or C (validation/README.md)
  std::string source;
  Specs specs;
  Plan plan;
  double iter_time_s = 0;    ///< measured, or derived from measured throughput; 0 if neither
  bool iter_time_derived = false;
  double peak_memory_bytes = 0;  ///< measured peak, 0 if not published
  std::string skip_reason;   ///< non-empty when the planner cannot express the run yet
};

/// Reads every line of the JSONL file. Throws InputError(path:line) on malformed lines.
std::vector<PublishedRun> LoadPublishedRuns(const std::string& path, const Catalog& catalog);

}  // namespace planner
