// `planner serve`'s answer: the ranked plans, the trade-off front, and the engines' commands.
#pragma once

#include <ostream>
#include <string>

#include "planner/search/serve_search.h"

namespace planner {

/// What a serving answer is about, for headers and commands.
struct ServeContext {
  const Model& model;
  const Cluster& cluster;
  const ServeQuery& query;
};

/// The ranked plans and the trade-off front; 80 columns unless `wide`.
void PrintServeTable(std::ostream& out, const ServeContext& ctx, const ServeResult& r,
                     bool wide = false);
std::string ServeJson(const ServeContext& ctx, const ServeResult& r);

/// Launch lines for one plan, flags as each engine spells them (tests check them against the
/// engines' own argument lists in tests/fixtures). The model is "$MODEL": its Hugging Face id or
/// a local path, which the planner does not know.
std::string VllmCommand(const Model& m, const ServePlan& p, const ServeSetup& s);
std::string SglangCommand(const Model& m, const ServePlan& p, const ServeSetup& s);
std::string TrtllmCommand(const Model& m, const ServePlan& p, const ServeSetup& s);

}  // namespace planner
