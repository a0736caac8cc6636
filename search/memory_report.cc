#include "planner/search/memory_report.h"

#include <cmath>
#include <cstdio>

#include "planner/cost/memory_model.h"

namespace planner {
namespace {

void InferenceParts(const Model& m, const MemoryQuery& q, MemoryReport& r) {
  const ServingMemory mem = InferenceMemory(m, q.weight_bytes, q.kv_bytes, q.batch, q.seq_len);
  r.parts = {{"weights", mem.weights}, {"kv_cache", mem.kv_cache},
             {"activations", mem.activations}, {"total", mem.total()}};
  r.formulas = {
      "weights = P x bytes per parameter",
      "kv_cache = 2 x layers x kv_heads x head_dim x bytes x batch x context",
      "activations = one layer's prefill working set 2 x tokens x (2h + q + 2kv + MLP width) + "
      "logits",
      "quick rule (formulas.md s.1) = P x 4 / (32 / Q) x 1.2"};
  const int bits = static_cast<int>(std::lround(q.weight_bytes * 8));
  r.quick_rule_bytes = QuickServingBytes(r.params.total, bits);
}

void TrainingParts(const Model& m, const MemoryQuery& q, MemoryReport& r) {
  TrainingSetup setup = q.setup;
  setup.seq_len = q.seq_len;
  setup.global_batch = q.batch;
  const Plan plan{.micro_batch = static_cast<int>(q.batch), .recompute = q.recompute};
  const MemoryBreakdown mem = TrainingMemory(m, plan, setup);
  r.parts = {{"weights", mem.weights},     {"gradients", mem.gradients},
             {"optimizer", mem.optimizer}, {"activations", mem.activations},
             {"overhead", mem.overhead},   {"total", mem.total()}};
  const StateBytes b = StateBytesPerParam(setup);
  char line[256];
  std::snprintf(line, sizeof line,
                "weights = P x %.0f bytes; gradients = P x %.0f; optimizer = P x %.0f",
                b.weights, b.gradients, b.optimizer);
  r.formulas = {line,
                "activations = layers x per-layer bytes (Korthikanti et al. 2022 Table 2) + "
                "output layer 4sbh(1 + V/h)",
                "overhead = 0.5 GiB communication buffers + 10% of activations"};
}

}  // namespace

const char* MemoryModeName(MemoryMode mode) {
  switch (mode) {
    case MemoryMode::kTraining: return "training";
    case MemoryMode::kFinetune: return "finetune";
    case MemoryMode::kInference: return "inference";
  }
  return "?";
}

MemoryReport ComputeMemoryReport(const Model& m, const MemoryQuery& q) {
  MemoryReport r{.model = m.name, .mode = q.mode, .seq_len = q.seq_len, .batch = q.batch,
                 .params = CountParameters(m)};
  if (q.mode == MemoryMode::kInference) {
    InferenceParts(m, q, r);
  } else {
    TrainingParts(m, q, r);
  }
  if (q.gpu) {
    r.gpu = q.gpu;
    r.gpus_needed = GpusNeeded(r.total(), q.gpu->usable_bytes());
  }
  return r;
}

}  // namespace planner
