// `planner memory`: the memory of one model in one mode, computed here and printed by render/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "planner/cost/serving.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

enum class MemoryMode { kTraining, kFinetune, kInference };
const char* MemoryModeName(MemoryMode mode);

/// What `planner memory` was asked.
struct MemoryQuery {
  MemoryMode mode = MemoryMode::kTraining;
  int64_t seq_len = 0;
  int64_t batch = 1;               ///< sequences per micro-batch, or in flight when serving
  TrainingSetup setup;             ///< training and fine-tuning: precision, optimizer, ...
  Recompute recompute = Recompute::kSelective;
  int recompute_layers = 0;        ///< full recompute: layers recomputed (Plan); 0: all
  int offload_activation_layers = 0;  ///< layers whose activations go to host memory (Plan)
  double weight_bytes = 2;         ///< inference: bytes per weight (the quick rule's Q / 8)
  WeightFormat weights = WeightFormat::kBf16;  ///< inference: as the engines store them
  Precision kv = Precision::kBf16;             ///< inference: KV-cache values
  double memory_fraction = 0.9;                ///< inference: the engine's share of each GPU
  std::optional<Gpu> gpu;          ///< to say how many GPUs the total needs
};

/// The answer: named parts in bytes (the last is the total), the formulas behind them, and
/// where a GPU was given, how many of it the total fills.
struct MemoryReport {
  std::string model;
  MemoryMode mode = MemoryMode::kTraining;
  int64_t seq_len = 0;
  int64_t batch = 1;
  ParamCounts params;
  std::vector<std::pair<std::string, double>> parts;  ///< bytes; the last is "total"
  std::vector<std::string> formulas;
  std::optional<double> quick_rule_bytes;  ///< inference: formulas.md s.1's 1.2x rule
  std::optional<Gpu> gpu;
  int64_t gpus_needed = 0;
  int tp = 1;  ///< inference with a GPU: the split the parts are per GPU of (tp x pp = GPUs)
  int pp = 1;
  double total() const { return parts.empty() ? 0.0 : parts.back().second; }
};

MemoryReport ComputeMemoryReport(const Model& m, const MemoryQuery& q);

}  // namespace planner
