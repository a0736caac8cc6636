// A GPU's architecture is parsed once, when the catalog loads: a misspelt one is refused with
// its JSON path instead of silently getting another architecture's calibration.
#include <gtest/gtest.h>

#include <string>

#include "planner/cost/step_time.h"
#include "planner/input/catalog.h"
#include "planner/model/error.h"

namespace planner {
namespace {

// A catalog file's text with one GPU whose "arch" entry is `arch_entry` ("" leaves it out).
std::string GpuJson(const std::string& arch_entry) {
  return R"({"gpus": [{"name": "arch-test", "hbm_gib": 80, "fp32_tflops": 60,
      "bf16_tflops": 900, "hbm_gb_per_s": 3000, "intra_link": "nvlink4",
      "inter_link": "ib-ndr")" +
         (arch_entry.empty() ? "" : ", " + arch_entry) + "}]}";
}

// The built-in catalog extended with that GPU, or the InputError it refuses it with.
Gpu Loaded(const std::string& arch_entry) {
  Catalog c = BuiltinCatalog();
  ExtendCatalogJson(c, GpuJson(arch_entry), "my.json");
  return FindGpu(c, "arch-test", "--gpu");
}

InputError Refusal(const std::string& arch_entry) {
  try {
    Loaded(arch_entry);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError for " << arch_entry;
  return InputError("", "");
}

TEST(CatalogArch, EveryArchitectureLoadsByItsCatalogName) {
  for (const Arch arch : kArchs) {
    const std::string name = ArchName(arch);
    EXPECT_EQ(Loaded("\"arch\": \"" + name + "\"").arch, arch) << name;
  }
}

TEST(CatalogArch, VendorCapitalisationLoadsAsTheSameArchitecture) {
  EXPECT_EQ(Loaded(R"("arch": "Hopper")").arch, Arch::kHopper);
  EXPECT_EQ(Loaded(R"("arch": "CDNA3")").arch, Arch::kCdna3);
}

TEST(CatalogArch, CapitalisedHopperGetsHoppersCalibration) {
  // Compared as a whole with the built-in H100's: "Hopper" once fell through to the defaults.
  const Efficiency hopper = EfficiencyFor(FindGpu(BuiltinCatalog(), "h100-sxm", "--gpu"));
  const Efficiency loaded = EfficiencyFor(Loaded(R"("arch": "Hopper")"));
  EXPECT_EQ(loaded.gemm, hopper.gemm);
  EXPECT_EQ(loaded.gemm_fp8, hopper.gemm_fp8);
  EXPECT_EQ(loaded.gemm_half_dim, hopper.gemm_half_dim);
  EXPECT_EQ(loaded.step_overhead, hopper.step_overhead);
}

TEST(CatalogArch, AbsentArchIsUnstated) {
  EXPECT_EQ(Loaded("").arch, Arch::kUnstated);
  EXPECT_STREQ(ArchName(Arch::kUnstated), "");
}

TEST(CatalogArch, MisspeltArchIsRefusedWithItsPathAndASuggestion) {
  const InputError e = Refusal(R"("arch": "hoper")");
  EXPECT_EQ(e.where(), "my.json: gpus[0].arch");
  EXPECT_STREQ(e.what(),
               "unknown architecture 'hoper' (known: volta, ampere, ada, hopper, blackwell, "
               "cdna3, cdna2, cdna4, gaudi3); did you mean hopper?");
}

TEST(CatalogArch, UnknownArchWithNothingCloseListsTheKnownOnes) {
  const InputError e = Refusal(R"("arch": "tpu-v5e")");
  EXPECT_EQ(e.where(), "my.json: gpus[0].arch");
  EXPECT_STREQ(e.what(),
               "unknown architecture 'tpu-v5e' (known: volta, ampere, ada, hopper, blackwell, "
               "cdna3, cdna2, cdna4, gaudi3)");
}

TEST(CatalogArch, EmptyOrNonStringArchIsRefused) {
  EXPECT_EQ(Refusal(R"("arch": "")").where(), "my.json: gpus[0].arch");
  EXPECT_STREQ(Refusal(R"("arch": 9)").what(), "expected a string, got 9");
}

}  // namespace
}  // namespace planner
