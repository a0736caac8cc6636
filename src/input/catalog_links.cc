// The built-in links. Bandwidths are per GPU (or per NIC port) in GB/s = 1e9 bytes/s; two-way
// is both directions at once, as vendors quote it.
//
// Latencies are estimates of one message's start-up cost, not datasheet figures: NCCL's own
// tuning model (src/graph/tuning.cc, hwLat) charges 0.4-5.7 us per step over NVLink or PCIe and
// 0.9-6.6 us over the network, by protocol. We take about 2 us for NVLink / Infinity Fabric,
// 3 us for PCIe (often through a host bridge) and 5 us for InfiniBand and RoCE.
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/hardware.h"
#include "planner/model/units.h"

namespace planner {
namespace {

constexpr double kNvlinkLatencyS = 2e-6;
constexpr double kPcieLatencyS = 3e-6;
constexpr double kNetworkLatencyS = 5e-6;

// One port of a network link of `gbit` Gbit/s, full duplex.
Link Nic(const char* name, double gbit, const char* source) {
  return {.name = name,
          .one_way_bytes_per_s = gbit * kGbit,
          .two_way_bytes_per_s = 2 * gbit * kGbit,
          .latency_s = kNetworkLatencyS,
          .source = source};
}

}  // namespace

std::vector<Link> BuiltinLinks() {
  return {
      // PCIe x16 after 128b/130b encoding is 15.75 / 31.5 / 63 GB/s one way; rounded as usual.
      {.name = "pcie3",
       .one_way_bytes_per_s = 16 * kGB,
       .two_way_bytes_per_s = 32 * kGB,
       .latency_s = kPcieLatencyS,
       .source = "PCI Express Base Specification 3.0, x16 at 8 GT/s"},
      {.name = "pcie4",
       .one_way_bytes_per_s = 32 * kGB,
       .two_way_bytes_per_s = 64 * kGB,
       .latency_s = kPcieLatencyS,
       .source = "PCI Express Base Specification 4.0, x16 at 16 GT/s; formulas.md sec. 6 "
                 "(64 GB/s both ways, 32 one way)"},
      {.name = "pcie5",
       .one_way_bytes_per_s = 64 * kGB,
       .two_way_bytes_per_s = 128 * kGB,
       .latency_s = kPcieLatencyS,
       .source = "PCI Express Base Specification 5.0, x16 at 32 GT/s"},
      {.name = "nvlink2",
       .one_way_bytes_per_s = 150 * kGB,
       .two_way_bytes_per_s = 300 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "NVIDIA Tesla V100 datasheet: NVLink 300 GB/s (6 links x 25 GB/s each way)"},
      {.name = "nvlink3",
       .one_way_bytes_per_s = 300 * kGB,
       .two_way_bytes_per_s = 600 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "NVIDIA A100 datasheet: NVLink 600 GB/s (12 links x 25 GB/s each way)"},
      {.name = "nvlink4",
       .one_way_bytes_per_s = 450 * kGB,
       .two_way_bytes_per_s = 900 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "NVIDIA H100 datasheet: NVLink 900 GB/s (18 links x 25 GB/s each way); "
                 "formulas.md sec. 6"},
      {.name = "nvlink4-h800",
       .one_way_bytes_per_s = 200 * kGB,
       .two_way_bytes_per_s = 400 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "NVIDIA H800 SXM5 product brief: NVLink 400 GB/s (the export-limited H100)"},
      {.name = "nvlink5",
       .one_way_bytes_per_s = 900 * kGB,
       .two_way_bytes_per_s = 1800 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "NVIDIA HGX B200 datasheet: NVLink 1.8 TB/s per GPU (18 links x 50 GB/s each "
                 "way)"},
      // MI300X: 7 Infinity Fabric links of 64 GB/s each way, one to each peer of a fully
      // connected 8-GPU node. 448 GB/s is reached only when a GPU sends to all 7 peers at once
      // (RCCL's multi-ring collectives over the mesh); between one pair it is 64 GB/s.
      {.name = "xgmi-mi300",
       .one_way_bytes_per_s = 448 * kGB,
       .two_way_bytes_per_s = 896 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "AMD Instinct MI300X datasheet: 7 Infinity Fabric links, 128 GB/s each "
                 "(both ways), 896 GB/s aggregate"},
      // MI250X, one GCD per device (catalog_gpus_recent.cc): the two GCDs of a module share 4
      // links (200 GB/s each way), GCDs of different modules 1 or 2 links of 50 GB/s each way.
      // A ring over a node's 8 GCDs crosses modules, so its slowest hop is one 50 GB/s link.
      {.name = "xgmi-mi250",
       .one_way_bytes_per_s = 50 * kGB,
       .two_way_bytes_per_s = 100 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "AMD Instinct MI250X datasheet: 8 Infinity Fabric links, 800 GB/s aggregate "
                 "(50 GB/s each way per link); OLCF Frontier user guide, node diagram"},
      // MI355X: as MI300X, a fully connected 8-GPU node over 7 links, now 76.8 GB/s each way.
      {.name = "xgmi-mi355",
       .one_way_bytes_per_s = 537.6 * kGB,
       .two_way_bytes_per_s = 1075.2 * kGB,
       .latency_s = kNvlinkLatencyS,
       .source = "AMD Instinct MI355X datasheet: 7 Infinity Fabric links of 153.6 GB/s (both "
                 "ways), 1075.2 GB/s aggregate"},
      // Gaudi 3's on-chip RoCE ports (HLS-Gaudi3 baseboard): 21 x 200 GbE to the 7 peers of a
      // node (3 each), all sending at once in a collective; 3 x 200 GbE per card leave the node.
      Nic("gaudi3-roce-21x200", 21 * 200,
          "Intel Gaudi 3 (Hot Chips 2024): 24 x 200 GbE RoCE on chip, 21 all-to-all inside an "
          "8-card node"),
      Nic("gaudi3-roce-3x200", 3 * 200,
          "Intel Gaudi 3 (Hot Chips 2024): 3 of the 24 200 GbE ports per card go to the "
          "scale-out network"),
      Nic("ib-hdr", 200, "NVIDIA ConnectX-6 / Quantum HDR InfiniBand: 200 Gb/s per port"),
      Nic("ib-ndr", 400, "NVIDIA ConnectX-7 / Quantum-2 NDR InfiniBand: 400 Gb/s per port"),
      Nic("ib-xdr", 800, "NVIDIA ConnectX-8 / Quantum-X800 XDR InfiniBand: 800 Gb/s per port"),
      Nic("roce-100", 100, "RoCE v2 over 100 GbE (e.g. ConnectX-5/6): 100 Gb/s per port"),
      Nic("roce-200", 200, "RoCE v2 over 200 GbE (e.g. ConnectX-6): 200 Gb/s per port"),
      Nic("roce-400", 400, "RoCE v2 over 400 GbE (e.g. ConnectX-7): 400 Gb/s per port"),
  };
}

}  // namespace planner
