// --max-gpus: the training search at every cluster size up to a bound, sizes ranked by
// throughput per GPU (cost per token when every GPU-hour costs the same).
#pragma once

#include <cstdint>
#include <vector>

#include "planner/search/search.h"

namespace planner {

/// The GPU counts a cluster of nodes of `gpus_per_node` can have, up to `max_gpus`: every count
/// up to one node (part of a node), then whole nodes. Ascending.
std::vector<int64_t> ClusterSizes(int64_t max_gpus, int64_t gpus_per_node);

/// One cluster size and the search's answer there.
struct SizedSearch {
  int64_t gpus = 0;
  SearchResult result;
  /// The best plan's tokens/s over the GPU count; 0 when nothing fits.
  double tokens_per_s_per_gpu() const;
};

/// Strict order of sizes: a feasible one first, then more tokens/s per GPU (less cost per token
/// at one price per GPU-hour), then more GPUs (done sooner at the same cost), then fewer.
bool SizeRanksBefore(const SizedSearch& a, const SizedSearch& b);

/// Searches `c` resized to each of ClusterSizes(max_gpus, c.gpus_per_node); `c.gpus` is ignored.
/// Returns every size, best first (SizeRanksBefore).
std::vector<SizedSearch> SearchClusterSizes(const Model& m, const Cluster& c,
                                            const TrainingSetup& s, const SearchOptions& o,
                                            int64_t max_gpus);

}  // namespace planner
