// Rendering results: a terminal table, JSON (stable field names, README), CSV.
#pragma once

#include <ostream>
#include <string>

#include "planner/evaluate.h"
#include "planner/search.h"
#include "planner/specs.h"

namespace planner {

/// Optional cost figures: days and money to train `train_tokens` at `gpu_hour_cost` each.
struct CostInput {
  double train_tokens = 0;
  double gpu_hour_cost = 0;
};

void PrintSearchTable(std::ostream& out, const Specs& specs, const SearchResult& r,
                      const CostInput& cost);
void PrintSearchCsv(std::ostream& out, const Specs& specs, const SearchResult& r,
                    const CostInput& cost);
std::string SearchJson(const Specs& specs, const SearchResult& r, const CostInput& cost);

void PrintEvaluationTable(std::ostream& out, const Specs& specs, const Evaluation& e,
                          const CostInput& cost, bool explain);
std::string EvaluationJson(const Specs& specs, const Evaluation& e, const CostInput& cost);

/// "12.3 GiB" style helpers shared by the renderers.
std::string Gib(double bytes);

}  // namespace planner
