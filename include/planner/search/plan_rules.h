// The structural rules of a training plan, in one table that the search, --explain and the
// command line's checks all read: which sizes must divide what, and what no framework runs.
#pragma once

#include <span>
#include <string>

#include "planner/search/evaluate.h"

namespace planner {

/// What a rule looks at.
struct RuleInput {
  const Model& m;
  const Cluster& c;
  const Plan& p;
  const TrainingSetup& s;
  const SearchLimits& limits;
};

/// One rule: the reason a plan that breaks it gets, the evaluate flag that sets the size it is
/// about (for the command line's one-line errors), and a sentence with the numbers.
struct PlanRule {
  Reason reason;
  const char* flag;
  bool (*holds)(const RuleInput&);
  std::string (*explain)(const RuleInput&);
};

/// Every rule, cheapest and most basic first: the order CheckStructure applies them in.
std::span<const PlanRule> PlanRules();

/// Whether the plan's pipeline split (even, or uneven first/last stages) covers the layers.
bool LayersSplit(const Model& m, const Plan& p);

/// Whether the framework runs the plan's ZeRO stage with its pipeline and optimizer offload: the
/// rule table's three ZeRO rules, for the search's per-stage loop (its structural check runs
/// once for all stages).
bool ZeroStageRuns(const Plan& p, const TrainingSetup& s);

/// The first rule the plan breaks, or nullptr when it keeps them all.
const PlanRule* FirstBrokenRule(const RuleInput& in);

}  // namespace planner
