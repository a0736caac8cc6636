// `planner finetune`: the space of fine-tuning plans (GPUs, sharding, offload, checkpointing,
// micro-batch, tensor parallelism) for the user's method, data and batch, scored by the
// fine-tuning cost models and ranked by time to train (or cost with a price).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "planner/cost/finetune.h"
#include "planner/model/finetune_plan.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"

namespace planner {

/// What the user asked. A dimension with a value fixes it; an empty list (or 0) searches it.
struct FinetuneQuery {
  FinetuneSetup setup;
  FinetunePlan base;            ///< method, adapter, base weights and any fixed flags
  std::vector<FinetuneMethod> methods{FinetuneMethod::kLora};
  int64_t gpus = 0;             ///< at most this many; 0: the fewest that fit (up to 1024)
  bool exact_gpus = false;      ///< exactly `gpus` (planner evaluate scores one plan)
  std::vector<Sharding> shardings;          ///< empty: the framework's
  std::vector<Checkpointing> checkpointing;  ///< empty: all three
  int offload = -1;             ///< -1 searched; else bit 1 optimizer, bit 2 params
  /// Adapter ranks and target sets to rank among (LoRA/QLoRA); empty: base's. They change the
  /// model's quality, which the planner cannot score, so each gets its own row to choose from.
  std::vector<int> lora_ranks;
  std::vector<AdapterTargets> adapter_targets;
  int micro_batch = 0;          ///< 0: searched
  int tp = 0;                   ///< 0: searched where the framework has it
  double price_per_gpu_hour = 0;  ///< > 0: rank by cost
  int top = 8;
};

enum class FinetuneReason { kFits, kUnsupported, kIndivisible, kOutOfMemory, kHostMemory, kCount };
const char* FinetuneReasonName(FinetuneReason r);

/// One scored plan.
struct FinetuneEvaluation {
  FinetunePlan plan;
  FinetuneReason reason = FinetuneReason::kFits;
  FinetuneMemory memory;
  FinetuneTime time;
  double train_s = 0;     ///< all epochs of the data (0 without --dataset-tokens)
  double gpu_hours = 0;
  double cost = 0;        ///< gpu_hours x price
  bool feasible() const { return reason == FinetuneReason::kFits; }
};

struct FinetuneResult {
  std::vector<FinetuneEvaluation> plans;  ///< best first; one per (GPUs, method, sharding,
                                          ///< offload, tp, rank, targets): the best batch split
                                          ///< and checkpointing
  /// The scored plan with the least GPU memory (what the answer shows when none fits).
  FinetuneEvaluation smallest;
  int64_t evaluated = 0;
  std::array<int64_t, static_cast<int>(FinetuneReason::kCount)> pruned{};
};

/// Scores one plan: rules of the framework, GPU memory, host memory, then time.
FinetuneEvaluation EvaluateFinetunePlan(const Model& m, const Cluster& c, const FinetunePlan& p,
                                        const FinetuneQuery& q);

FinetuneResult SearchFinetune(const Model& m, const Cluster& c, const FinetuneQuery& q);

}  // namespace planner
