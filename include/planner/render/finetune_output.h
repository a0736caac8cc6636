// `planner finetune`'s answer: the ranked plans (table, JSON, CSV) and the memory breakdown of
// the best. The framework files of a plan are emitted from the same values
// (FinetunePlan, FinetuneSetup) by src/render/emit_finetune*.cc.
#pragma once

#include <ostream>
#include <string>

#include "planner/search/finetune_search.h"

namespace planner {

/// What a fine-tuning answer is about, for headers.
struct FinetuneContext {
  const Model& model;
  const Cluster& cluster;
  const FinetuneQuery& query;
};

/// The plans in 80 columns, the best plan's memory by term (GiB), and the search's counts.
void PrintFinetuneTable(std::ostream& out, const FinetuneContext& ctx, const FinetuneResult& r);
/// Inputs, plans (memory in bytes, times in seconds) and pruning counts.
std::string FinetuneJson(const FinetuneContext& ctx, const FinetuneResult& r);
/// One line per plan, with a header line.
std::string FinetuneCsv(const FinetuneContext& ctx, const FinetuneResult& r);

/// "fsdp+offload(opt,weights)" and the like: the sharding and offload of a plan in one word.
std::string ShardingLabel(const FinetunePlan& p);

}  // namespace planner
