// `planner calibrate`: fitting a cluster's efficiency constants to a few measured runs by bounded
// least squares on the relative error of predicted iteration time, with each run's residual and
// the leave-one-out error (README: "Calibration").
#pragma once

#include <string>
#include <vector>

#include "planner/input/specs.h"
#include "planner/model/calibration.h"
#include "planner/model/plan.h"

namespace planner {

/// One measured run: the cluster and setup it ran on, its plan, its seconds per iteration.
struct CalibrationRun {
  std::string name;        ///< where it was read ("runs.jsonl:3")
  Specs specs;
  Plan plan;               ///< resolved: dp and accumulation steps set
  double measured_s = 0;   ///< measured seconds per iteration (optimizer step)
  double measured_peak_bytes = 0;  ///< 0: not measured
};

/// The fitted constants and how well they predict.
struct CalibrationFit {
  Efficiency eff;                    ///< fitted (gemm, attention, link, step_overhead)
  Efficiency start;                  ///< the built-in set the fit started from
  std::vector<double> before_s;      ///< per run, predicted with the built-in set
  std::vector<double> predicted_s;   ///< per run, predicted with the fitted set
  std::vector<double> loo_error;     ///< per run, relative error predicted by a fit on the others
  double mean_error = 0;             ///< mean |relative residual| of the fitted set
  double max_error = 0;
  double loo_mean_error = 0;         ///< mean |leave-one-out error|; 0 with one run
  double loo_max_error = 0;
};

/// Bounds of the fitted constants; outside them a fit would describe a broken cluster.
struct FitBound {
  double Efficiency::*field;
  const char* name;
  double least;
  double most;
};
/// gemm [0.2, 1], attention [0.1, 1], link [0.1, 1], step_overhead [0, 0.6].
const std::vector<FitBound>& CalibrationBounds();

/// Predicted seconds per iteration of `run` with constants `eff`.
double PredictStep(const CalibrationRun& run, const Efficiency& eff);

/// Fits constants to `runs` (at least one, all on one GPU) starting from `start`, by coordinate
/// search within CalibrationBounds, minimizing the sum of squared log(predicted / measured) plus
/// a pull (weight 0.1 per constant, in units of its range) towards `start`, so a constant the
/// runs cannot see stays where it was and a few outliers do not drag the rest. gemm_fp8 moves with gemm (same ratio as `start`).
Efficiency FitEfficiency(const std::vector<CalibrationRun>& runs, const Efficiency& start);

/// FitEfficiency on all runs, the residuals, and the leave-one-out errors.
CalibrationFit Calibrate(const std::vector<CalibrationRun>& runs, const Efficiency& start);

}  // namespace planner
