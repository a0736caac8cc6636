// The report pages of `search` and `evaluate`: plans, their memory and step time, the funnel.
#include "planner/cost/memory_model.h"
#include "planner/model/text.h"
#include "planner/model/units.h"
#include "planner/render/report.h"
#include "planner/render/svg.h"

namespace planner {
namespace {

// "#1 tp8 pp4 dp64 mb1": a plan's bar label, the same as its table row's first cells.
std::string PlanLabel(int rank, const Plan& p) {
  std::string s = "#" + std::to_string(rank) + " tp" + std::to_string(p.tp) + " pp" +
                  std::to_string(p.pp) + " dp" + std::to_string(p.dp) + " mb" +
                  std::to_string(p.micro_batch);
  if (p.cp > 1) s += " cp" + std::to_string(p.cp);
  if (p.ep > 1) s += " ep" + std::to_string(p.ep);
  return s;
}

ReportCell Num(double v, const std::string& text) { return {.text = text, .key = v}; }
ReportCell Int(int64_t v) { return Num(static_cast<double>(v), std::to_string(v)); }

ReportTable PlanTable(const Model& m, const std::vector<Evaluation>& plans,
                      const CostInput& cost) {
  ReportTable t{.headers = {"#", "TP", "CP", "PP", "DP", "EP", "MB", "GA", "recompute", "ZeRO",
                            "SP", "VP", "memory GiB", "step s", "tokens/s", "MFU %"},
                .row_class = "plan-row"};
  const bool days = cost.train_tokens > 0;
  if (days) t.headers.push_back("days");
  int rank = 1;
  for (const Evaluation& e : plans) {
    const Plan& p = e.plan;
    std::vector<ReportCell> row = {Int(rank++),
                                   Int(p.tp),
                                   Int(p.cp),
                                   Int(p.pp),
                                   Int(p.dp),
                                   Int(p.ep),
                                   Int(p.micro_batch),
                                   Int(p.grad_accum),
                                   {.text = RecomputeCell(p, LargestStageLayers(m, p))},
                                   Int(p.zero_stage),
                                   {.text = p.sequence_parallel ? "yes" : "no"},
                                   Int(p.virtual_stages),
                                   Num(e.memory.total(), Gib(e.memory.total())),
                                   Num(e.time.step(), Printf("%.4g", e.time.step())),
                                   Num(e.tokens_per_s, Printf("%.0f", e.tokens_per_s)),
                                   Num(e.mfu, Printf("%.1f", 100 * e.mfu))};
    if (days) {
      const double d = e.tokens_per_s > 0 ? cost.train_tokens / e.tokens_per_s / 86400.0 : 0;
      row.push_back(Num(d, Printf("%.1f", d)));
    }
    t.rows.push_back(row);
  }
  return t;
}

BarChart MemoryChart(const std::vector<Evaluation>& plans) {
  BarChart c{.title = "Memory per GPU of each plan against the GPU's capacity",
             .unit = "GiB per GPU",
             .bar_class = "mem-bar"};
  int rank = 1;
  for (const Evaluation& e : plans) {
    const MemoryBreakdown& m = e.memory;
    c.bars.push_back({.label = PlanLabel(rank++, e.plan),
                      .parts = {{"weights", m.weights / kGiB},
                                {"gradients", m.gradients / kGiB},
                                {"optimizer", m.optimizer / kGiB},
                                {"activations", m.activations / kGiB},
                                {"overhead", m.overhead / kGiB}}});
  }
  if (!plans.empty()) {
    c.limit = plans.front().capacity_bytes / kGiB;
    c.limit_label = "usable capacity " + Printf("%.4g", c.limit) + " GiB";
  }
  return c;
}

BarChart TimeChart(const std::vector<Evaluation>& plans) {
  BarChart c{.title = "Step time of each plan: where the time goes",
             .unit = "seconds per optimizer step",
             .bar_class = "time-bar"};
  int rank = 1;
  for (const Evaluation& e : plans) {
    const TimeBreakdown& t = e.time;
    c.bars.push_back({.label = PlanLabel(rank++, e.plan),
                      .parts = {{"compute", t.compute},
                                {"recompute", t.recompute},
                                {"bubble", t.bubble},
                                {"TP comm", t.tp_comm},
                                {"PP comm", t.pp_comm},
                                {"DP comm", t.dp_comm},
                                {"EP comm", t.ep_comm},
                                {"optimizer", t.optimizer},
                                {"offload", t.offload}}});
  }
  return c;
}

BarChart Funnel(const SearchStats& s) {
  BarChart c{.title = "Pruning funnel: candidates looked at, removed by each check, feasible",
             .unit = "plans",
             .bar_class = "funnel-bar",
             .log = true};
  c.bars.push_back({.label = "candidates", .parts = {{"plans", static_cast<double>(s.evaluated)}}});
  for (int i = 1; i < static_cast<int>(Reason::kCount); ++i) {
    c.bars.push_back({.label = std::string("removed: ") + ReasonName(static_cast<Reason>(i)),
                      .parts = {{"plans", static_cast<double>(s.pruned[i])}}});
  }
  c.bars.push_back({.label = "feasible", .parts = {{"plans", static_cast<double>(s.feasible)}}});
  return c;
}

std::vector<std::pair<std::string, std::string>> Inputs(const Specs& s, const CostInput& cost) {
  const Cluster& c = s.cluster;
  std::vector<std::pair<std::string, std::string>> in = {
      {"model", s.model.name},
      {"GPU", c.gpu.name + " (" + Printf("%.4g", c.gpu.hbm_bytes / kGiB) + " GiB)"},
      {"GPUs", std::to_string(c.gpus) + " (" + std::to_string(c.gpus_per_node) + " per node)"},
      {"links", c.intra.name + " inside a node, " + std::to_string(c.nics_per_node) + " x " +
                    c.inter.name + " per node between nodes"},
      {"batch", std::to_string(s.setup.global_batch) + " sequences x " +
                    std::to_string(s.setup.seq_len) + " tokens"},
      {"precision, optimizer, schedule", std::string(PrecisionName(s.setup.precision)) + ", " +
                                             OptimizerName(s.setup.optimizer) + ", " +
                                             ScheduleName(s.setup.schedule)}};
  if (cost.train_tokens > 0) in.push_back({"tokens to train", Printf("%.4g", cost.train_tokens)});
  return in;
}

std::string Title(const Specs& s) {
  return s.model.name + " on " + std::to_string(s.cluster.gpus) + " x " + s.cluster.gpu.name;
}

}  // namespace

std::string SearchReportHtml(const Specs& specs, const SearchResult& r, const CostInput& cost,
                             const std::string& command) {
  ReportPage page{.title = "Fastest training plans for " + Title(specs),
                  .inputs = Inputs(specs, cost),
                  .command = command};
  std::string plans = TableHtml(PlanTable(specs.model, r.plans, cost));
  if (r.plans.empty()) plans = "<p>" + EscapeHtml(NoPlanSummary(r)) + "</p>\n";
  page.sections.push_back({"Ranked plans (click a column to sort)", plans});
  if (!r.plans.empty()) {
    page.sections.push_back({"Memory per GPU", BarChartHtml(MemoryChart(r.plans))});
    page.sections.push_back({"Step time", BarChartHtml(TimeChart(r.plans))});
  }
  page.sections.push_back({"Pruning funnel", BarChartHtml(Funnel(r.stats))});
  return ReportHtml(page);
}

std::string EvaluationReportHtml(const Specs& specs, const Evaluation& e, const CostInput& cost,
                                 const std::string& command) {
  ReportPage page{.title = "One plan for " + Title(specs) + ": " + PlanLabel(1, e.plan).substr(3),
                  .inputs = Inputs(specs, cost),
                  .command = command};
  std::string verdict =
      e.feasible()
          ? "<p>The plan is feasible.</p>\n"
          : "<p>The plan is not feasible: " + std::string(ReasonName(e.reason)) + ".</p>\n";
  page.sections.push_back({"The plan", verdict + TableHtml(PlanTable(specs.model, {e}, cost))});
  page.sections.push_back({"Memory per GPU", BarChartHtml(MemoryChart({e}))});
  page.sections.push_back({"Step time", BarChartHtml(TimeChart({e}))});
  return ReportHtml(page);
}

}  // namespace planner
