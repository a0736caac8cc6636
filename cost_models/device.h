// What the cost models know of one GPU and the paths between GPUs (internal to cost_models/).
#pragma once

#include <cstdint>

#include "planner/cost/step_time.h"
#include "planner/model/hardware.h"
#include "planner/model/plan.h"

namespace planner {

/// The GPU as the training precision sees it.
struct Device {
  double gemm_peak = 0;  ///< FLOP/s of the matmuls at the training precision
  double half_peak = 0;  ///< 16-bit FLOP/s: attention and anything not run in fp8
  double gemm_eff = 0;   ///< share of gemm_peak a large matmul reaches
  double hbm = 0;        ///< bytes/s element-wise kernels reach
  bool fp8 = false;
  Efficiency eff;
};
Device DeviceFor(const Cluster& c, const TrainingSetup& s);

/// Seconds of one GEMM of m x k by k x n: compute at a share of peak that falls when its smaller
/// edge is short of a few tiles, or bound by HBM traffic (roofline).
double GemmSeconds(const Device& d, double m, double k, double n);

/// Bandwidth (bytes/s, one way) and latency one rank of a ring gets.
struct Path {
  double bytes_per_s = 0;
  double latency_s = 0;
};
/// A ring of `n` ranks placed `stride` apart in Megatron's rank order (tp, cp, dp, pp from
/// fastest to slowest). Members inside one node talk over the intra-node link; a ring that leaves
/// the node shares the node's NICs with the other rings of the same kind in that node.
Path RingPath(const Cluster& c, int n, int64_t stride, double link_eff);

}  // namespace planner
