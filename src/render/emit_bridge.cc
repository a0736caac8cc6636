// Megatron-Bridge (NeMo's training library): the plan as Hydra-style overrides of a recipe
// (bridge.overrides, one `section.field=value` a line) and a script that runs them through its
// generic runner, scripts/training/run_recipe.py (bridge.sh). Keys are ConfigContainer fields at
// the commit of tests/fixtures/megatron-bridge-config-keys.txt; tests/emit_bridge_test.cc checks
// every one against it.
#include <algorithm>
#include <string>
#include <vector>

#include "emit_common.h"
#include "planner/render/emit.h"

namespace planner {
namespace {

// Catalog models with a recipe of their own in megatron.bridge.recipes (its __all__).
struct Recipe {
  const char* model;
  const char* recipe;
};
constexpr Recipe kRecipes[] = {
    {"llama2-7b", "llama2_7b_pretrain_config"},
    {"llama3-8b", "llama3_8b_pretrain_config"},
    {"llama3-70b", "llama3_70b_pretrain_config"},
    {"llama3.1-405b", "llama31_405b_pretrain_config"},
    {"qwen2.5-7b", "qwen25_7b_pretrain_config"},
    {"qwen2.5-72b", "qwen25_72b_pretrain_config"},
    {"qwen3-8b", "qwen3_8b_pretrain_config"},
    {"qwen3-32b", "qwen3_32b_pretrain_config"},
    {"qwen3-30b-a3b", "qwen3_30b_a3b_pretrain_config"},
    {"qwen3-235b-a22b", "qwen3_235b_a22b_pretrain_config"},
    {"deepseek-v3", "deepseek_v3_pretrain_config"},
    {"gpt-oss-20b", "gpt_oss_20b_pretrain_config"},
    {"gpt-oss-120b", "gpt_oss_120b_pretrain_config"},
    {"gemma-2-9b", "gemma2_9b_pretrain_config"},
    {"gemma-2-27b", "gemma2_27b_pretrain_config"},
};

void Set(std::vector<FlagValue>& o, const char* key, int64_t value) {
  o.emplace_back(key, std::to_string(value));
}
void Set(std::vector<FlagValue>& o, const char* key, bool value) {
  o.emplace_back(key, value ? "true" : "false");
}
void Set(std::vector<FlagValue>& o, const char* key, const char* value) {
  o.emplace_back(key, value);
}

// Every size is set, the recipe's defaults included: a recipe may come with its own CP or
// virtual stages (Llama 3 8B: CP 2), which the plan replaces.
void SetParallel(std::vector<FlagValue>& o, const Model& m, const Plan& p) {
  Set(o, "model.tensor_model_parallel_size", int64_t{p.tp});
  Set(o, "model.pipeline_model_parallel_size", int64_t{p.pp});
  if (p.virtual_stages > 1) {
    Set(o, "model.virtual_pipeline_model_parallel_size", int64_t{p.virtual_stages});
  } else {
    Set(o, "model.virtual_pipeline_model_parallel_size", "null");
  }
  Set(o, "model.context_parallel_size", int64_t{p.cp});
  Set(o, "model.expert_model_parallel_size", int64_t{p.ep});
  Set(o, "model.sequence_parallel", p.sequence_parallel);
  const StageSplitFlags split = StageSplitOf(m, p);
  if (split.embedding_slot) Set(o, "model.account_for_embedding_in_pipeline_split", true);
  if (split.loss_slot) Set(o, "model.account_for_loss_in_pipeline_split", true);
  if (split.first_stage_layers > 0) {
    Set(o, "model.num_layers_in_first_pipeline_stage", int64_t{split.first_stage_layers});
  }
}

void SetMemory(std::vector<FlagValue>& o, const Plan& p) {
  if (p.recompute == Recompute::kFull) {
    Set(o, "model.recompute_granularity", "full");
    Set(o, "model.recompute_method", p.recompute_layers > 0 ? "block" : "uniform");
    Set(o, "model.recompute_num_layers", int64_t{std::max(1, p.recompute_layers)});
  } else {
    Set(o, "model.recompute_granularity", p.recompute == Recompute::kSelective ? "selective"
                                                                                : "null");
    Set(o, "model.recompute_method", "null");
    Set(o, "model.recompute_num_layers", "null");
  }
  Set(o, "model.cpu_offloading", p.offload_activation_layers > 0);
  if (p.offload_activation_layers > 0) {
    Set(o, "model.cpu_offloading_num_layers", int64_t{p.offload_activation_layers});
  }
  // The distributed optimizer is ZeRO-1 (both configs must agree); Megatron FSDP shards
  // gradients (ZeRO-2) and weights too (ZeRO-3), as the perf recipes set it
  // (scripts/performance/utils/helpers.py, set_megatron_fsdp_overrides).
  Set(o, "ddp.use_distributed_optimizer", p.zero_stage >= 1);
  Set(o, "optimizer.use_distributed_optimizer", p.zero_stage >= 1);
  Set(o, "ddp.use_megatron_fsdp", UsesMegatronFsdp(p));
  if (UsesMegatronFsdp(p)) {
    Set(o, "ddp.data_parallel_sharding_strategy",
        p.zero_stage == 2 ? "optim_grads" : "optim_grads_params");
    Set(o, "ddp.average_in_collective", false);  // not supported with Megatron FSDP
  }
  Set(o, "ddp.overlap_grad_reduce", p.dp > 1);
  Set(o, "ddp.overlap_param_gather", p.dp > 1 && p.zero_stage >= 1);
}

const char* MixedPrecisionRecipe(Precision precision) {
  switch (precision) {
    case Precision::kBf16: return "bf16_mixed";
    case Precision::kFp16: return "fp16_mixed";
    // Per-tensor current scaling: what NVIDIA's FP8 performance recipes run (FP8-CS).
    case Precision::kFp8: return "bf16_with_fp8_current_scaling_mixed";
    case Precision::kFp32:
    case Precision::kTf32: return "null";
  }
  return "null";
}

void SetNumerics(std::vector<FlagValue>& o, const TrainingSetup& s) {
  Set(o, "mixed_precision", MixedPrecisionRecipe(s.precision));
  Set(o, "ddp.grad_reduce_in_fp32", s.fp32_grads);
  if (s.cuda_graphs) {
    Set(o, "model.cuda_graph_impl", "local");
    Set(o, "model.cuda_graph_scope", "full_iteration");
  }
}

// Without a recipe of its own, the model's shape goes over whichever recipe the user picks.
void SetShape(std::vector<FlagValue>& o, const Model& m) {
  Set(o, "model.num_layers", m.layers);
  Set(o, "model.hidden_size", m.hidden);
  Set(o, "model.ffn_hidden_size", m.ffn_hidden);
  Set(o, "model.num_attention_heads", m.heads);
  Set(o, "model.num_query_groups", m.kv_heads);
  if (m.head_dim > 0 && m.head_dim * m.heads != m.hidden) Set(o, "model.kv_channels", m.head_dim);
}

}  // namespace

const char* BridgeRecipe(const Model& m) {
  for (const Recipe& r : kRecipes) {
    if (m.name == r.model) return r.recipe;
  }
  return nullptr;
}

std::vector<std::string> BridgeRecipeNames() {
  std::vector<std::string> names;
  for (const Recipe& r : kRecipes) names.emplace_back(r.recipe);
  return names;
}

std::vector<FlagValue> BridgeOverrides(const Specs& s, const Plan& p) {
  std::vector<FlagValue> o;
  if (BridgeRecipe(s.model) == nullptr) SetShape(o, s.model);
  Set(o, "model.seq_length", s.setup.seq_len);
  // The dataset's field is sequence_length (its seq_length is a property the overrides miss).
  Set(o, "dataset.sequence_length", s.setup.seq_len);
  SetParallel(o, s.model, p);
  SetMemory(o, p);
  SetNumerics(o, s.setup);
  Set(o, "train.global_batch_size", s.setup.global_batch);
  Set(o, "train.micro_batch_size", int64_t{p.micro_batch});
  return o;
}

std::vector<std::string> BridgeOverrideArgv(const Specs& s, const Plan& p) {
  std::vector<std::string> argv;
  for (const auto& [key, value] : BridgeOverrides(s, p)) argv.push_back(key + "=" + value);
  return argv;
}

std::string BridgeOverridesFile(const Specs& s, const Plan& p) {
  std::string text;
  for (const std::string& word : BridgeOverrideArgv(s, p)) text += word + "\n";
  return text;
}

namespace {

// What the overrides cannot say.
std::string BridgeNotes(const Specs& s, const Plan& p) {
  std::string n;
  if (BridgeRecipe(s.model) == nullptr) {
    n += "Megatron-Bridge has no recipe of " + s.model.name +
         " in the checked list: set RECIPE to the closest (same\n"
         "architecture family); bridge.overrides sets its layers, widths and heads.\n";
  }
  if (s.setup.comm_overlap && p.tp > 1) {
    n += "NOTE: the plan overlaps TP communication with matmuls. The recipe's comm_overlap is\n"
         "None and an override cannot create it: set comm_overlap =\n"
         "CommOverlapConfig(tp_comm_overlap=True) in the recipe, or expect a slower step.\n";
  }
  if (ZeroBeyondPipelineLimit(p)) {
    n += "WARNING: the plan shards gradients or weights (ZeRO-" + std::to_string(p.zero_stage) +
         ") with pipeline parallelism, which Megatron FSDP\n"
         "does not run: these overrides use the distributed optimizer (ZeRO-1), more memory.\n";
  }
  if (s.setup.optimizer == Optimizer::kAdamW8bit) {
    n += "NOTE: Megatron-Bridge's optimizer has no 8-bit AdamW; Adam keeps 32-bit moments.\n";
  }
  return n;
}

}  // namespace

// The data and tokenizer are placeholders; the plan lives in bridge.overrides.
constexpr const char* kBridgeScript = R"sh(#!/bin/bash
# Megatron-Bridge scripts/training/run_recipe.py for
# @summary@.
# Set BRIDGE_DIR (a Megatron-Bridge checkout), DATA_PATH (an indexed dataset prefix) and
# TOKENIZER_MODEL, or MOCK_DATA=1 for a smoke test without data. Start it on every node with
# NODE_RANK and MASTER_ADDR set, or through launch.sh (FRAMEWORK=bridge), which sets
# TORCHRUN_ARGS. Iterations, learning-rate schedule and checkpoints are the recipe's: add
# overrides (train.train_iters=..., checkpoint.save=...) to change them.
@notes@set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
@env@@recipe@
OVERRIDES=()  # bridge.overrides: the plan, one override a line
while read -r line; do OVERRIDES+=("$line"); done < "$HERE/bridge.overrides"

if [[ "${MOCK_DATA:-0}" == 1 ]]; then
  DATA_ARGS=(--dataset llm-pretrain-mock)
else
  DATA_ARGS=(--dataset llm-pretrain
    "dataset.blend=[[${DATA_PATH:?set DATA_PATH to an indexed dataset prefix}],null]"
    tokenizer.tokenizer_type=HuggingFaceTokenizer
    "tokenizer.tokenizer_model=${TOKENIZER_MODEL:?set TOKENIZER_MODEL to a tokenizer}")
fi

# torchrun's own flags (not run_recipe.py's).
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"@torchrun@"}
RUNNER="${BRIDGE_DIR:?set BRIDGE_DIR to a Megatron-Bridge checkout}/scripts/training/run_recipe.py"
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "$RUNNER" --recipe "$RECIPE" "${DATA_ARGS[@]}" "${OVERRIDES[@]}"
)sh";

std::string BridgeScript(const Specs& s, const Plan& p) {
  const char* recipe = BridgeRecipe(s.model);
  const std::string recipe_line =
      recipe ? "RECIPE=${RECIPE:-" + std::string(recipe) + "}"
             : "RECIPE=${RECIPE:?set RECIPE to a Megatron-Bridge recipe such as "
               "llama3_8b_pretrain_config}";
  return Fill(kBridgeScript, {{"summary", PlanSummary(s, p)},
                              {"notes", Commented(BridgeNotes(s, p))},
                              {"env", CudaConnectionsEnv(p) + NcclEnv(s.cluster)},
                              {"recipe", recipe_line},
                              {"torchrun", ManualTorchrunArgs(s.cluster)}});
}

}  // namespace planner
