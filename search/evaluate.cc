#include "planner/search/evaluate.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "planner/cost/compute_model.h"
#include "planner/cost/step_time.h"
#include "planner/search/plan_rules.h"
#include "planner/model/units.h"

namespace planner {

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kFeasible: return "feasible";
    case Reason::kIndivisible: return "indivisible";
    case Reason::kUnsupported: return "unsupported";
    case Reason::kTpCrossNode: return "tp_cross_node";
    case Reason::kCommBound: return "comm_bound";
    case Reason::kOutOfMemory: return "out_of_memory";
    case Reason::kHostMemory: return "host_memory";
    case Reason::kCount: break;
  }
  return "?";
}

double HostBytesUsedPerNode(const Cluster& c, const MemoryBreakdown& mem) {
  return mem.host * static_cast<double>(std::min(c.gpus, c.gpus_per_node));
}

Reason CheckStructure(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                      const SearchLimits& limits) {
  const PlanRule* broken = FirstBrokenRule(RuleInput{m, c, p, s, limits});
  return broken ? broken->reason : Reason::kFeasible;
}

PlanTerms ComputeTerms(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s) {
  const ParamCounts counts = CountParameters(m);
  return PlanTerms{.params = PlanStageParams(m, counts, p),
                   .layer_activation_bytes = PlanLayerActivationBytes(m, p, s),
                   .forward = ForwardPass(m, c, p, s),
                   .model_flops = ModelFlopsPerStep(m, s.seq_len, s.global_batch)};
}

Evaluation Evaluate(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                    const SearchLimits& limits) {
  const Reason structure = CheckStructure(m, c, p, s, limits);
  if (structure != Reason::kFeasible && structure != Reason::kCommBound) {
    return Evaluation{.plan = p, .reason = structure, .capacity_bytes = c.gpu.usable_bytes()};
  }
  return EvaluateFrom(m, c, p, s, structure, ComputeTerms(m, c, p, s));
}

Evaluation EvaluateFrom(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                        Reason structure, const PlanTerms& terms) {
  Evaluation e;
  e.plan = p;
  e.capacity_bytes = c.gpu.usable_bytes();
  e.reason = structure;
  e.memory = TrainingMemoryFrom(m, p, s, terms.params, terms.layer_activation_bytes);
  if (e.reason == Reason::kFeasible && e.memory.total() > e.capacity_bytes) {
    e.reason = Reason::kOutOfMemory;
  } else if (e.reason == Reason::kFeasible &&
             HostBytesUsedPerNode(c, e.memory) > c.HostBytesPerNode()) {
    e.reason = Reason::kHostMemory;
  }
  e.time = StepTimeFrom(m, c, p, s, terms.forward,
                        std::max({terms.params.first, terms.params.second, terms.params.last}));
  const double step = e.time.step();
  e.tokens_per_s = static_cast<double>(s.global_batch) * static_cast<double>(s.seq_len) / step;
  e.mfu = terms.model_flops /
          (step * static_cast<double>(c.gpus) * c.gpu.PeakFlops(s.precision));
  return e;
}

std::string Explain(const Model& m, const Cluster& c, const Evaluation& e,
                    const TrainingSetup& s) {
  char line[512];
  switch (e.reason) {
    case Reason::kFeasible:
      std::snprintf(line, sizeof line, "fits: %.2f GiB of %.2f GiB usable per GPU",
                    e.memory.total() / kGiB, e.capacity_bytes / kGiB);
      return line;
    case Reason::kOutOfMemory:
      std::snprintf(line, sizeof line,
                    "out of memory: needs %.2f GiB per GPU, %.2f GiB usable (short by %.2f GiB)",
                    e.memory.total() / kGiB, e.capacity_bytes / kGiB,
                    (e.memory.total() - e.capacity_bytes) / kGiB);
      return line;
    case Reason::kHostMemory:
      std::snprintf(line, sizeof line,
                    "out of host memory: offloads %.2f GiB per node (%.2f GiB per GPU), the node "
                    "has %.2f GiB (--host-memory)",
                    HostBytesUsedPerNode(c, e.memory) / kGiB, e.memory.host / kGiB,
                    c.HostBytesPerNode() / kGiB);
      return line;
    default: break;
  }
  // The first rule of the plan's reason that it breaks under the strictest limits: the search's
  // limits only ever waive rules, so this is the rule that set the reason.
  const RuleInput in{m, c, e.plan, s, SearchLimits{}};
  for (const PlanRule& rule : PlanRules()) {
    if (rule.reason != e.reason || rule.holds(in)) continue;
    if (rule.reason == Reason::kIndivisible) return "invalid plan: " + rule.explain(in);
    if (rule.reason == Reason::kUnsupported) return "unsupported: " + rule.explain(in);
    return rule.explain(in);
  }
  return ReasonName(e.reason);
}

}  // namespace planner
