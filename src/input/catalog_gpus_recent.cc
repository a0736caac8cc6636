// GPUs added for issue #14: the GB200 NVL72 rack, export and workstation parts, AMD's CDNA3
// refresh. Peaks are dense (half the datasheets' sparse figures where only those are given).
// Memory is the datasheet's capacity in GB (1e9 bytes), not an nvidia-smi total: none was
// measured here.
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/hardware.h"
#include "planner/model/units.h"

namespace planner {
namespace {

// As catalog_gpus.cc: context, workspaces and allocator slack a training process never gets.
constexpr double kContextBytes = 0.5 * kGiB;

}  // namespace

std::vector<Gpu> RecentGpus() {
  return {
      // NVL72: 72 Blackwell GPUs (18 compute trays of 4) on one NVLink 5 switch fabric, so TP,
      // CP and EP may span trays; the rack's scale-up domain is the GPU's default.
      {.name = "gb200",
       .aliases = "gb200-nvl72",
       .hbm_bytes = 186 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 80 * kTera,
       .tf32_flops = 1250 * kTera,
       .bf16_flops = 2500 * kTera,
       .fp8_flops = 5000 * kTera,
       .hbm_bytes_per_s = 8000 * kGB,
       .intra_link = "nvlink5",
       .inter_link = "ib-ndr",
       .arch = Arch::kBlackwell,
       // NVLink-C2C joins a Grace CPU to two B200s at 900 GB/s both ways together: 225 GB/s
       // one way a GPU when both copy at once.
       .host_link_bytes_per_s = 225 * kGB,
       // Each Grace has up to 480 GB of LPDDR5X for its two GPUs (36 x 480 GB = the rack's
       // "up to 17 TB").
       .host_bytes = 240 * kGB,
       .scale_up_gpus = 72,
       .source = "NVIDIA GB200 NVL72 datasheet, rack figures / 72: FP32 5,760 TFLOPS, TF32 180, "
                 "BF16 360, FP8 720 PFLOPS sparse (halved for dense), 13.4 TB HBM3e at 576 "
                 "TB/s; NVLink 5 130 TB/s (1.8 TB/s per GPU) over all 72 GPUs; NVLink-C2C "
                 "900 GB/s bidirectional per Grace and two GPUs; up to 17 TB LPDDR5X (480 GB "
                 "per Grace)"},
      {.name = "h20",
       .hbm_bytes = 96 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 44 * kTera,
       .tf32_flops = 74 * kTera,
       .bf16_flops = 148 * kTera,
       .fp8_flops = 296 * kTera,
       .matmul_flops = 141.86 * kTera,
       .hbm_bytes_per_s = 4000 * kGB,
       .intra_link = "nvlink4",
       .inter_link = "ib-ndr",
       .arch = Arch::kHopper,
       .source = "NVIDIA H20 product brief: 96 GB HBM3 at 4.0 TB/s, FP32 44, TF32 74, "
                 "BF16 148, FP8 296 TFLOPS dense, NVLink 900 GB/s"},
      {.name = "rtx-a6000",
       .aliases = "a6000",
       .hbm_bytes = 48 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 38.7 * kTera,
       .tf32_flops = 77.4 * kTera,
       .bf16_flops = 154.8 * kTera,
       .fp8_flops = 0,
       .matmul_flops = 123.34 * kTera,
       .hbm_bytes_per_s = 768 * kGB,
       .intra_link = "pcie4",
       .inter_link = "ib-hdr",
       .arch = Arch::kAmpere,
       .source = "NVIDIA RTX A6000 datasheet: 48 GB GDDR6 at 768 GB/s, FP32 38.7 TFLOPS, "
                 "tensor 309.7 TFLOPS sparse (BF16 154.8 dense)"},
      {.name = "a40",
       .hbm_bytes = 48 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 37.4 * kTera,
       .tf32_flops = 74.8 * kTera,
       .bf16_flops = 149.7 * kTera,
       .fp8_flops = 0,
       .hbm_bytes_per_s = 696 * kGB,
       .intra_link = "pcie4",
       .inter_link = "ib-hdr",
       .arch = Arch::kAmpere,
       .source = "NVIDIA A40 datasheet: 48 GB GDDR6 at 696 GB/s, FP32 37.4, TF32 74.8, BF16 "
                 "149.7 TFLOPS dense"},
      {.name = "l40",
       .hbm_bytes = 48 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 90.5 * kTera,
       .tf32_flops = 90.5 * kTera,
       .bf16_flops = 181 * kTera,
       .fp8_flops = 362 * kTera,
       .hbm_bytes_per_s = 864 * kGB,
       .intra_link = "pcie4",
       .inter_link = "roce-400",
       .arch = Arch::kAda,
       .source = "NVIDIA L40 datasheet: 48 GB GDDR6 at 864 GB/s, FP32 90.5, TF32 181, BF16 "
                 "362, FP8 724 TFLOPS sparse (halved for dense but FP32)"},
      {.name = "mi325x",
       .hbm_bytes = 256 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 163.4 * kTera,
       .tf32_flops = 653.7 * kTera,
       .bf16_flops = 1307.4 * kTera,
       .fp8_flops = 2614.9 * kTera,
       .hbm_bytes_per_s = 6000 * kGB,
       .intra_link = "xgmi-mi300",
       .inter_link = "ib-ndr",
       .arch = Arch::kCdna3,
       .source = "AMD Instinct MI325X datasheet: 256 GB HBM3E at 6 TB/s, FP32 163.4, TF32 "
                 "653.7, BF16 1307.4, FP8 2614.9 TFLOPS dense; MI300X's Infinity Fabric"},
      // Blackwell Ultra. The planner has no fp4 precision: the dense FP4 peak is in the source
      // only. HBM3e bandwidth: the GB300 NVL72 rack's 576 TB/s over 72 GPUs (the same stacks).
      {.name = "b300",
       .aliases = "b300-sxm,hgx-b300",
       .hbm_bytes = 288 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 75 * kTera,
       .tf32_flops = 1125 * kTera,
       .bf16_flops = 2250 * kTera,
       .fp8_flops = 4500 * kTera,
       .hbm_bytes_per_s = 8000 * kGB,
       .intra_link = "nvlink5",
       .inter_link = "ib-xdr",
       .arch = Arch::kBlackwell,
       .source = "NVIDIA HGX B300 datasheet, 8 GPUs / 8: FP32 600 TFLOPS, TF32 18, BF16 36, FP8 "
                 "72 PFLOPS sparse (halved for dense), FP4 108 PFLOPS dense (13.5 per GPU), up "
                 "to 2.3 TB HBM3e (288 GB per GPU); NVLink 5 1.8 TB/s per GPU; networking 1.6 "
                 "TB/s per 8 GPUs (one 800 Gb/s ConnectX-8 per GPU)"},
      {.name = "gb300",
       .aliases = "gb300-nvl72",
       .hbm_bytes = 288 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 80 * kTera,
       .tf32_flops = 1250 * kTera,
       .bf16_flops = 2500 * kTera,
       .fp8_flops = 5000 * kTera,
       .hbm_bytes_per_s = 8000 * kGB,
       .intra_link = "nvlink5",
       .inter_link = "ib-xdr",
       .arch = Arch::kBlackwell,
       .scale_up_gpus = 72,
       .source = "NVIDIA GB300 NVL72 datasheet, rack figures / 72: TF32 180, BF16 360, FP8 720 "
                 "PFLOPS sparse (halved for dense), FP4 1,080 PFLOPS dense (15 per GPU), up to "
                 "20.7 TB HBM3e (288 GB per GPU) at 576 TB/s; NVLink 5 130 TB/s (1.8 TB/s per "
                 "GPU) over all 72 GPUs; one 800 Gb/s ConnectX-8 per GPU. FP32 80 TFLOPS per "
                 "GPU: Verda, \"NVIDIA GB300 NVL72: GPU Architecture & Performance\""},
      // A catalog GPU here is one GCD, not the OAM module: an MI250X carries two dies with their
      // own HBM, ROCm shows each as a device, and frameworks run one rank per GCD (8 on a node
      // of 4 modules, e.g. Frontier or LUMI). Every figure is the module's over 2. CDNA2 has no
      // TF32: a tf32 request runs at the FP32 matrix rate.
      {.name = "mi250x-gcd",
       .aliases = "mi250x",
       .hbm_bytes = 64 * kGiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 23.95 * kTera,
       .tf32_flops = 47.85 * kTera,
       .bf16_flops = 191.5 * kTera,
       .fp8_flops = 0,
       .hbm_bytes_per_s = 1638.4 * kGB,
       .intra_link = "xgmi-mi250",
       .inter_link = "roce-200",
       .arch = Arch::kCdna2,
       .source = "AMD Instinct MI250X datasheet, per module / 2 GCDs: FP32 vector 47.9, FP32 "
                 "matrix 95.7, FP16/BF16 383.0 TFLOPS, 128 GB HBM2e (8 x 16 GiB stacks) at "
                 "3.2768 TB/s; one GCD is one ROCm device. Nodes of 4 modules have 4 Slingshot "
                 "200 Gb/s NICs (pass --nics-per-node 4)"},
      // CDNA4 lists no TF32 (its matrix cores take fp32 at 157.3 TFLOPS, used for tf32 here).
      {.name = "mi355x",
       .hbm_bytes = 288 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 157.3 * kTera,
       .tf32_flops = 157.3 * kTera,
       .bf16_flops = 2516.6 * kTera,
       .fp8_flops = 5033.2 * kTera,
       .hbm_bytes_per_s = 8000 * kGB,
       .intra_link = "xgmi-mi355",
       .inter_link = "ib-ndr",
       .arch = Arch::kCdna4,
       .source = "AMD Instinct MI355X datasheet: 288 GB HBM3E at 8 TB/s, FP32 157.3 TFLOPS, "
                 "FP16/BF16 2.5 PFLOPS (2516.6 TFLOPS), FP8 5.0 PFLOPS (5033.2) dense (256 "
                 "CUs at 2.4 GHz); 7 Infinity Fabric links of 153.6 GB/s"},
      // Gaudi 3 is not a GPU: its 8 matrix engines (MME) run BF16 and FP8 at one rate. Its 24
      // on-chip 200 GbE RoCE ports are both fabrics: in Intel's HLS-Gaudi3 baseboard 21 join the
      // 8 cards of a node all-to-all (3 to each peer) and 3 leave the node.
      {.name = "gaudi3",
       .aliases = "gaudi-3,hl-325l",
       .hbm_bytes = 128 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 28.7 * kTera,
       .tf32_flops = 0,
       .bf16_flops = 1835 * kTera,
       .fp8_flops = 1835 * kTera,
       .hbm_bytes_per_s = 3670 * kGB,
       .intra_link = "gaudi3-roce-21x200",
       .inter_link = "gaudi3-roce-3x200",
       .arch = Arch::kGaudi3,
       .source = "Intel Gaudi 3 AI accelerator (Hot Chips 2024, Kaplan; Intel Gaudi 3 white "
                 "paper): BF16 and FP8 matrix 1835 TFLOPS, BF16 vector 28.7 TFLOPS (no FP32 or "
                 "TF32 figure is published; the vector peak stands in for FP32), 128 GB HBM2e at "
                 "3.67 TB/s, 24 x 200 GbE RoCE on chip (1200 GB/s both ways)"},
  };
}

}  // namespace planner
