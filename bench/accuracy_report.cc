#include "accuracy_report.h"

#include "planner/search/search.h"

#include <algorithm>
#include <cmath>

namespace planner {
namespace {

void Add(ErrorSummary& s, double error) {
  s.mean_abs = (s.mean_abs * s.runs + std::fabs(error)) / (s.runs + 1);
  s.max_abs = std::max(s.max_abs, std::fabs(error));
  ++s.runs;
}

}  // namespace

AccuracyReport ComputeAccuracy(const std::vector<PublishedRun>& runs) {
  AccuracyReport report;
  // A published run ran: score it whatever its TP ratio or node span.
  const SearchLimits limits{.allow_cross_node_tp = true, .allow_comm_bound = true};
  for (const PublishedRun& run : runs) {
    RunAccuracy row{.run = run};
    if (run.skip_reason.empty()) {
      row.predicted = Evaluate(run.specs.model, run.specs.cluster, run.plan, run.specs.setup, limits);
      if (run.iter_time_s > 0 && row.predicted.reason != Reason::kIndivisible) {
        row.error = (row.predicted.time.step() - run.iter_time_s) / run.iter_time_s;
        Add(report.all, row.error);
        if (run.trust == "A") Add(report.trust_a, row.error);
        Add(report.by_source[run.id.substr(0, run.id.find('-'))], row.error);
      }
      // Asked for the same model, cluster and batch, does the search rank the published plan
      // in its top 10, or find one it predicts at least as fast?
      const SearchResult found = Search(run.specs.model, run.specs.cluster, run.specs.setup,
                                        SearchOptions{.top = 10});
      for (size_t i = 0; i < found.plans.size(); ++i) {
        if (found.plans[i].plan == run.plan) row.search_rank = static_cast<int>(i) + 1;
      }
      if (!found.plans.empty()) row.search_best_s = found.plans.front().time.step();
      if (run.peak_memory_bytes > 0) {
        row.memory_error =
            (row.predicted.memory.total() - run.peak_memory_bytes) / run.peak_memory_bytes;
      }
    }
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace planner
