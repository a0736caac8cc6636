#include "planner/search/memory_report.h"

#include <cmath>
#include <cstdio>

#include "planner/cost/memory_model.h"
#include "planner/cost/serving.h"

namespace planner {
namespace {

// Serving memory per GPU as the engines lay it out (cost/serving.h) for `batch` sequences of
// seq_len tokens, on the split `p`.
ServeMemory InferenceMemoryOn(const Model& m, const MemoryQuery& q, const Gpu& gpu, ServePlan p) {
  p.batch = q.batch;
  p.weights = q.weights;
  p.kv = q.kv;
  const ServeSetup s{.input_tokens = q.seq_len, .memory_fraction = q.memory_fraction};
  return ServingMemoryOf(m, gpu, p, s);
}

bool Holds(const ServeMemory& mem, int64_t batch) {
  return mem.kv_budget >= static_cast<double>(batch) * mem.kv_per_sequence;
}

// The fewest GPUs an engine can split the model over that hold it: tensor parallelism in powers
// of two that divide the heads, inside a node; beyond one node's TP, pipeline stages of whole
// layers (vLLM, SGLang and TensorRT-LLM split this way).
ServePlan SmallestServingSplit(const Model& m, const MemoryQuery& q, const Gpu& gpu) {
  ServePlan last;
  for (int tp = 1; tp <= 8 && m.heads % tp == 0; tp *= 2) {
    last = ServePlan{.tp = tp};
    if (Holds(InferenceMemoryOn(m, q, gpu, last), q.batch)) return last;
  }
  for (int pp = 2; pp <= m.layers; ++pp) {
    const ServePlan p{.tp = last.tp, .pp = pp};
    if (Holds(InferenceMemoryOn(m, q, gpu, p), q.batch)) return p;
  }
  return ServePlan{.tp = last.tp, .pp = static_cast<int>(m.layers)};
}

void InferenceParts(const Model& m, const MemoryQuery& q, MemoryReport& r) {
  const ServePlan split = q.gpu ? SmallestServingSplit(m, q, *q.gpu) : ServePlan{};
  const ServeMemory mem = InferenceMemoryOn(m, q, q.gpu ? *q.gpu : Gpu{}, split);
  const double kv = static_cast<double>(q.batch) * mem.kv_per_sequence;
  r.parts = {{"weights", mem.weights},
             {"kv_cache", kv},
             {"activations", mem.activations},
             {"overhead", mem.overhead},
             {"total", mem.weights + kv + mem.activations + mem.overhead}};
  r.formulas = {
      "weights = linear layers x bytes per weight (scales included) + embeddings and output "
      "layer in 16 bits, / (tp x pp)",
      "kv_cache = batch x pages of 16 tokens x 2 x layers x kv_heads x head_dim x bytes "
      "(MLA: latent + rope key), / min(tp, kv_heads) / pp",
      "activations = one engine step of 8192 tokens: 2 x tokens x (2h + q + 2kv + MLP width) "
      "/ tp + fp32 logits of one position per sequence",
      "overhead = the GPU's reserved memory + 0.5 GiB CUDA graphs (+ 0.25 GiB NCCL with TP)",
      "fits when the total is within --memory-fraction (0.9) of each GPU's memory",
      "quick rule (formulas.md s.1) = P x 4 / (32 / Q) x 1.2"};
  const int bits = static_cast<int>(std::lround(q.weight_bytes * 8));
  r.quick_rule_bytes = QuickServingBytes(r.params.total, bits);
  if (q.gpu) {
    r.tp = split.tp;
    r.pp = split.pp;
    r.gpus_needed = int64_t{split.tp} * split.pp;
  }
}

void TrainingParts(const Model& m, const MemoryQuery& q, MemoryReport& r) {
  TrainingSetup setup = q.setup;
  setup.seq_len = q.seq_len;
  setup.global_batch = q.batch;
  const Plan plan{.micro_batch = static_cast<int>(q.batch), .recompute = q.recompute,
                  .recompute_layers = q.recompute_layers,
                  .offload_activation_layers = q.offload_activation_layers};
  const MemoryBreakdown mem = TrainingMemory(m, plan, setup);
  r.parts = {{"weights", mem.weights},     {"gradients", mem.gradients},
             {"optimizer", mem.optimizer}, {"activations", mem.activations},
             {"overhead", mem.overhead},   {"total", mem.total()}};
  // --offload optimizer or --offload-activations: what leaves the GPU for host memory (not in
  // the total).
  if (mem.host > 0) r.parts.insert(r.parts.end() - 1, {"host", mem.host});
  const StateBytes b = StateBytesPerParam(setup);
  char line[256];
  std::snprintf(line, sizeof line,
                "weights = P x %.0f bytes; gradients = P x %.0f; optimizer = P x %.0f",
                b.weights, b.gradients, b.optimizer);
  r.formulas = {line,
                "activations = layers x per-layer bytes (Korthikanti et al. 2022 Table 2) + "
                "output layer 4sbh(1 + V/h)",
                "overhead = 0.5 GiB communication buffers + 10% of activations"};
  if (plan.recompute_layers > 0) {
    // Megatron's block method: the first N layers keep their input, the rest everything.
    r.formulas.push_back("recompute " + RecomputeLabel(plan, m.layers) +
                         ": those layers keep their input (2sbh), the rest all their "
                         "activations, + the layer being recomputed");
  }
  if (plan.offload_activation_layers > 0) {
    r.formulas.push_back("offload " + std::to_string(plan.offload_activation_layers) +
                         " layers: their activations in host memory, less the one in flight");
  }
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
    if (q.mode != MemoryMode::kInference) {
      r.gpus_needed = GpusNeeded(r.total(), q.gpu->usable_bytes());
    }
  }
  return r;
}

}  // namespace planner
