#include "device.h"

#include <algorithm>

#include "planner/cost/calibration.h"
#include "planner/cost/framework.h"

namespace planner {
namespace {

constexpr double kHostCopyLatencyS = 10e-6;

}  // namespace

Device DeviceFor(const Cluster& c, const TrainingSetup& s) {
  Efficiency eff = EfficiencyOf(c);
  if (FactsOf(s.framework).te_attention) eff.attention *= FusedAttentionGain(c.gpu.arch);
  const bool fp8 = s.precision == Precision::kFp8;
  return Device{.gemm_peak = c.gpu.PeakFlops(s.precision),
                .half_peak = fp8 ? c.gpu.bf16_flops : c.gpu.PeakFlops(s.precision),
                .gemm_eff = fp8 ? eff.gemm_fp8 : eff.gemm,
                .hbm = c.gpu.hbm_bytes_per_s * eff.hbm,
                .fp8 = fp8,
                .eff = eff};
}

double GemmSeconds(const Device& d, double m, double k, double n) {
  const double flops = 2.0 * m * k * n;
  const double edge = std::min(k, n);
  const double share = d.gemm_eff * edge / (edge + d.eff.gemm_half_dim);
  const double bytes = (d.fp8 ? 1.0 : 2.0) * (m * k + k * n + m * n);
  return std::max(flops / (d.gemm_peak * share), bytes / d.hbm);
}

Path RingPath(const Cluster& c, int n, int64_t stride, double link_eff) {
  // Inside the scale-up domain (a node, or an NVL72 rack of 72) the ring runs on the intra link.
  const int64_t members_in_domain =
      std::clamp<int64_t>(c.ScaleUpDomain() / std::max<int64_t>(1, stride), 1, n);
  if (members_in_domain >= n) {
    if (!c.gpu.p2p) {
      // No peer-to-peer: NCCL stages each chunk through host memory (SHM transport), so every
      // byte crosses the GPU's PCIe link twice, down to the host and back up: half the rate,
      // plus a host copy's start-up (an estimate, several microseconds).
      return {0.5 * c.intra.one_way_bytes_per_s * link_eff, c.intra.latency_s + kHostCopyLatencyS};
    }
    return {c.intra.one_way_bytes_per_s * link_eff, c.intra.latency_s};
  }
  // A ring leaving the domain crosses it once per channel, each channel at a different member's
  // NIC, so the domain's NICs carry it together, shared with the other rings of its kind there.
  // NCCL treats a multi-node NVLink domain as one node (2.20.3 release notes: inter-node NVLink),
  // so an NVL72 rack pools its 18 trays' NICs as a DGX pools its eight.
  const double domain_nics = static_cast<double>(c.nics_per_node) *
                             static_cast<double>(c.ScaleUpDomain()) /
                             static_cast<double>(c.gpus_per_node);
  const double rings_in_domain = static_cast<double>(c.ScaleUpDomain()) / members_in_domain;
  const double nic_share = domain_nics * c.inter.one_way_bytes_per_s / rings_in_domain;
  return {std::min(c.intra.one_way_bytes_per_s, nic_share) * link_eff, c.inter.latency_s};
}

}  // namespace planner
