// Alpha-beta costs of ring collectives (Thakur et al. 2005; NCCL's bus-bandwidth convention).
#pragma once

#include "planner/model/hardware.h"

namespace planner {

/// Seconds for an all-reduce of `bytes` over `n` ranks on links of `bytes_per_s` (one way)
/// with per-step latency `latency_s`: 2 (n - 1) / n * bytes / bw + 2 (n - 1) * latency.
double AllReduceSeconds(double bytes, int n, double bytes_per_s, double latency_s);

/// Reduce-scatter or all-gather of `bytes` (the full buffer) over `n` ranks.
double AllGatherSeconds(double bytes, int n, double bytes_per_s, double latency_s);

/// All-to-all where each rank holds `bytes` and keeps 1/n of it.
double AllToAllSeconds(double bytes, int n, double bytes_per_s, double latency_s);

/// One point-to-point send.
double SendSeconds(double bytes, double bytes_per_s, double latency_s);

/// One-way bytes/s per GPU of the link a tensor-parallel group of `tp` adjacent ranks crosses:
/// the intra link inside the scale-up domain (a node, or an NVL72 rack), else the node's NICs
/// shared by the groups leaving it, at most the intra link.
double TpLinkBytesPerS(const Cluster& c, int tp);

}  // namespace planner
