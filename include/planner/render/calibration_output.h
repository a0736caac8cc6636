// What the output says about the constants behind its figures: their provenance in one line,
// each figure's uncertainty band (low/high), and whether the top plans are a tie the model cannot
// break (README: "Calibration").
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "planner/model/hardware.h"
#include "planner/render/output.h"
#include "planner/search/evaluate.h"

namespace planner {

/// A figure's range. Step time lies in [step (1 - band), step (1 + band)]; figures that divide
/// by it (tokens/s, MFU) in [x / (1 + band), x / (1 - band)]; days and cost scale with the step.
struct Range {
  double low = 0;
  double high = 0;
};
/// `mfu` (> 0) caps the fast end where the model FLOPs would need more than the GPUs' peak:
/// the step is at least step x mfu, the rate at most rate / mfu, MFU at most 100 %.
Range StepRange(double step_s, double band, double mfu = 0);
Range RateRange(double per_s, double band, double mfu = 0);

/// The provenance of the cluster's constants in one line ending in a newline:
/// "Constants: fitted on 18 runs of h100-sxm, error mean 6%, max 18%; ranges +/-18%."
std::string ProvenanceLine(const Cluster& c);
/// One line for many clusters (a sweep): their GPUs by where the constants come from,
/// "Constants: fitted for a100-80gb, h100-sxm; BORROWED for rtx-4090; ranges per plan in JSON."
std::string ProvenanceSummary(const std::vector<Cluster>& clusters);
/// A few words for `planner list gpus`: "fitted, 21 runs", "borrowed from a100".
std::string ShortProvenance(const Cluster& c);
/// The provenance as JSON: source, from, runs, mean_error, max_error, file, band.
nlohmann::ordered_json CalibrationJson(const Cluster& c);
/// Low/high of step_s, tokens_per_s, mfu, and with `cost` train_days, gpu_hours, train_cost.
nlohmann::ordered_json BandJson(const Cluster& c, const Evaluation& e, const CostInput& cost);
/// "Plans 1-3 are within plan 1's range: a tie the model cannot break.\n" when plan 2's low step
/// is below plan 1's high; "" otherwise.
std::string TieNote(const Cluster& c, const std::vector<Evaluation>& plans);
/// How many of `plans` (best first) are within plan 1's range, plan 1 included.
int TiedPlans(const Cluster& c, const std::vector<Evaluation>& plans);
/// "Plan 1 within +/-20%: step 16.3-24.5 s, 171k-256k tokens/s, MFU 22.5-33.8%." and a newline.
std::string RangesLine(const Cluster& c, const Evaluation& e, const std::string& label);
/// "1.21-1.64" style: two figures in `format`, joined by a dash.
std::string RangeText(const Range& r, const char* format);

}  // namespace planner
