// The built-in GPUs. Peaks are dense (no 2:4 sparsity), 16-bit and fp8 with fp32 accumulate.
// Memory is the total nvidia-smi (or rocm-smi) reports, which is what allocations count against.
// matmul_flops: the best bf16 torch.matmul rate (square sizes 1024-10240) users measured with one
// script, zzc0721/torch-performance-test-data database.md at 07858687 (the mean where several
// cards of the model are listed: 4090 24GB 170.06, 173.31, 162.39, 163.09; 3090 76.34, 76.68,
// 76.58; H100 80GB HBM3 789.24, 783.66). GeForce cards run above the boost clock their
// datasheet peak is rated at, so they reach or pass that peak; data-centre parts reach 75-85 %.
#include <utility>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/hardware.h"
#include "planner/model/units.h"

namespace planner {
namespace {

constexpr double kMiB = kGiB / 1024.0;  // nvidia-smi prints memory.total in MiB

// CUDA/ROCm context, cuBLAS workspace and allocator slack that a training process never gets.
// An estimate: a PyTorch process holds about 0.3-0.6 GiB before its first tensor.
constexpr double kContextBytes = 0.5 * kGiB;

}  // namespace

std::vector<Gpu> BuiltinGpus() {
  std::vector<Gpu> gpus = {
      // V100 has no bf16 and no TF32: bf16_flops is its fp16 tensor peak (fp32 accumulate).
      {.name = "v100-32gb",
       .aliases = "v100,v100-sxm2",
       .hbm_bytes = 32510 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 15.7 * kTera,
       .tf32_flops = 0,
       .bf16_flops = 125 * kTera,
       .fp8_flops = 0,
       .hbm_bytes_per_s = 900 * kGB,
       .intra_link = "nvlink2",
       .inter_link = "ib-hdr",
       .arch = Arch::kVolta,
       .source = "NVIDIA Tesla V100 datasheet (SXM2 32GB): FP32 15.7, Tensor 125 TFLOPS, "
                 "HBM2 900 GB/s; nvidia-smi total 32510 MiB"},
      {.name = "a100-40gb",
       .aliases = "a100,a100-sxm4-40gb",
       .hbm_bytes = 40960 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 19.5 * kTera,
       .tf32_flops = 156 * kTera,
       .bf16_flops = 312 * kTera,
       .fp8_flops = 0,
       .matmul_flops = 246.33 * kTera,
       .hbm_bytes_per_s = 1555 * kGB,
       .intra_link = "nvlink3",
       .inter_link = "ib-hdr",
       .arch = Arch::kAmpere,
       .source = "NVIDIA A100 Tensor Core GPU datasheet (SXM 40GB): FP32 19.5, TF32 156, "
                 "BF16 312 TFLOPS, HBM2 1555 GB/s; nvidia-smi total 40960 MiB"},
      {.name = "a100-80gb",
       .aliases = "a100,a100-sxm4-80gb",
       .hbm_bytes = 81920 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 19.5 * kTera,
       .tf32_flops = 156 * kTera,
       .bf16_flops = 312 * kTera,
       .fp8_flops = 0,
       .matmul_flops = 264.53 * kTera,
       .hbm_bytes_per_s = 2039 * kGB,
       .intra_link = "nvlink3",
       .inter_link = "ib-hdr",
       .arch = Arch::kAmpere,
       .source = "NVIDIA A100 Tensor Core GPU datasheet (SXM 80GB): FP32 19.5, TF32 156, "
                 "BF16 312 TFLOPS, HBM2e 2039 GB/s; nvidia-smi total 81920 MiB"},
      {.name = "h100-sxm",
       .aliases = "h100,h100-sxm5",
       .hbm_bytes = 81559 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 66.9 * kTera,
       .tf32_flops = 494.7 * kTera,
       .bf16_flops = 989.4 * kTera,
       .fp8_flops = 1978.9 * kTera,
       .matmul_flops = 786.45 * kTera,
       .hbm_bytes_per_s = 3350 * kGB,
       .intra_link = "nvlink4",
       .inter_link = "ib-ndr",
       .arch = Arch::kHopper,
       .source = "NVIDIA H100 Tensor Core GPU architecture whitepaper (SXM5, dense); "
                 "H100 datasheet HBM3 3.35 TB/s; nvidia-smi total 81559 MiB"},
      {.name = "h100-pcie",
       .aliases = "h100",
       .hbm_bytes = 81559 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 51.2 * kTera,
       .tf32_flops = 378 * kTera,
       .bf16_flops = 756.5 * kTera,
       .fp8_flops = 1513 * kTera,
       .hbm_bytes_per_s = 2000 * kGB,
       .intra_link = "pcie5",
       .inter_link = "ib-ndr",
       .arch = Arch::kHopper,
       .source = "NVIDIA H100 Tensor Core GPU architecture whitepaper (PCIe, dense); "
                 "H100 datasheet HBM2e 2 TB/s; nvidia-smi total 81559 MiB"},
      // H800: the H100 SXM for China with NVLink cut to 400 GB/s (200 one way); the catalog has
      // no such link yet, so its default is nvlink4 and tensor-parallel cost is optimistic.
      {.name = "h800",
       .aliases = "h800-sxm",
       .hbm_bytes = 81559 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 66.9 * kTera,
       .tf32_flops = 494.7 * kTera,
       .bf16_flops = 989.4 * kTera,
       .fp8_flops = 1978.9 * kTera,
       .hbm_bytes_per_s = 3350 * kGB,
       .intra_link = "nvlink4-h800",
       .inter_link = "ib-ndr",
       .arch = Arch::kHopper,
       .source = "NVIDIA H800 SXM5 product brief: H100 SXM5 compute and HBM3, NVLink 400 GB/s; "
                 "nvidia-smi total 81559 MiB"},
      {.name = "h200",
       .aliases = "h200-sxm",
       .hbm_bytes = 143771 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 66.9 * kTera,
       .tf32_flops = 494.7 * kTera,
       .bf16_flops = 989.4 * kTera,
       .fp8_flops = 1978.9 * kTera,
       .matmul_flops = 790.29 * kTera,
       .hbm_bytes_per_s = 4800 * kGB,
       .intra_link = "nvlink4",
       .inter_link = "ib-ndr",
       .arch = Arch::kHopper,
       .source = "NVIDIA H200 datasheet (SXM): 141 GB HBM3e at 4.8 TB/s, H100 SXM compute "
                 "(dense = half the sparse figures); nvidia-smi total 143771 MiB"},
      {.name = "b200",
       .aliases = "b200-sxm",
       .hbm_bytes = 183359 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 75 * kTera,
       .tf32_flops = 1100 * kTera,
       .bf16_flops = 2250 * kTera,
       .fp8_flops = 4500 * kTera,
       .matmul_flops = 1696.03 * kTera,
       .hbm_bytes_per_s = 7700 * kGB,
       .intra_link = "nvlink5",
       .inter_link = "ib-ndr",
       .arch = Arch::kBlackwell,
       .source = "NVIDIA HGX B200 datasheet, per GPU: FP32 75 TFLOPS, TF32 2.2, BF16 4.5, FP8 "
                 "9 PFLOPS sparse (halved for dense), 180 GB HBM3e at 7.7 TB/s; nvidia-smi "
                 "total 183359 MiB"},
      // GeForce cards run 16-bit tensor math with fp32 accumulate at half the fp16-accumulate
      // rate (4090: 165.2 vs 330.3 TFLOPS); training accumulates in fp32.
      {.name = "rtx-4090",
       .aliases = "4090,rtx4090",
       .hbm_bytes = 24564 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 82.6 * kTera,
       .tf32_flops = 82.6 * kTera,
       .bf16_flops = 165.2 * kTera,
       .fp8_flops = 330.3 * kTera,
       .matmul_flops = 167.21 * kTera,
       .hbm_bytes_per_s = 1008 * kGB,
       .intra_link = "pcie4",
       .inter_link = "ib-hdr",
       .arch = Arch::kAda,
       // NVIDIA disables PCIe peer-to-peer on GeForce cards (cudaDeviceCanAccessPeer is 0 for
       // 4090 pairs; NVIDIA developer forum, "Standard nVidia CUDA tests fail with dual RTX 4090
       // Linux box", 2022-12, answered by NVIDIA staff); the 3090's NVLink bridge is not modelled.
       .p2p = false,
       .source = "NVIDIA Ada GPU architecture whitepaper (RTX 4090, dense, "
                 "fp32 accumulate), GDDR6X 1008 GB/s; nvidia-smi total 24564 MiB"},
      {.name = "rtx-3090",
       .aliases = "3090,rtx3090",
       .hbm_bytes = 24576 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 35.6 * kTera,
       .tf32_flops = 35.6 * kTera,
       .bf16_flops = 71 * kTera,
       .fp8_flops = 0,
       .matmul_flops = 76.53 * kTera,
       .hbm_bytes_per_s = 936 * kGB,
       .intra_link = "pcie4",
       .inter_link = "ib-hdr",
       .arch = Arch::kAmpere,
       // NVIDIA disables PCIe peer-to-peer on GeForce cards (cudaDeviceCanAccessPeer is 0 for
       // 4090 pairs; NVIDIA developer forum, "Standard nVidia CUDA tests fail with dual RTX 4090
       // Linux box", 2022-12, answered by NVIDIA staff); the 3090's NVLink bridge is not modelled.
       .p2p = false,
       .source = "NVIDIA Ampere GA102 GPU architecture whitepaper (RTX 3090, dense, "
                 "fp32 accumulate), GDDR6X 936 GB/s; nvidia-smi total 24576 MiB"},
      // L40S is a PCIe Gen4 card; its servers ship with 200-400 GbE, roce-400 is an assumption.
      {.name = "l40s",
       .aliases = "l40s",
       .hbm_bytes = 46068 * kMiB,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 91.6 * kTera,
       .tf32_flops = 183 * kTera,
       .bf16_flops = 362.05 * kTera,
       .fp8_flops = 733 * kTera,
       .matmul_flops = 269.15 * kTera,
       .hbm_bytes_per_s = 864 * kGB,
       .intra_link = "pcie4",
       .inter_link = "roce-400",
       .arch = Arch::kAda,
       .source = "NVIDIA L40S datasheet (dense = half the sparse figures), 48 GB GDDR6 at 864 "
                 "GB/s, PCIe Gen4 x16; nvidia-smi total 46068 MiB"},
      {.name = "mi300x",
       .aliases = "mi300x",
       .hbm_bytes = 205822885888.0,
       .reserved_bytes = kContextBytes,
       .fp32_flops = 163.4 * kTera,
       .tf32_flops = 653.7 * kTera,
       .bf16_flops = 1307.4 * kTera,
       .fp8_flops = 2614.9 * kTera,
       .hbm_bytes_per_s = 5300 * kGB,
       .intra_link = "xgmi-mi300",
       .inter_link = "ib-ndr",
       .arch = Arch::kCdna3,
       .source = "AMD Instinct MI300X datasheet (dense): FP32 163.4, TF32 653.7, BF16 1307.4, "
                 "FP8 2614.9 TFLOPS, 192 GB HBM3 at 5.3 TB/s; rocm-smi total 205822885888 B"},
  };
  for (Gpu& g : RecentGpus()) gpus.push_back(std::move(g));
  return gpus;
}

}  // namespace planner
