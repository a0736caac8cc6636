// `planner --max-gpus N`: the training search at every cluster size up to N, the size with the
// most tokens/s per GPU (the least cost per token) chosen and shown beside the others.
#include <algorithm>

#include "cli_common.h"
#include "planner/model/error.h"
#include "planner/model/text.h"
#include "planner/render/columns.h"

namespace planner {
namespace {

// Each size is a whole search (tens of milliseconds for a large model): 1,000 is under a minute.
constexpr size_t kMaxClusterSizes = 1000;

// Money per million tokens at `gpus` GPUs; 0 without a price or a plan.
double CostPerMillionTokens(const SizedSearch& s, const CostInput& cost) {
  const double per_gpu = s.tokens_per_s_per_gpu();
  return cost.gpu_hour_cost > 0 && per_gpu > 0 ? cost.gpu_hour_cost / 3600 / per_gpu * 1e6 : 0;
}

std::string PlanCell(const SizedSearch& s) {
  if (s.result.plans.empty()) return "no plan fits";
  const Plan& p = s.result.plans.front().plan;
  std::string text = "tp" + std::to_string(p.tp);
  if (p.cp > 1) text += " cp" + std::to_string(p.cp);
  text += " pp" + std::to_string(p.pp) + " dp" + std::to_string(p.dp);
  if (p.ep > 1) text += " ep" + std::to_string(p.ep);
  return text + " mb" + std::to_string(p.micro_batch);
}

}  // namespace

void CheckMaxGpus(int64_t max_gpus, SpecInput& in) {
  if (in.gpus != 0) {
    throw InputError("--max-gpus", "searches the GPU count itself; give --gpus N or "
                                   "--max-gpus N, not both");
  }
  if (max_gpus > kMaxGpus) {
    throw InputError("--max-gpus", "must be at most " + std::to_string(kMaxGpus) + ", got " +
                                       std::to_string(max_gpus));
  }
  const int64_t node = in.gpus_per_node > 0 ? in.gpus_per_node : kDefaultGpusPerNode;
  const std::vector<int64_t> sizes = ClusterSizes(max_gpus, node);
  if (sizes.size() > kMaxClusterSizes) {
    throw InputError("--max-gpus", std::to_string(sizes.size()) + " cluster sizes of nodes of " +
                                       std::to_string(node) + " GPUs; at most " +
                                       std::to_string(kMaxClusterSizes) +
                                       " are searched (a smaller bound, or larger nodes)");
  }
  // A valid cluster to resolve the specs with: one whole node; each size is searched on a copy.
  in.gpus = node;
}

void PrintClusterSizes(std::ostream& out, const std::vector<SizedSearch>& sizes,
                       const CostInput& cost, int64_t max_gpus) {
  const bool priced = cost.gpu_hour_cost > 0;
  std::vector<std::vector<std::string>> rows = {
      {"GPUs", "best plan", "tokens/s", "tokens/s/GPU", priced ? "cost/1M tok" : ""}};
  // The best few, and the largest size for contrast when it is not among them.
  const size_t shown = std::min<size_t>(sizes.size(), 5);
  const auto largest = std::max_element(sizes.begin(), sizes.end(),
      [](const SizedSearch& a, const SizedSearch& b) { return a.gpus < b.gpus; });
  for (size_t i = 0; i < sizes.size(); ++i) {
    const SizedSearch& s = sizes[i];
    if (i >= shown && &s != &*largest) continue;
    const double tps = s.result.plans.empty() ? 0 : s.result.plans.front().tokens_per_s;
    rows.push_back({std::to_string(s.gpus) + (i == 0 ? " *" : ""), PlanCell(s), Thousands(tps),
                    Thousands(s.tokens_per_s_per_gpu()),
                    priced ? Printf("%.4f", CostPerMillionTokens(s, cost)) + " " + cost.currency
                           : ""});
  }
  out << "Cluster sizes up to " << max_gpus << " GPUs: " << sizes.size()
      << " searched, best first (* chosen)\n";
  PrintColumns(out, rows, {1});
  const SizedSearch& best = sizes.front();
  if (best.result.plans.empty()) {
    out << "No size up to " << max_gpus << " GPUs has a plan that fits.\n\n";
    return;
  }
  out << "Chosen: " << best.gpus << " GPUs, the most tokens/s per GPU ("
      << Thousands(best.tokens_per_s_per_gpu()) << "): the least cost per token"
      << (priced ? "" : " at any price") << ".\n";
  const auto tied = std::count_if(sizes.begin(), sizes.end(), [&](const SizedSearch& s) {
    return s.tokens_per_s_per_gpu() == best.tokens_per_s_per_gpu();
  });
  if (tied > 1) {
    out << tied - 1 << " smaller sizes tie with it per GPU; the largest of them trains soonest.\n";
  }
  if (largest->gpus != best.gpus && !largest->result.plans.empty()) {
    const double speedup =
        largest->result.plans.front().tokens_per_s / best.result.plans.front().tokens_per_s;
    out << largest->gpus << " GPUs would be " << Printf("%.1f", speedup) << "x faster at "
        << Printf("%.2f", best.tokens_per_s_per_gpu() / largest->tokens_per_s_per_gpu())
        << "x the cost per token.\n";
  }
  out << "\n";
}

}  // namespace planner
