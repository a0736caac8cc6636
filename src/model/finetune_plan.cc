#include "planner/model/finetune_plan.h"

#include <utility>

namespace planner {

const char* FinetuneMethodName(FinetuneMethod m) {
  switch (m) {
    case FinetuneMethod::kFull: return "full";
    case FinetuneMethod::kLora: return "lora";
    case FinetuneMethod::kQlora: return "qlora";
    case FinetuneMethod::kFreeze: return "freeze";
    case FinetuneMethod::kGalore: return "galore";
  }
  return "?";
}

const char* BaseWeightsName(BaseWeights b) {
  switch (b) {
    case BaseWeights::kBf16: return "bf16";
    case BaseWeights::kInt8: return "int8";
    case BaseWeights::kNf4: return "nf4";
  }
  return "?";
}

const char* FinetuneOptimizerName(FinetuneOptimizer o) {
  switch (o) {
    case FinetuneOptimizer::kAdamW: return "adamw";
    case FinetuneOptimizer::kAdamW8bit: return "adamw-8bit";
    case FinetuneOptimizer::kPagedAdamW8bit: return "paged-adamw-8bit";
    case FinetuneOptimizer::kAdafactor: return "adafactor";
    case FinetuneOptimizer::kSgd: return "sgd";
  }
  return "?";
}

const char* ShardingName(Sharding s) {
  switch (s) {
    case Sharding::kNone: return "none";
    case Sharding::kZero1: return "zero-1";
    case Sharding::kZero2: return "zero-2";
    case Sharding::kZero3: return "zero-3";
    case Sharding::kFsdp: return "fsdp";
    case Sharding::kFsdpGradOp: return "fsdp-grad-op";
  }
  return "?";
}

const char* CheckpointingName(Checkpointing c) {
  switch (c) {
    case Checkpointing::kNone: return "none";
    case Checkpointing::kSelective: return "selective";
    case Checkpointing::kFull: return "full";
  }
  return "?";
}

const char* FinetuneFrameworkName(FinetuneFramework f) {
  switch (f) {
    case FinetuneFramework::kHuggingFace: return "hf";
    case FinetuneFramework::kTorchtune: return "torchtune";
  }
  return "?";
}

const char* MasterWeightsName(MasterWeights w) {
  return w == MasterWeights::kNone ? "none" : "fp32";
}

bool AnyAttention(const AdapterTargets& t) { return t.q || t.k || t.v || t.o; }

std::string AdapterTargetsName(const AdapterTargets& t) {
  if (t == kAttentionTargets) return "attention";
  if (t == kMlpTargets) return "mlp";
  if (t == kAllTargets) return "all";
  std::string name;
  const std::pair<bool, const char*> parts[] = {
      {t.q, "q"}, {t.k, "k"}, {t.v, "v"}, {t.o, "o"}, {t.mlp, "mlp"}};
  for (const auto& [on, part] : parts) {
    if (on) name += (name.empty() ? "" : "+") + std::string(part);
  }
  return name.empty() ? "none" : name;
}

}  // namespace planner
