// `sweep --report` and `merge --report`: a sweep's results as one HTML page.
#pragma once

#include <string>
#include <vector>

#include "planner/sweep/sweep_store.h"

namespace planner {

/// Per model, days to train against cost (or GPU-hours when a cluster has no price) of every
/// cluster with a feasible plan, the Pareto front labelled; then every scenario in a sortable
/// table. `title` says what was asked; `command` is the command line that makes the page again.
std::string SweepReportHtml(const std::vector<SweepRow>& rows, const std::string& title,
                            const std::string& command);

}  // namespace planner
