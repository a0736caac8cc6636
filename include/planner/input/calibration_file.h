// A calibration file: the constants `planner calibrate` fitted on one cluster's measured runs,
// read back by `--calibration FILE` (README: "Calibration").
#pragma once

#include <string>

#include "planner/model/calibration.h"

namespace planner {

struct CalibrationFile {
  std::string gpu;        ///< the catalog GPU the runs ran on; the file applies to it only
  std::string runs_file;  ///< the runs it was fitted on, as given to `planner calibrate`
  int runs = 0;           ///< how many
  Efficiency eff;
  double mean_error = 0;      ///< mean |relative residual| of the fit over its runs
  double max_error = 0;
  double loo_mean_error = 0;  ///< leave-one-out: each run predicted by a fit on the others
  double loo_max_error = 0;
  bool operator==(const CalibrationFile&) const = default;
};

/// Parses the file's text; errors name `where` and the JSON path ("calib.json: constants: gemm").
/// Unknown keys, missing keys and values out of range throw InputError.
CalibrationFile ParseCalibrationFile(const std::string& text, const std::string& where);
/// Reads and parses `path`; a file that cannot be read throws InputError("--calibration").
CalibrationFile LoadCalibrationFile(const std::string& path);
/// The file's JSON text as `planner calibrate --out` writes it (ends in a newline).
std::string CalibrationFileText(const CalibrationFile& f);

/// The constants of `f` with their provenance (source file, runs, errors). The band is the
/// larger of the leave-one-out and the fit's max error; with fewer than 3 runs, where
/// leave-one-out says little, at least kBorrowedBand.
Calibration CalibrationOf(const CalibrationFile& f, const std::string& path);

}  // namespace planner
