// What the summaries read from a results line, checked when the line is read back from disk.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "planner/sweep/sweep_store.h"

namespace planner {

/// "" when `line` (a JSON object with a scenario and an id) has the inputs and best plan that
/// summary.csv and the ranking read, each of its type; else "JSON.path: what is wrong".
std::string ResultLineProblem(const nlohmann::json& line);

/// summary.csv's first line, with "\n".
std::string SummaryCsvHeader();
/// A results line's row of summary.csv, with "\n"; `row` gets what the ranking reads of it.
std::string SummaryCsvRow(const nlohmann::json& line, SweepRow& row);

}  // namespace planner
