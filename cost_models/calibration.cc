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
    {"h100-sxm", 18, 0.056, 0.108},
    {"v100-32gb", 4, 0.063, 0.125},
    {"b200", 8, 0.093, 0.230},
    {"gb200", 12, 0.123, 0.260},
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

// The share of its datasheet bf16 peak that torch.matmul reaches on each donor, from the rates
// the catalog cites (src/input/catalog_gpus.cc: zzc0721/torch-performance-test-data): A100 the
// mean of 246.33 (40GB) and 264.53 (80GB) TFLOPS of 312, H100 SXM 786.45 of 989.4. A test checks
// these against the catalog.
constexpr double kA100MatmulShare = (246.33 + 264.53) / 2.0 / 312.0;
constexpr double kH100MatmulShare = 786.45 / 989.4;

}  // namespace

double DonorMatmulShare(Arch arch) {
  return HopperFamily(arch) ? kH100MatmulShare : kA100MatmulShare;
}

namespace {

// FlashAttention-2 on an A100, causal, head dim 128, in the model's accounting (forward FLOPs
// 4 s^2 b h d uncounted for the mask, backward twice the forward: layer_cost.cc). Measured:
// forward 156.27 TFLOPs/s at 4096 tokens (liangan1/GPU_travel performance/flash-attn/README.md
// at 07d0469e), backward at 99.23 / 151.19 of the forward (FlashAttention-2's rows of
// apache/tvm tl_doc/flash_perf.md at bd6f9570, RTX 4090, the same sm80 kernels), both counted
// as flash-attn's benchmark does (causal halves the FLOPs; backward 2.5x the forward's). With
// e_f and e_b those shares of the 312 TFLOPS peak, time = (F/2)/e_f + (2.5 F/2)/e_b against the
// model's 3 F / eff: eff = 3 / (0.5 / e_f + 1.25 / e_b) = 0.625.
constexpr double kA100FlashAttention = 0.625;

// FlashAttention-2 and cuDNN 9.1 on an H100 SXM, causal, head dim 128, 16K tokens, in TFLOPs/s as
// flash-attn's benchmark counts them (Shah et al. 2024, FlashAttention-3, Figs. 5-6: forward
// FA2 335, cuDNN 539; backward without the mask FA2 322, cuDNN 516, the causal backward taken at
// the forward's causal / non-causal ratio, 335/370 and 539/595). Converted as for the A100
// above (eff = 3 / (0.5 / e_f + 1.25 / e_b)): FlashAttention-2 0.525, cuDNN 0.842, 1.60x. Later
// measurements agree: cuDNN's kernels 1.7-2.3x faster than SDPA's FlashAttention-2 for training
// shapes on Hopper (huggingface/transformers PR #48163, 2026), and SDPA still tries
// FlashAttention first (pytorch/pytorch issue #142132), so frameworks on SDPA keep its rate.
constexpr double kH100Peak = 989.4;  // dense bf16 TFLOPS of the H100 SXM datasheet (catalog)
constexpr double kH100FlashAttention2 =
    3.0 / (0.5 / (335.0 / kH100Peak) + 1.25 / (322.0 * 335.0 / 370.0 / kH100Peak));
constexpr double kH100CudnnAttention =
    3.0 / (0.5 / (539.0 / kH100Peak) + 1.25 / (516.0 * 539.0 / 595.0 / kH100Peak));

// A borrowing GPU whose matmul rate was measured runs its tensor cores at a different share of
// its datasheet peak than the donor (GeForce cards clock above their rated boost; some
// data-centre parts are power-bound below it): the donor's tensor-core constants are scaled by
// the ratio of the two shares. Element-wise, link and overhead constants are kept.
double MatmulScale(const Gpu& gpu) {
  if (gpu.matmul_flops <= 0 || gpu.bf16_flops <= 0) return 1.0;
  return gpu.matmul_flops / gpu.bf16_flops / DonorMatmulShare(gpu.arch);
}

Efficiency Scaled(Efficiency e, double scale) {
  e.gemm *= scale;
  e.gemm_fp8 *= scale;
  e.attention *= scale;
  return e;
}

}  // namespace

double FusedAttentionGain(Arch arch) {
  return HopperFamily(arch) ? kH100CudnnAttention / kH100FlashAttention2 : 1.0;
}

Efficiency EfficiencyFor(const Gpu& gpu) {
  // One set per architecture family, fitted once over all published runs of its GPUs; never
  // per run or per paper. `attention` is FlashAttention-2's, from kernel measurements on both
  // families (frameworks on Transformer Engine scale it by FusedAttentionGain).
  if (HopperFamily(gpu.arch)) {
    return Efficiency{.gemm = 0.69, .gemm_fp8 = 0.52, .gemm_half_dim = 128,
                      .attention = kH100FlashAttention2,
                      .hbm = 0.80, .link = 0.80, .step_overhead = 0.05};
  }
  // Volta, Ada, CDNA2/3/4, Gaudi 3 and GPUs without a stated architecture have no published runs
  // to fit: they borrow the A100's set. No A100 run of the fit uses fused attention (2020-22
  // Megatron), so `attention` comes from FlashAttention-2 kernel measurements instead (see
  // kA100FlashAttention above), not from a fit.
  return Efficiency{.gemm = 0.81, .gemm_fp8 = 0.81, .gemm_half_dim = 96,
                    .attention = kA100FlashAttention,
                    .hbm = 0.80, .link = 0.75, .step_overhead = 0.09};
}

Efficiency EfficiencyOf(const Cluster& c) {
  return c.calibration.provenance.source == CalibrationSource::kNone
             ? BuiltinCalibration(c.gpu).eff
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
  p.matmul_scale = MatmulScale(gpu);
  c.eff = Scaled(c.eff, p.matmul_scale);
  // Runs of a borrowing GPU (V100) measure how well the borrowed set does; never narrower
  // than the default for a borrowed set.
  p.band = std::min(kMaxBand, std::max(kBorrowedBand, p.max_error));
  return c;
}

}  // namespace planner
