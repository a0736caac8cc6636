#include "planner/render/calibration_output.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "planner/model/text.h"
#include "planner/render/columns.h"

namespace planner {
namespace {

using nlohmann::ordered_json;

std::string Percent(double share) { return Printf("%.0f%%", 100.0 * share); }

std::string Checked(const Provenance& p) {
  return "error mean " + Percent(p.mean_error) + ", max " + Percent(p.max_error);
}

ordered_json RangeJson(const Range& r) { return {{"low", r.low}, {"high", r.high}}; }

}  // namespace

Range StepRange(double step_s, double band, double mfu) {
  const double low = step_s * (1 - band);
  return {mfu > 0 ? std::max(low, step_s * std::min(mfu, 1.0)) : low, step_s * (1 + band)};
}

Range RateRange(double per_s, double band, double mfu) {
  const double high = per_s / (1 - band);
  return {per_s / (1 + band), mfu > 0 ? std::min(high, per_s / std::min(mfu, 1.0)) : high};
}

std::string RangeText(const Range& r, const char* format) {
  return Printf(format, r.low) + "-" + Printf(format, r.high);
}

std::string RangesLine(const Cluster& c, const Evaluation& e, const std::string& label) {
  const double band = c.calibration.provenance.band;
  const Range step = StepRange(e.time.step(), band, e.mfu);
  const Range rate = RateRange(e.tokens_per_s, band, e.mfu);
  const Range mfu = RateRange(100.0 * e.mfu, band, e.mfu);
  return label + " within +/-" + Percent(band) + ": step " + RangeText(step, "%.3g") + " s, " +
         Si(rate.low) + "-" + Si(rate.high) + " tokens/s, MFU " + RangeText(mfu, "%.1f") + "%.\n";
}

std::string ProvenanceLine(const Cluster& c) {
  const Provenance& p = c.calibration.provenance;
  const std::string band = "; ranges +/-" + Percent(p.band) + ".\n";
  switch (p.source) {
    case CalibrationSource::kFitted:
      return "Constants: fitted on " + std::to_string(p.runs) + " runs of " + c.gpu.name + ", " +
             Checked(p) + band;
    case CalibrationSource::kFile:
      return "Constants: " + p.file + ", fitted on " + std::to_string(p.runs) + " runs, " +
             Checked(p) + band;
    case CalibrationSource::kBorrowed: {
      std::string why = c.gpu.arch == Arch::kUnstated ? " (no arch given)" : "";
      if (p.matmul_scale != 1.0) {
        why += Printf(", tensor-core rate x%.2f by its measured matmul", p.matmul_scale);
      }
      const std::string checked = p.runs > 0
                                      ? " (" + std::to_string(p.runs) + " runs: " + Checked(p) + ")"
                                      : ", no published run of " + c.gpu.name;
      return "Constants: BORROWED from " + p.from + why + checked + band;
    }
    case CalibrationSource::kNone:
      break;
  }
  return "Constants: built-in, provenance unknown.\n";
}

std::string ProvenanceSummary(const std::vector<Cluster>& clusters) {
  std::vector<std::string> parts;
  for (const CalibrationSource source :
       {CalibrationSource::kFitted, CalibrationSource::kFile, CalibrationSource::kBorrowed}) {
    std::vector<std::string> gpus;
    for (const Cluster& c : clusters) {
      const bool same = c.calibration.provenance.source == source;
      if (same && std::find(gpus.begin(), gpus.end(), c.gpu.name) == gpus.end()) {
        gpus.push_back(c.gpu.name);
      }
    }
    if (gpus.empty()) continue;
    const std::string how = source == CalibrationSource::kFitted ? "fitted"
                            : source == CalibrationSource::kFile ? "from --calibration"
                                                                 : "BORROWED";
    parts.push_back(how + " for " + Join(gpus, ", "));
  }
  if (parts.empty()) return "";
  return "Constants: " + Join(parts, "; ") + "; each plan's range is in results.jsonl.\n";
}

std::string ShortProvenance(const Cluster& c) {
  const Provenance& p = c.calibration.provenance;
  if (p.source == CalibrationSource::kFitted) return "fitted, " + std::to_string(p.runs) + " runs";
  if (p.source == CalibrationSource::kFile) return "from " + p.file;
  return "borrowed from " + p.from +
         (p.runs > 0 ? " (checked on " + std::to_string(p.runs) + " runs)" : "");
}

ordered_json CalibrationJson(const Cluster& c) {
  const Provenance& p = c.calibration.provenance;
  ordered_json j = {{"source", CalibrationSourceName(p.source)}};
  if (p.source == CalibrationSource::kBorrowed) {
    j["from"] = p.from;
    j["matmul_scale"] = p.matmul_scale;
  }
  if (p.source == CalibrationSource::kFile) j["file"] = p.file;
  j["runs"] = p.runs;
  j["mean_error"] = p.mean_error;
  j["max_error"] = p.max_error;
  j["band"] = p.band;
  return j;
}

ordered_json BandJson(const Cluster& c, const Evaluation& e, const CostInput& cost) {
  const double band = c.calibration.provenance.band;
  const Range step = StepRange(e.time.step(), band, e.mfu);
  ordered_json j = {{"step_s", RangeJson(step)},
                    {"tokens_per_s", RangeJson(RateRange(e.tokens_per_s, band, e.mfu))},
                    {"mfu", RangeJson(RateRange(e.mfu, band, e.mfu))}};
  if (cost.train_tokens > 0 && e.tokens_per_s > 0) {
    const Range days = StepRange(cost.train_tokens / e.tokens_per_s / 86400.0, band, e.mfu);
    j["train_days"] = RangeJson(days);
    const double gpus = static_cast<double>(c.gpus);
    const Range hours{days.low * 24 * gpus, days.high * 24 * gpus};
    j["gpu_hours"] = RangeJson(hours);
    if (cost.gpu_hour_cost > 0) {
      j["train_cost"] =
          RangeJson({hours.low * cost.gpu_hour_cost, hours.high * cost.gpu_hour_cost});
    }
  }
  return j;
}

int TiedPlans(const Cluster& c, const std::vector<Evaluation>& plans) {
  if (plans.empty()) return 0;
  const double band = c.calibration.provenance.band;
  const double best_high = StepRange(plans.front().time.step(), band, plans.front().mfu).high;
  // Plans are sorted by step, so the tied ones are a prefix.
  const auto it = std::find_if(plans.begin() + 1, plans.end(), [&](const Evaluation& e) {
    return StepRange(e.time.step(), band, e.mfu).low >= best_high;
  });
  return static_cast<int>(it - plans.begin());
}

std::string TieNote(const Cluster& c, const std::vector<Evaluation>& plans) {
  const int tied = TiedPlans(c, plans);
  if (tied < 2) return "";
  const std::string which =
      tied == 2 ? "Plans 1 and 2 are" : "Plans 1-" + std::to_string(tied) + " are";
  return which + " within each other's ranges: a tie the model cannot break; measure them.\n";
}

}  // namespace planner
