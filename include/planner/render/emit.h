// Ready-to-run configuration for a plan: Megatron-LM arguments, a DeepSpeed config and launchers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "planner/search/evaluate.h"
#include "planner/input/specs.h"

namespace planner {

/// Which snippets `--emit` asks for. plan.json is written whatever the set.
struct EmitSet {
  bool megatron = false;   ///< megatron.args, megatron.sh
  bool deepspeed = false;  ///< ds_config.json, deepspeed.sh
  bool launch = false;     ///< launch.sh
  bool bridge = false;     ///< bridge.overrides, bridge.sh
  bool operator==(const EmitSet&) const = default;
};
inline constexpr EmitSet kEmitAll{.megatron = true, .deepspeed = true, .launch = true,
                                  .bridge = true};

/// Parses a comma-separated subset of "megatron,deepspeed,launch,bridge". Throws
/// InputError(where).
EmitSet ParseEmitSet(const std::string& list, const std::string& where);

/// One Megatron-LM command-line flag and its value ("" for a switch).
using FlagValue = std::pair<std::string, std::string>;

/// Megatron-LM pretrain_gpt.py arguments for the plan and the model: parallel sizes, batch,
/// recomputation, optimizer sharding, precision, model shape. Flags as Megatron-LM spells them.
std::vector<FlagValue> MegatronArgs(const Specs& s, const Plan& p);
/// The same arguments as argv tokens ("--flag", "value", ...).
std::vector<std::string> MegatronArgv(const Specs& s, const Plan& p);

/// A node layout torchrun can start: nnodes x nproc_per_node = GPUs.
struct NodeLayout {
  int64_t nnodes = 1;
  int64_t nproc_per_node = 1;
};
NodeLayout NodesFor(const Cluster& c);

/// The files of one plan, each as written to disk.
struct Snippets {
  std::string megatron_args;   ///< megatron.args: pretrain_gpt.py flags, one (with value) a line
  std::string megatron_sh;     ///< megatron.sh: torchrun of Megatron-LM with megatron.args
  std::string ds_config_json;  ///< ds_config.json: batch, ZeRO, precision, checkpointing
  std::string deepspeed_sh;    ///< deepspeed.sh: Megatron-DeepSpeed reading ds_config.json
  std::string launch_sh;       ///< launch.sh: Slurm sbatch script running torchrun on each node
  std::string bridge_overrides;  ///< bridge.overrides: Megatron-Bridge `section.field=value` lines
  std::string bridge_sh;       ///< bridge.sh: Megatron-Bridge run_recipe.py with the overrides
  std::string plan_json;       ///< plan.json: `planner evaluate --format json` for the plan
};

std::string MegatronArgsFile(const Specs& s, const Plan& p);
std::string MegatronScript(const Specs& s, const Plan& p);
std::string DeepSpeedConfig(const Specs& s, const Plan& p);
std::string DeepSpeedScript(const Specs& s, const Plan& p);
std::string LaunchScript(const Specs& s, const Plan& p);

/// Megatron-Bridge (NeMo): the plan as overrides of a recipe's ConfigContainer, in order, each
/// a key ("model.tensor_model_parallel_size") and its value as run_recipe.py parses it.
std::vector<FlagValue> BridgeOverrides(const Specs& s, const Plan& p);
/// The same as run_recipe.py's words: "key=value".
std::vector<std::string> BridgeOverrideArgv(const Specs& s, const Plan& p);
std::string BridgeOverridesFile(const Specs& s, const Plan& p);
std::string BridgeScript(const Specs& s, const Plan& p);
/// The megatron.bridge.recipes function of a catalog model with a recipe of its own, else null.
const char* BridgeRecipe(const Model& m);
/// Every recipe name BridgeRecipe can give.
std::vector<std::string> BridgeRecipeNames();

/// Every snippet of one scored plan.
Snippets Emit(const Specs& s, const Evaluation& e);

/// Writes out_dir/plan-N/ (N = 1, 2, ... in rank order) with the files `set` names and plan.json.
/// The set is built in a directory beside out_dir and swapped in whole, so out_dir holds the old
/// set or the new one, never a mix. out_dir must be new, empty or an earlier set of plan-N
/// directories; anything else is refused. Throws InputError("--out", ...).
void WritePlanFiles(const std::string& out_dir, const Specs& s,
                    const std::vector<Evaluation>& plans, EmitSet set);

}  // namespace planner
