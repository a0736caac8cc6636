// The built-in calibration: one efficiency set per architecture family, fitted on the published
// runs of one GPU (../shared/validation/published-runs.jsonl), with the errors bench/accuracy
// measures per GPU, and what every other GPU borrows (README: "Calibration").
#pragma once

#include "planner/model/calibration.h"
#include "planner/model/hardware.h"

namespace planner {

/// The architecture family's constants (the Hopper fit for Hopper and Blackwell, the A100 fit
/// for every other architecture), before any scaling for the GPU's measured matmul rate.
Efficiency EfficiencyFor(const Gpu& gpu);

/// The share of the datasheet bf16 peak torch.matmul reaches on the GPU whose fit `arch`
/// borrows (A100 or H100 SXM), from the rates the catalog cites.
double DonorMatmulShare(Arch arch);

/// How much faster than FlashAttention-2 (the kernel `Efficiency::attention` describes) cuDNN's
/// fused attention runs causal training attention on `arch`: 1.6 on Hopper and Blackwell, from
/// the FlashAttention-3 paper's H100 measurements; 1 elsewhere, where Transformer Engine picks
/// FlashAttention itself.
double FusedAttentionGain(Arch arch);

/// The constants the cost models use for a cluster: its calibration when one was chosen (input
/// time), else the built-in set of its GPU's architecture.
Efficiency EfficiencyOf(const Cluster& c);

/// The built-in constants of `gpu` and their provenance: fitted when published runs of this GPU
/// were fitted, else borrowed (naming the GPU whose fit it borrows), with a wider band; a
/// borrowed set's tensor-core constants are scaled by the GPU's measured matmul share over the
/// donor's (Provenance::matmul_scale).
Calibration BuiltinCalibration(const Gpu& gpu);

/// Band half-width (share of step time) of constants borrowed with no run of the GPU to check
/// them: twice the largest max error of the fitted GPUs (a100-40gb, 11.9%), or the largest max
/// error measured on a borrowing GPU's runs (gb200, 26.0%) when that is larger, rounded up to
/// the next hundredth (README: "Calibration"); a test holds it to that rule.
inline constexpr double kBorrowedBand = 0.26;
/// The widest band quoted; beyond it low step times would approach zero.
inline constexpr double kMaxBand = 0.60;

}  // namespace planner
