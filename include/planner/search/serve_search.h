// `planner serve`: the space of serving plans (tp, pp, replicas, weight and KV formats, batch),
// scored by the serving cost models, ranked by throughput per GPU within the latency targets.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "planner/cost/serving.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"

namespace planner {

/// What the user asked: the request shape, the load, the targets, and what is fixed.
struct ServeQuery {
  ServeSetup setup;
  int64_t gpus = 0;             ///< 0: the fewest GPUs that serve the load
  int64_t concurrency = 0;      ///< sequences in flight over all replicas; 0: as many as fit
  double request_rate = 0;      ///< requests per second to sustain; 0: not given
  double ttft_target_s = 0;     ///< 0: no target
  double tpot_target_s = 0;     ///< 0: no target
  std::vector<WeightFormat> weights{WeightFormat::kBf16};
  std::vector<Precision> kv{Precision::kBf16};
  int tp = 0;                   ///< 0: searched; else fixed (likewise pp, replicas)
  int pp = 0;
  int ep = 0;                   ///< 0: searched (1, or tp for a MoE); else fixed: 1 or tp
  int replicas = 0;
  int top = 5;
};

/// kOverloaded: the request rate keeps every batch slot busy (utilization >= 1): the queue grows.
enum class ServeReason { kFits, kIndivisible, kOutOfMemory, kTtft, kTpot, kOverloaded, kCount };
const char* ServeReasonName(ServeReason r);

/// One scored plan.
struct ServeEvaluation {
  ServePlan plan;
  ServeReason reason = ServeReason::kFits;
  ServeMemory memory;
  ServeTime time;
  double tokens_per_s_per_gpu = 0;   ///< output tokens/s of a replica over its GPUs
  double tokens_per_s_per_user = 0;  ///< one sequence's decode rate, 1 / time per output token
  int64_t gpus = 0;                  ///< tp x pp x replicas
  double utilization = 0;            ///< at --request-rate: busy share of a replica's batch slots
  double queue_wait_s = 0;           ///< at --request-rate: mean wait for a slot (M/M/c)
  bool feasible() const { return reason == ServeReason::kFits; }
};

struct ServeResult {
  std::vector<ServeEvaluation> plans;   ///< best first: throughput per GPU, then fewer GPUs
  std::vector<ServeEvaluation> pareto;  ///< per-GPU against per-user throughput, fastest user first
  int64_t evaluated = 0;
  std::array<int64_t, static_cast<int>(ServeReason::kCount)> pruned{};
};

/// Scores one plan (its batch per replica included) against the query's targets.
ServeEvaluation EvaluateServePlan(const Model& m, const Cluster& c, const ServePlan& p,
                                  const ServeQuery& q);

ServeResult SearchServing(const Model& m, const Cluster& c, const ServeQuery& q);

}  // namespace planner
