#include "planner/model/hardware.h"

#include <algorithm>

#include "planner/model/units.h"

namespace planner {

double Gpu::PeakFlops(Precision p) const {
  switch (p) {
    case Precision::kFp32: return fp32_flops;
    case Precision::kTf32: return tf32_flops;
    case Precision::kBf16:
    case Precision::kFp16: return bf16_flops;
    case Precision::kFp8: return fp8_flops;
  }
  return 0;
}

double Cluster::inter_bytes_per_s_per_gpu() const {
  // The node's NICs are shared by the GPUs that send at once; a GPU never gets more than one NIC.
  const double share = static_cast<double>(nics_per_node) /
                       static_cast<double>(std::max<int64_t>(1, std::min(gpus, gpus_per_node)));
  return inter.one_way_bytes_per_s * std::min(1.0, share);
}

double Cluster::HostBytesPerNode() const {
  if (host_bytes_per_node > 0) return host_bytes_per_node;
  const double gpus_here = static_cast<double>(gpus_per_node);
  if (gpu.host_bytes > 0) return gpu.host_bytes * gpus_here;
  if (gpus_per_node >= 8 && gpu.hbm_bytes >= 80e9) return 1024.0 * kGiB;
  return 4.0 * gpu.hbm_bytes * gpus_here;
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kTf32: return "tf32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
    case Precision::kFp8: return "fp8";
  }
  return "?";
}

double BytesPerActivation(Precision p) {
  return p == Precision::kFp32 || p == Precision::kTf32 ? 4.0 : 2.0;
}

const char* ArchName(Arch a) {
  switch (a) {
    case Arch::kUnstated: return "";
    case Arch::kVolta: return "volta";
    case Arch::kAmpere: return "ampere";
    case Arch::kAda: return "ada";
    case Arch::kHopper: return "hopper";
    case Arch::kBlackwell: return "blackwell";
    case Arch::kCdna3: return "cdna3";
    case Arch::kCdna2: return "cdna2";
    case Arch::kCdna4: return "cdna4";
    case Arch::kGaudi3: return "gaudi3";
  }
  return "?";
}

}  // namespace planner
