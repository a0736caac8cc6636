#include "planner/cost/calibration.h"

#include <algorithm>
#include <cstring>

namespace planner {
namespace {

// Errors of predicted iteration time per GPU of the published runs, measured through
// `planner evaluate --run` by `./build/release/accuracy` (its "by GPU" lines) on
// ../shared/validation/published-runs.jsonl and, for B200 and GB200, on
// bench/validation/more-runs.jsonl; a test (calibration_test.cc) recomputes them and fails when
// this table drifts from the report. Runs of a GPU that borrows its set check the borrowing.
struct MeasuredGpu {
  const char* gpu;
  int runs;
  double mean_error;
  double max_error;
};
constexpr MeasuredGpu kMeasured[] = {
    {"a100-80gb", 19, 0.029, 0.063},
    {"a100-40gb", 8, 0.032, 0.119},
    {"h100-sxm", 18, 0.056, 0.179},
    {"v100-32gb", 4, 0.063, 0.125},
    {"b200", 8, 0.102, 0.242},
    {"gb200", 12, 0.247, 1.859},
};

bool HopperFamily(Arch a) { return a == Arch::kHopper || a == Arch::kBlackwell; }

// The GPUs whose published runs each set was fitted on; any other GPU borrows the set.
bool FittedOn(const Gpu& gpu) {
  if (HopperFamily(gpu.arch)) return gpu.name == "h100-sxm";
  return gpu.name == "a100-80gb" || gpu.name == "a100-40gb";
}

const MeasuredGpu* MeasuredOf(const std::string& name) {
  for (const MeasuredGpu& m : kMeasured) {
    if (name == m.gpu) return &m;
  }
  return nullptr;
}

}  // namespace

Efficiency EfficiencyFor(const Gpu& gpu) {
  // One set per architecture family, fitted once over all published runs of its GPUs; never
  // per run or per paper.
  if (HopperFamily(gpu.arch)) {
    return Efficiency{.gemm = 0.70, .gemm_fp8 = 0.55, .gemm_half_dim = 128, .attention = 0.50,
                      .hbm = 0.80, .link = 0.80, .step_overhead = 0.05};
  }
  // Volta, Ada, CDNA2/3/4, Gaudi 3 and GPUs without a stated architecture have no published runs
  // to fit: they borrow the A100's set.
  return Efficiency{.gemm = 0.81, .gemm_fp8 = 0.81, .gemm_half_dim = 96, .attention = 0.50,
                    .hbm = 0.80, .link = 0.75, .step_overhead = 0.09};
}

Efficiency EfficiencyOf(const Cluster& c) {
  return c.calibration.provenance.source == CalibrationSource::kNone ? EfficiencyFor(c.gpu)
                                                                     : c.calibration.eff;
}

Calibration BuiltinCalibration(const Gpu& gpu) {
  Calibration c{.eff = EfficiencyFor(gpu)};
  Provenance& p = c.provenance;
  const MeasuredGpu* measured = MeasuredOf(gpu.name);
  if (measured != nullptr) {
    p.runs = measured->runs;
    p.mean_error = measured->mean_error;
    p.max_error = measured->max_error;
  }
  if (FittedOn(gpu) && measured != nullptr) {
    p.source = CalibrationSource::kFitted;
    p.band = std::min(kMaxBand, p.max_error);
    return c;
  }
  p.source = CalibrationSource::kBorrowed;
  p.from = HopperFamily(gpu.arch) ? "h100-sxm" : "a100";
  // Runs of a borrowing GPU (V100) measure how well the borrowed set does; never narrower
  // than the default for a borrowed set.
  p.band = std::min(kMaxBand, std::max(kBorrowedBand, p.max_error));
  return c;
}

}  // namespace planner
