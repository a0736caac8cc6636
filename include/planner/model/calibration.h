// The efficiency constants the cost models read, and where they come from: fitted on published
// runs of the GPU, borrowed from another GPU's fit, or a user's calibration file. Chosen once
// when the cluster is built (src/input/specs.cc) and carried in the Cluster, so the cost models
// stay pure functions of their inputs (README: "Calibration").
#pragma once

#include <string>

namespace planner {

/// Constants of the efficiency model, one set per GPU architecture or calibration file.
struct Efficiency {
  double gemm = 0.8;           ///< fraction of peak a large 16-bit GEMM reaches
  double gemm_fp8 = 0.6;       ///< fraction of the fp8 peak a large fp8 GEMM reaches
  double gemm_half_dim = 96;   ///< GEMM edge length at which efficiency halves (tile occupancy)
  double attention = 0.6;      ///< fraction of the 16-bit peak of fused attention (causal)
  double hbm = 0.8;            ///< fraction of HBM bandwidth element-wise kernels reach
  double link = 0.8;           ///< fraction of a link's bandwidth NCCL reaches
  double step_overhead = 0.0;  ///< launch gaps and host work, as a share of compute time
  bool operator==(const Efficiency&) const = default;
};

/// Where a GPU's constants come from.
enum class CalibrationSource {
  kNone,      ///< not chosen yet: the cost models use the built-in set of the GPU's architecture
  kFitted,    ///< fitted on published runs of this GPU
  kBorrowed,  ///< another GPU's (or architecture's) fit; no published run of this GPU in it
  kFile       ///< a user's calibration file (`planner calibrate`)
};

/// The provenance of a set of constants and the errors measured with them. Errors are relative
/// |predicted - measured| / measured iteration time (0.12 = 12%).
struct Provenance {
  CalibrationSource source = CalibrationSource::kNone;
  std::string from{};       ///< borrowed: the GPU (or architecture) whose fit is used
  /// Borrowed: the tensor-core constants (gemm, fp8 gemm, attention) times this GPU's measured
  /// matmul share of its peak over the donor's (1: no measurement).
  double matmul_scale = 1.0;
  int runs = 0;             ///< runs of this GPU the errors were measured on (0: none)
  double mean_error = 0;    ///< mean |error| over those runs
  double max_error = 0;     ///< largest |error| over those runs
  std::string file{};       ///< kFile: the calibration file's path
  /// Half-width of the uncertainty band as a share of step time: the step lies in
  /// [step (1 - band), step (1 + band)] (README: "Calibration", how it is chosen).
  double band = 0;
  bool operator==(const Provenance&) const = default;
};

/// The constants a cluster is costed with and their provenance.
struct Calibration {
  Efficiency eff{};
  Provenance provenance{};
  bool operator==(const Calibration&) const = default;
};

/// "fitted", "borrowed", "file"; "" for kNone.
const char* CalibrationSourceName(CalibrationSource s);

}  // namespace planner
