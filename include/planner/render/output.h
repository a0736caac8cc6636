// Rendering results: a terminal table, JSON (stable field names, README), CSV.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>

#include "planner/input/catalog.h"
#include "planner/search/evaluate.h"
#include "planner/search/memory_report.h"
#include "planner/search/search.h"
#include "planner/input/specs.h"

namespace planner {

/// Optional cost figures: days and money to train `train_tokens` at `gpu_hour_cost` each.
struct CostInput {
  double train_tokens = 0;
  double gpu_hour_cost = 0;
  std::string currency = "USD";  ///< printed after money figures
};

/// The ranked plans; fits 80 columns unless `wide` (every column, even when all plans agree).
void PrintSearchTable(std::ostream& out, const Specs& specs, const SearchResult& r,
                      const CostInput& cost, bool wide = false);
void PrintSearchCsv(std::ostream& out, const Specs& specs, const SearchResult& r,
                    const CostInput& cost);
/// What goes into a plan's JSON beyond its figures.
struct PlanJsonOptions {
  /// The launch snippets `--emit` writes (long, and rendered per plan); off where they are not
  /// shown, so they are never rendered: the sweep's lines, plan.json.
  bool snippets = true;
};

/// `--format json` of a search as a value: inputs, plans, search counters (seconds, threads).
nlohmann::ordered_json SearchJsonValue(const Specs& specs, const SearchResult& r,
                                       const CostInput& cost, const PlanJsonOptions& options);
/// SearchJsonValue with snippets, indented by 2, ending in a newline.
std::string SearchJson(const Specs& specs, const SearchResult& r, const CostInput& cost);

void PrintEvaluationTable(std::ostream& out, const Specs& specs, const Evaluation& e,
                          const CostInput& cost, bool explain);
/// `evaluate --format json` as a value: inputs and the one plan.
nlohmann::ordered_json EvaluationJsonValue(const Specs& specs, const Evaluation& e,
                                           const CostInput& cost, const PlanJsonOptions& options);
/// EvaluationJsonValue with snippets, indented by 2, ending in a newline.
std::string EvaluationJson(const Specs& specs, const Evaluation& e, const CostInput& cost);

/// `planner memory` as JSON, and as text (with the formulas when `explain`).
std::string MemoryReportJson(const MemoryReport& r);
void PrintMemoryReport(std::ostream& out, const MemoryReport& r, bool explain);

/// `planner list`: one part of the catalog as a table (one line an entry) or a JSON array.
enum class CatalogPart { kModels, kGpus, kLinks };
void PrintCatalog(std::ostream& out, const Catalog& c, CatalogPart part, Format format);

/// `--explain` of a search: the formulas, then per reason plans were set aside for, how many,
/// an example plan and by how much it failed.
void PrintSearchExplanation(std::ostream& out, const Specs& specs, const SearchResult& r);
/// "No feasible plan: ..." naming the constraint that removed the most, with the shortfall.
std::string NoPlanSummary(const SearchResult& r);

/// "12.3 GiB" style helpers shared by the renderers.
std::string Gib(double bytes);

}  // namespace planner
