// Borrowed constants scaled by a GPU's measured matmul rate (cost_models/calibration.cc): the
// rates are the ones src/input/catalog_gpus.cc cites (zzc0721/torch-performance-test-data).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "planner/cost/calibration.h"
#include "planner/input/catalog.h"
#include "planner/model/error.h"
#include "planner/model/units.h"
#include "planner/render/calibration_output.h"
#include "test_util.h"

namespace planner {
namespace {

Gpu Builtin(const std::string& name) {
  static const Catalog catalog = BuiltinCatalog();
  return FindGpu(catalog, name, "--gpu");
}

TEST(MatmulScale, DonorSharesAreTheCatalogsMeasuredRates) {
  // A100: mean of the 40GB and 80GB shares; H100 SXM: its own.
  const Gpu a40 = Builtin("a100-40gb");
  const Gpu a80 = Builtin("a100-80gb");
  const Gpu h100 = Builtin("h100-sxm");
  EXPECT_NEAR(DonorMatmulShare(Arch::kAmpere),
              (a40.matmul_flops / a40.bf16_flops + a80.matmul_flops / a80.bf16_flops) / 2.0, 1e-12);
  EXPECT_NEAR(DonorMatmulShare(Arch::kHopper), h100.matmul_flops / h100.bf16_flops, 1e-12);
  // By hand: (246.33 + 264.53) / 2 / 312 = 0.81868; 786.45 / 989.4 = 0.79487.
  EXPECT_NEAR(DonorMatmulShare(Arch::kAda), 0.81868, 1e-5);
  EXPECT_NEAR(DonorMatmulShare(Arch::kBlackwell), 0.79487, 1e-5);
}

TEST(MatmulScale, Rtx4090RunsItsTensorCoresAboveTheA100sShare) {
  // 167.21 / 165.2 = 1.01217 of its datasheet peak against the A100's 0.81868: x1.23634.
  const Calibration c = BuiltinCalibration(Builtin("rtx-4090"));
  EXPECT_NEAR(c.provenance.matmul_scale, 1.23634, 1e-5);
  EXPECT_NEAR(c.eff.gemm, 0.81 * 1.23634, 1e-5);
  EXPECT_NEAR(c.eff.attention, 0.625 * 1.23634, 1e-5);
  // Memory, links and overheads keep the donor's constants.
  EXPECT_EQ(c.eff.hbm, EfficiencyFor(Builtin("rtx-4090")).hbm);
  EXPECT_EQ(c.eff.step_overhead, EfficiencyFor(Builtin("rtx-4090")).step_overhead);
}

TEST(MatmulScale, AmpereAttentionIsFlashAttention2sMeasuredRate) {
  // cost_models/calibration.cc: forward 156.27 TFLOPs/s (A100, causal, head dim 128, 4096
  // tokens), backward at 99.23 / 151.19 of it, in flash-attn's accounting (causal halves the
  // FLOPs, backward 2.5x); the model counts 4 s^2 b h d forward and twice that backward:
  // 3 / (0.5 / e_f + 1.25 / e_b) with e = rate / 312 TFLOPS.
  const double ef = 156.27 / 312.0, eb = 156.27 * 99.23 / 151.19 / 312.0;
  EXPECT_NEAR(EfficiencyFor(Builtin("a100-80gb")).attention, 3.0 / (0.5 / ef + 1.25 / eb), 1e-3);
  // The Hopper set's comes from FlashAttention-2 and cuDNN on an H100 the same way
  // (FlashAttention-3 paper, Figs. 5-6: forward 335 and 539 TFLOPs/s causal, backward 322 and 516
  // without the mask, scaled by the forward's causal / non-causal ratio, 335/370 and 539/595).
  const auto eff = [](double fwd, double bwd) {
    return 3.0 / (0.5 / (fwd / 989.4) + 1.25 / (bwd / 989.4));
  };
  const double fa2 = eff(335.0, 322.0 * 335.0 / 370.0);
  const double cudnn = eff(539.0, 516.0 * 539.0 / 595.0);
  EXPECT_NEAR(fa2, 0.5246, 1e-4);
  EXPECT_NEAR(cudnn, 0.8418, 1e-4);
  EXPECT_NEAR(EfficiencyFor(Builtin("h100-sxm")).attention, fa2, 1e-9);
  EXPECT_NEAR(FusedAttentionGain(Arch::kHopper), cudnn / fa2, 1e-9);
  EXPECT_NEAR(FusedAttentionGain(Arch::kBlackwell), cudnn / fa2, 1e-9);
  // Transformer Engine picks FlashAttention itself on Ampere: no gain there.
  EXPECT_EQ(FusedAttentionGain(Arch::kAmpere), 1.0);
}

TEST(MatmulScale, B200IsPowerBoundBelowTheH100sShare) {
  // 1696.03 / 2250 = 0.75379 against 0.79487: x0.94832.
  const Calibration c = BuiltinCalibration(Builtin("b200"));
  EXPECT_NEAR(c.provenance.matmul_scale, 0.94832, 1e-5);
  EXPECT_NEAR(c.eff.gemm, 0.69 * 0.94832, 1e-5);
}

TEST(MatmulScale, BorrowedBandIsTwiceTheWorstFittedErrorOrTheWorstBorrowedOne) {
  // include/planner/cost/calibration.h: a borrowed set's band is twice the largest max error of
  // the fitted GPUs, or the largest max error measured on a borrowing GPU's runs when larger,
  // rounded up to the next hundredth.
  double worst_fitted = 0, worst_borrowed = 0;
  for (const Gpu& g : BuiltinCatalog().gpus) {
    const Calibration c = BuiltinCalibration(g);
    if (c.provenance.source == CalibrationSource::kFitted) {
      worst_fitted = std::max(worst_fitted, c.provenance.max_error);
    } else {
      worst_borrowed = std::max(worst_borrowed, c.provenance.max_error);
    }
  }
  EXPECT_DOUBLE_EQ(worst_fitted, 0.119);    // a100-40gb
  EXPECT_DOUBLE_EQ(worst_borrowed, 0.260);  // gb200, bench/validation/more-runs.jsonl
  EXPECT_DOUBLE_EQ(kBorrowedBand,
                   std::ceil(100.0 * std::max(2.0 * worst_fitted, worst_borrowed)) / 100.0);
}

TEST(MatmulScale, FittedAndUnmeasuredGpusKeepTheirSet) {
  for (const std::string name : {"a100-80gb", "h100-sxm", "gb200", "mi300x"}) {
    const Calibration c = BuiltinCalibration(Builtin(name));
    EXPECT_EQ(c.provenance.matmul_scale, 1.0) << name;
    EXPECT_EQ(c.eff, EfficiencyFor(Builtin(name))) << name;
  }
}

TEST(MatmulScale, TheConstantsLineSaysTheScale) {
  const Outcome r = Cli({"evaluate", "--model", "llama2-7b", "--gpu", "rtx-4090", "--gpus", "8",
                         "--tp", "1", "--pp", "1", "--zero", "3", "--recompute", "full"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::string prose = r.out;
  std::replace(prose.begin(), prose.end(), '\n', ' ');
  EXPECT_NE(prose.find("BORROWED from a100, tensor-core rate x1.24 by its measured matmul"),
            std::string::npos)
      << r.out;
  const Outcome j =
      Cli({"evaluate", "--model", "llama2-7b", "--gpu", "rtx-4090", "--gpus", "8", "--tp", "1",
           "--pp", "1", "--zero", "3", "--recompute", "full", "--format", "json"});
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_NEAR(
      nlohmann::json::parse(j.out).at("plan").at("calibration").at("matmul_scale").get<double>(),
      1.23634, 1e-5);
}

TEST(MatmulScale, ListGpusShowsTheScaleAndFitsEightyColumns) {
  const Outcome r = Cli({"list", "gpus"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::istringstream lines(r.out);
  bool shown = false;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 80u) << line;
    if (line.rfind("rtx-4090 ", 0) == 0) shown = line.find("a100 x1.24") != std::string::npos;
  }
  EXPECT_TRUE(shown) << r.out;
}

TEST(MatmulScale, CatalogFileRateIsReadAndAnImpossibleOneRefused) {
  const std::string gpu = R"({"gpus": [{"name": "mm", "hbm_gib": 24, "fp32_tflops": 80,
      "bf16_tflops": 100, "hbm_gb_per_s": 1000, "intra_link": "pcie4", "inter_link": "ib-hdr",
      "arch": "Ada", "matmul_tflops": )";
  Catalog c = BuiltinCatalog();
  ExtendCatalogJson(c, gpu + "90}]}", "my.json");
  // 90 / 100 over the A100's 0.81868.
  EXPECT_NEAR(BuiltinCalibration(FindGpu(c, "mm", "--gpu")).provenance.matmul_scale, 0.9 / 0.81868,
              1e-4);
  Catalog bad = BuiltinCatalog();
  try {
    ExtendCatalogJson(bad, gpu + "250}]}", "my.json");
    ADD_FAILURE() << "a matmul rate 2.5x the peak was accepted";
  } catch (const InputError& e) {
    EXPECT_NE((e.where() + e.what()).find("matmul_tflops"), std::string::npos) << e.what();
  }
}

TEST(MatmulScale, RangesNeverPassThePeak) {
  // A plan at 80 % MFU with a +/-36 % band: 6.4 s would need 125 % of the peak, so the fast end
  // is the step at 100 % MFU, 10 x 0.8 = 8 s; tokens/s at most 100 / 0.8; MFU at most 100 %.
  EXPECT_DOUBLE_EQ(StepRange(10, 0.36, 0.8).low, 8.0);
  EXPECT_DOUBLE_EQ(StepRange(10, 0.36, 0.8).high, 13.6);
  EXPECT_DOUBLE_EQ(RateRange(100, 0.36, 0.8).high, 125.0);
  EXPECT_DOUBLE_EQ(RateRange(80, 0.36, 0.8).high, 100.0);
  // At 40 % MFU the band stands: 10 x 0.64 = 6.4 s.
  EXPECT_DOUBLE_EQ(StepRange(10, 0.36, 0.4).low, 6.4);
}

}  // namespace
}  // namespace planner
