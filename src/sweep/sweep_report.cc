// A sweep's report page: the render room draws; this file says what each chart plots.
#include "planner/sweep/sweep_report.h"

#include <algorithm>

#include "planner/model/text.h"
#include "planner/render/report.h"

namespace planner {
namespace {

// Scenarios with no feasible plan sort after every figure.
constexpr double kMissing = 1e300;

// Without train_tokens a row has no days; it is then drawn per 10^12 tokens (the same shape).
constexpr double kTokensPerRow = 1e12;

double Days(const SweepRow& r) {
  if (r.train_days > 0) return r.train_days;
  return r.tokens_per_s > 0 ? kTokensPerRow / r.tokens_per_s / 86400.0 : 0;
}
double GpuHours(const SweepRow& r) { return Days(r) * 24.0 * static_cast<double>(r.gpus); }
double Cost(const SweepRow& r) { return GpuHours(r) * r.price_per_gpu_hour; }

std::string Cluster(const SweepRow& r) {
  return std::to_string(r.gpus) + " x " + r.gpu + ", " + r.inter_link;
}

ScatterChart ModelChart(const std::string& model, const std::vector<const SweepRow*>& rows) {
  const bool days_given = rows.front()->train_days > 0;
  const bool priced = std::all_of(rows.begin(), rows.end(),
                                  [](const SweepRow* r) { return r->price_per_gpu_hour > 0; });
  const std::string per = days_given ? "" : " per 10^12 tokens";
  ScatterChart c{.title = model + ": days to train against " + (priced ? "cost" : "GPU-hours") +
                          per + " of every cluster",
                 .x_label = priced ? "cost to train (price units)" + per : "GPU-hours" + per,
                 .y_label = "days to train" + per};
  for (const SweepRow* r : rows) {
    const double x = priced ? Cost(*r) : GpuHours(*r);
    c.points.push_back({.group = r->gpu,
                        .label = Cluster(*r),
                        .detail = Cluster(*r) + " (" + r->intra_link + " in node): " + r->plan +
                                  "; " + Printf("%.1f", Days(*r)) + " days, " +
                                  Printf("%.4g", GpuHours(*r)) + " GPU-hours" +
                                  (priced ? ", cost " + Printf("%.4g", Cost(*r)) : ""),
                        .x = x,
                        .y = Days(*r)});
  }
  return c;
}

ReportCell Num(double v, const char* format) {
  return v > 0 ? ReportCell{.text = Printf(format, v), .key = v} : ReportCell{.key = kMissing};
}

ReportTable ScenarioTable(const std::vector<SweepRow>& rows) {
  ReportTable t{
      .headers = {"scenario", "model", "GPU", "GPUs", "per node", "intra", "inter", "batch x seq",
                  "best plan", "tokens/s", "days", "GPU-hours", "price/GPU-h", "cost"},
      .row_class = "cluster-row"};
  for (const SweepRow& r : rows) {
    const auto i = [](int64_t v) {
      return ReportCell{.text = std::to_string(v), .key = static_cast<double>(v)};
    };
    t.rows.push_back({i(r.scenario),
                      {.text = r.model},
                      {.text = r.gpu},
                      i(r.gpus),
                      i(r.gpus_per_node),
                      {.text = r.intra_link},
                      {.text = r.inter_link},
                      {.text = std::to_string(r.global_batch) + " x " + std::to_string(r.seq_len)},
                      {.text = r.feasible ? r.plan : "no feasible plan"},
                      Num(r.tokens_per_s, "%.0f"),
                      Num(r.train_days, "%.1f"),
                      Num(r.train_days > 0 ? GpuHours(r) : 0, "%.0f"),
                      Num(r.price_per_gpu_hour, "%.2f"),
                      Num(r.train_cost, "%.0f")});
  }
  return t;
}

}  // namespace

std::string SweepReportHtml(const std::vector<SweepRow>& rows, const std::string& title,
                            const std::string& command) {
  ReportPage page{.title = title, .command = command};
  std::vector<std::string> models;  // in order of first appearance
  for (const SweepRow& r : rows) {
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
  }
  int64_t feasible = 0;
  for (const std::string& model : models) {
    std::vector<const SweepRow*> fit;
    int64_t none = 0;
    for (const SweepRow& r : rows) {
      if (r.model != model) continue;
      if (r.feasible && r.tokens_per_s > 0) {
        fit.push_back(&r);
      } else {
        ++none;
      }
    }
    feasible += static_cast<int64_t>(fit.size());
    std::string html = fit.empty() ? "<p>No cluster has a feasible plan.</p>\n"
                                   : ScatterChartHtml(ModelChart(model, fit));
    if (none > 0) {
      html += "<p>" + std::to_string(none) + " of " + std::to_string(none + fit.size()) +
              " clusters have no feasible plan and are not drawn (see the table).</p>\n";
    }
    page.sections.push_back({model, html});
  }
  page.sections.push_back(
      {"Every scenario (click a column to sort)", TableHtml(ScenarioTable(rows))});
  page.inputs = {{"scenarios", std::to_string(rows.size())},
                 {"models", Join(models, ", ")},
                 {"with a feasible plan", std::to_string(feasible)}};
  return ReportHtml(page);
}

}  // namespace planner
