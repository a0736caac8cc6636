// A run file: one training run as a user states it (model, GPUs, links, framework, numerics,
// plan, and optionally what was measured), read by `planner evaluate --run FILE`. Every fact the
// accuracy bench uses about a published run is a field here or a flag; the format is in
// README.md ("Run files").
#pragma once

#include <string>

#include "planner/input/specs.h"
#include "planner/model/plan.h"

namespace planner {

/// The plan as a run file states it: sizes, dp (0: from the GPU count), recomputation by name.
struct RunFilePlan {
  Plan plan;
  int64_t dp = 0;
  std::string recompute = "none";
};

/// What the run measured, when the file says (0: not given).
struct RunMeasured {
  double iter_time_s = 0;
  bool iter_time_derived = false;  ///< computed from a published throughput, not timed
  double peak_memory_bytes = 0;
};

struct RunFile {
  std::string description;
  std::string source;
  SpecInput spec;
  RunFilePlan plan;
  RunMeasured measured;
};

/// Parses a run file's text; `where` names it in errors (JSON path after it). Unknown keys and
/// wrong types throw InputError.
RunFile ParseRunFile(const std::string& text, const std::string& where);
/// Reads and parses a file.
RunFile LoadRunFile(const std::string& path);

}  // namespace planner
