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
       .scale_up_gpus = 72,
       .source = "NVIDIA GB200 NVL72 datasheet, rack figures / 72: FP32 5,760 TFLOPS, TF32 180, "
                 "BF16 360, FP8 720 PFLOPS sparse (halved for dense), 13.4 TB HBM3e at 576 "
                 "TB/s; NVLink 5 130 TB/s (1.8 TB/s per GPU) over all 72 GPUs"},
      {.name = "h20",
       .hbm_bytes = 96 * kGB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 44 * kTera,
       .tf32_flops = 74 * kTera,
       .bf16_flops = 148 * kTera,
       .fp8_flops = 296 * kTera,
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
  };
}

}  // namespace planner
