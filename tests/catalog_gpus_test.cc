// The accelerators added for issue #14 load with their datasheets' figures, as `planner list
// gpus --format json` shows them, and with the links and domains their systems have.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "planner/cli/cli.h"
#include "planner/input/catalog.h"
#include "planner/model/units.h"

namespace planner {
namespace {

// The entry `name` of `planner list gpus --format json`.
nlohmann::json Listed(const std::string& name) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunCli({"list", "gpus", "--format", "json"}, out, err), 0) << err.str();
  for (const nlohmann::json& g : nlohmann::json::parse(out.str())) {
    if (g["name"] == name) return g;
  }
  ADD_FAILURE() << name << " is not listed";
  return nlohmann::json::object();
}

struct Figures {
  const char* name;
  double hbm_bytes;
  double bf16_tflops;
  double fp8_tflops;
  double hbm_gb_per_s;
  const char* intra_link;
  const char* inter_link;
};

// Dense peaks: half the sparse figures where a datasheet gives only those.
TEST(CatalogGpus, NewAcceleratorsListWithTheirDatasheetFigures) {
  const Figures expected[] = {
      // HGX B300: 2.3 TB over 8 GPUs (288 GB each); BF16 36, FP8 72 PFLOPS sparse over 8.
      {"b300", 288 * kGB, 2250, 4500, 8000, "nvlink5", "ib-xdr"},
      // GB300 NVL72: 20.7 TB over 72; BF16 360, FP8 720 PFLOPS sparse over 72; 576 TB/s / 72.
      {"gb300", 288 * kGB, 2500, 5000, 8000, "nvlink5", "ib-xdr"},
      // MI250X per GCD: 128 GB (8 x 16 GiB HBM2e), 383 TFLOPS BF16, 3.2768 TB/s, over 2 GCDs.
      {"mi250x-gcd", 64 * kGiB, 191.5, 0, 1638.4, "xgmi-mi250", "roce-200"},
      // MI355X: 288 GB HBM3E at 8 TB/s, FP16/BF16 2.5 PFLOPS, FP8 5.0 PFLOPS dense.
      {"mi355x", 288 * kGB, 2516.6, 5033.2, 8000, "xgmi-mi355", "ib-ndr"},
      // Gaudi 3: 128 GB HBM2e at 3.67 TB/s, 1835 TFLOPS BF16 and FP8 on the MMEs.
      {"gaudi3", 128 * kGB, 1835, 1835, 3670, "gaudi3-roce-21x200", "gaudi3-roce-3x200"},
  };
  for (const Figures& f : expected) {
    const nlohmann::json g = Listed(f.name);
    EXPECT_DOUBLE_EQ(g.value("hbm_bytes", 0.0), f.hbm_bytes) << f.name;
    EXPECT_NEAR(g.value("bf16_flops", 0.0), f.bf16_tflops * kTera, 1e6) << f.name;
    EXPECT_NEAR(g.value("fp8_flops", 0.0), f.fp8_tflops * kTera, 1e6) << f.name;
    EXPECT_NEAR(g.value("hbm_bytes_per_s", 0.0), f.hbm_gb_per_s * kGB, 1e3) << f.name;
    EXPECT_EQ(g.value("intra_link", ""), f.intra_link) << f.name;
    EXPECT_EQ(g.value("inter_link", ""), f.inter_link) << f.name;
  }
}

TEST(CatalogGpus, ArchitecturesAndDomainsFollowTheSystems) {
  const Catalog c = BuiltinCatalog();
  EXPECT_EQ(FindGpu(c, "gb300", "--gpu").scale_up_gpus, 72);  // GB300 NVL72: one NVLink domain
  EXPECT_EQ(FindGpu(c, "b300", "--gpu").scale_up_gpus, 0);    // HGX B300: a node of 8
  EXPECT_EQ(FindGpu(c, "mi250x", "--gpu").name, "mi250x-gcd");  // a ROCm device is a GCD
  EXPECT_EQ(FindGpu(c, "mi250x", "--gpu").arch, Arch::kCdna2);
  EXPECT_EQ(FindGpu(c, "mi355x", "--gpu").arch, Arch::kCdna4);
  EXPECT_EQ(FindGpu(c, "gaudi3", "--gpu").arch, Arch::kGaudi3);
}

TEST(CatalogGpus, NewLinksCarryTheirPortsAndLanes) {
  const Catalog c = BuiltinCatalog();
  // Gaudi 3: 21 of its 24 200 GbE ports inside the node, 3 out of it (25 GB/s each one way).
  EXPECT_DOUBLE_EQ(FindLink(c, "gaudi3-roce-21x200", "t").one_way_bytes_per_s, 21 * 25 * kGB);
  EXPECT_DOUBLE_EQ(FindLink(c, "gaudi3-roce-3x200", "t").one_way_bytes_per_s, 3 * 25 * kGB);
  // MI355X: 7 Infinity Fabric links of 153.6 GB/s both ways, 76.8 one way each.
  EXPECT_NEAR(FindLink(c, "xgmi-mi355", "t").one_way_bytes_per_s, 7 * 76.8 * kGB, 1e3);
  // MI250X: a ring of 8 GCDs crosses one 50 GB/s (each way) link between modules.
  EXPECT_DOUBLE_EQ(FindLink(c, "xgmi-mi250", "t").one_way_bytes_per_s, 50 * kGB);
}

}  // namespace
}  // namespace planner
