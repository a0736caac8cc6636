// Real training runs from papers (../shared/validation/published-runs.jsonl), each turned into a
// run file (planner/input/run_file.h) from the JSONL's fields alone, so that `planner evaluate
// --run FILE` predicts it through the same path a user takes.
#pragma once

#include <string>
#include <vector>

namespace planner {

struct PublishedRun {
  std::string id;            ///< names the run file; never read by the conversion
  std::string trust;         ///< A, B or C (validation/README.md)
  std::string source;
  std::string run_file_json; ///< the run file's text
  std::string skip_reason;   ///< non-empty when the planner cannot express the run yet
};

/// Reads every line of the JSONL file. Throws InputError(path:line) on malformed lines.
std::vector<PublishedRun> LoadPublishedRuns(const std::string& path);

}  // namespace planner
