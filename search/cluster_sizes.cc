// --max-gpus: one training search per cluster size, the sizes ranked by tokens/s per GPU.
#include "planner/search/cluster_sizes.h"

#include <algorithm>

namespace planner {

std::vector<int64_t> ClusterSizes(int64_t max_gpus, int64_t gpus_per_node) {
  std::vector<int64_t> sizes;
  // Part of one node: any count; beyond it only whole nodes (input/specs.cc refuses the rest).
  for (int64_t n = 1; n <= std::min(max_gpus, gpus_per_node); ++n) sizes.push_back(n);
  for (int64_t n = 2 * gpus_per_node; n <= max_gpus; n += gpus_per_node) sizes.push_back(n);
  return sizes;
}

double SizedSearch::tokens_per_s_per_gpu() const {
  if (result.plans.empty()) return 0;
  return result.plans.front().tokens_per_s / static_cast<double>(gpus);
}

bool SizeRanksBefore(const SizedSearch& a, const SizedSearch& b) {
  const bool fa = !a.result.plans.empty(), fb = !b.result.plans.empty();
  if (fa != fb) return fa;
  const double ta = a.tokens_per_s_per_gpu(), tb = b.tokens_per_s_per_gpu();
  if (ta != tb) return ta > tb;
  // Equal per GPU: the larger cluster trains as cheaply and sooner.
  return a.gpus > b.gpus;
}

std::vector<SizedSearch> SearchClusterSizes(const Model& m, const Cluster& c,
                                            const TrainingSetup& s, const SearchOptions& o,
                                            int64_t max_gpus) {
  std::vector<SizedSearch> out;
  // One search at a time, each with every thread: sizes differ in cost by orders of magnitude.
  for (const int64_t n : ClusterSizes(max_gpus, c.gpus_per_node)) {
    Cluster sized = c;
    sized.gpus = n;
    out.push_back({.gpus = n, .result = Search(m, sized, s, o)});
  }
  std::sort(out.begin(), out.end(), SizeRanksBefore);
  return out;
}

}  // namespace planner
