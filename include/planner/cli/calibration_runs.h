// Reading the measured runs `planner calibrate` fits: each line of a JSONL file is a run file
// (README: "Run files") with measured.iter_time_s, resolved as `planner evaluate --run` would.
#pragma once

#include <string>
#include <vector>

#include "planner/search/calibrate.h"

namespace planner {

/// One run file's text as a measured run; errors name `where` ("runs.jsonl:3") and the field.
CalibrationRun CalibrationRunFromText(const std::string& text, const std::string& where,
                                      const std::vector<std::string>& catalogs);

/// Every non-blank line of `path`; all runs must be on one GPU type. Throws InputError.
std::vector<CalibrationRun> LoadCalibrationRuns(const std::string& path,
                                                const std::vector<std::string>& catalogs);

}  // namespace planner
