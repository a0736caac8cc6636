// `planner calibrate --suggest --model M --gpu G --gpus N`: a handful of short runs to measure
// whose step times lean on different constants (matmuls, links, pipeline, attention), printed as
// JSONL run files with measured.iter_time_s left null for the user to fill in.
#include <nlohmann/json.hpp>
#include <algorithm>

#include "cli_common.h"
#include "planner/cost/framework.h"
#include "planner/model/text.h"
#include "planner/search/search.h"

namespace planner {
namespace {

using nlohmann::ordered_json;

// Each regime: the best plan the search finds under a constraint that makes one group of
// constants set a large share of the step, and that share.
struct Regime {
  const char* why;
  void (*constrain)(SearchOptions&, int64_t gpus_per_node);
  double (*share)(const TimeBreakdown&);
};

const Regime kRegimes[] = {
    {"the best plan: compute-bound (gemm, attention, step_overhead)",
     [](SearchOptions&, int64_t) {},
     [](const TimeBreakdown& t) { return (t.compute + t.recompute) / t.step(); }},
    {"tensor parallelism across the node: TP traffic (link) and small matmuls",
     [](SearchOptions& o, int64_t n) {
       o.tp = {static_cast<int>(n), static_cast<int>(n)};
       o.limits.allow_comm_bound = true;  // the point is a large share of traffic
     },
     [](const TimeBreakdown& t) { return t.tp_comm / t.step(); }},
    {"data parallelism only, ZeRO-3: gradient and weight traffic (link)",
     [](SearchOptions& o, int64_t) {
       o.tp = o.pp = o.cp = {1, 1};
       o.zero = {3, 3};
     },
     [](const TimeBreakdown& t) { return t.dp_comm / t.step(); }},
    {"a pipeline: bubble and stage sends",
     [](SearchOptions& o, int64_t) { o.pp.least = 2; },
     [](const TimeBreakdown& t) { return (t.bubble + t.pp_comm) / t.step(); }},
};

ordered_json RunLine(const SpecInput& in, const Specs& s, const Plan& p, const std::string& why) {
  const Cluster& c = s.cluster;
  ordered_json j = {{"description", "calibration run: " + why},
                    {"model", in.model},
                    {"gpu", c.gpu.name},
                    {"gpus", c.gpus},
                    {"gpus_per_node", c.gpus_per_node},
                    {"intra_link", c.intra.name},
                    {"inter_link", c.inter.name},
                    {"nics_per_node", c.nics_per_node},
                    {"seq_len", s.setup.seq_len},
                    {"global_batch", s.setup.global_batch},
                    {"framework", FrameworkName(s.setup.framework)},
                    {"precision", PrecisionName(s.setup.precision)}};
  j["plan"] = {{"tp", p.tp},
               {"pp", p.pp},
               {"dp", p.dp},
               {"cp", p.cp},
               {"ep", p.ep},
               {"micro_batch", p.micro_batch},
               {"recompute", RecomputeName(p.recompute)},
               {"sequence_parallel", p.sequence_parallel},
               {"zero", p.zero_stage},
               {"virtual_stages", p.virtual_stages}};
  // The rest of the plan where the search set it: a run file without them is another plan.
  if (p.recompute_layers > 0) j["plan"]["recompute_layers"] = p.recompute_layers;
  if (p.first_stage_layers > 0) j["plan"]["first_stage_layers"] = p.first_stage_layers;
  if (p.last_stage_layers > 0) j["plan"]["last_stage_layers"] = p.last_stage_layers;
  j["measured"] = {{"iter_time_s", nullptr}};
  return j;
}

}  // namespace

int RunSuggest(const SpecInput& in, std::ostream& out) {
  if (in.gpus == 0) throw InputError("--gpus", "is required with --suggest");
  const Specs specs = BuildSpecs(in, LoadCatalog(in));
  std::vector<Plan> chosen;
  for (const Regime& regime : kRegimes) {
    SearchOptions options{.top = 1};
    regime.constrain(options, specs.cluster.gpus_per_node);
    const SearchResult r = Search(specs.model, specs.cluster, specs.setup, options);
    if (r.plans.empty()) {
      out << "# no feasible plan for: " << regime.why << "\n";
      continue;
    }
    const Evaluation& e = r.plans.front();
    if (std::find(chosen.begin(), chosen.end(), e.plan) != chosen.end()) continue;
    // A regime this cluster hides (traffic overlapped behind compute) pins nothing.
    if (regime.share(e.time) < 0.02) {
      out << "# not suggested: " << regime.why << "; "
          << Printf("%.1f%% of the step on this cluster", 100 * regime.share(e.time)) << "\n";
      continue;
    }
    chosen.push_back(e.plan);
    const std::string why = std::string(regime.why) + "; " +
                            Printf("%.0f%% of its predicted step", 100 * regime.share(e.time));
    out << RunLine(in, specs, e.plan, why).dump() << "\n";
  }
  if (chosen.empty()) return 1;
  return 0;
}

}  // namespace planner
