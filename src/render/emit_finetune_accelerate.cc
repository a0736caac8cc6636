// The Hugging Face set: accelerate.yaml (its fsdp_config or deepspeed_config section),
// ds_config.json where DeepSpeed shards, and run.sh with the `accelerate launch` line. Key names
// are accelerate's (commands/config/config_args.py, commands/launch.py) and DeepSpeed's
// (docs/_pages/config-json.md); tests/emit_finetune_test.cc checks them against the fixtures.
#include <nlohmann/json.hpp>

#include <string>

#include "emit_common.h"
#include "emit_finetune_common.h"

namespace planner {
namespace {

using nlohmann::ordered_json;

int ZeroStage(Sharding s) {
  if (s == Sharding::kZero1) return 1;
  if (s == Sharding::kZero2) return 2;
  if (s == Sharding::kZero3) return 3;
  return 0;
}

bool IsFsdp(Sharding s) { return s == Sharding::kFsdp || s == Sharding::kFsdpGradOp; }

std::string DistributedType(const FinetunePlan& p) {
  if (ZeroStage(p.sharding) > 0) return "DEEPSPEED";
  if (IsFsdp(p.sharding)) return "FSDP";
  return p.gpus > 1 ? "MULTI_GPU" : "'NO'";
}

std::string MixedPrecision(Precision precision) {
  if (precision == Precision::kFp16) return "fp16";
  if (precision == Precision::kBf16 || precision == Precision::kFp8) return "bf16";
  return "'no'";
}

std::string YamlBool(bool b) { return b ? "true" : "false"; }

std::string FsdpSection(const Model& m, const FinetunePlan& p) {
  const HfFamily f = HfFamilyOf(m);
  std::string y = "fsdp_config:\n";
  y += "  fsdp_activation_checkpointing: " + YamlBool(p.checkpointing != Checkpointing::kNone) +
       "\n";
  y += "  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP\n";
  y += "  fsdp_backward_prefetch: BACKWARD_PRE\n";
  // Rank 0 alone reads the checkpoint and the others receive it: one host copy, not one per
  // GPU, which QLoRA on FSDP needs (and sync_module_states with it).
  y += "  fsdp_cpu_ram_efficient_loading: true\n";
  y += "  fsdp_forward_prefetch: false\n";
  // FSDP's CPU offload moves parameters, gradients and the optimizer step together.
  y += "  fsdp_offload_params: " + YamlBool(p.offload_params || p.offload_optimizer) + "\n";
  y += "  fsdp_sharding_strategy: " +
       std::string(p.sharding == Sharding::kFsdp ? "FULL_SHARD" : "SHARD_GRAD_OP") + "\n";
  y += "  fsdp_state_dict_type: SHARDED_STATE_DICT\n";
  y += "  fsdp_sync_module_states: true\n";
  // Without a class, accelerate wraps the model's own _no_split_modules.
  if (!f.decoder_layer.empty())
    y += "  fsdp_transformer_layer_cls_to_wrap: " + f.decoder_layer + "\n";
  // Frozen and trained weights in one FSDP unit (LoRA, freeze) need the original parameters.
  y += "  fsdp_use_orig_params: true\n";
  y += "  fsdp_version: 1\n";
  return y;
}

std::string DeepSpeedSection(const NodeLayout& n) {
  std::string y = "deepspeed_config:\n  deepspeed_config_file: ds_config.json\n";
  if (n.nnodes > 1) y += "  deepspeed_multinode_launcher: standard\n";
  return y + "  zero3_init_flag: true\n";
}

}  // namespace

std::string AccelerateYaml(const Model& m, const Cluster& c, const FinetunePlan& p,
                           const FinetuneSetup& s) {
  const NodeLayout n = FinetuneNodes(c, p);
  std::string y = WrappedComment("accelerate config for " + FinetuneSummary(m, c, p) + ".") +
                  "# Written by `planner finetune`; run.sh passes it to accelerate launch.\n";
  y += "compute_environment: LOCAL_MACHINE\n";
  y += "debug: false\n";
  y += "distributed_type: " + DistributedType(p) + "\n";
  y += "machine_rank: 0\n";
  y += "main_training_function: main\n";
  // With a DeepSpeed config file, precision lives there; accelerate refuses it twice.
  if (ZeroStage(p.sharding) == 0) y += "mixed_precision: " + MixedPrecision(s.precision) + "\n";
  y += "num_machines: " + std::to_string(n.nnodes) + "\n";
  y += "num_processes: " + std::to_string(p.gpus) + "\n";
  y += "rdzv_backend: static\n";
  y += "same_network: true\n";
  y += "use_cpu: false\n";
  if (IsFsdp(p.sharding)) y += FsdpSection(m, p);
  if (ZeroStage(p.sharding) > 0) y += DeepSpeedSection(n);
  return y;
}

namespace {

ordered_json ZeroSection(const FinetunePlan& p) {
  const int stage = ZeroStage(p.sharding);
  ordered_json z = {{"stage", stage}, {"overlap_comm", true}, {"contiguous_gradients", true}};
  // "auto": the Hugging Face integration fills them from the model (hidden^2 and its shares).
  z["reduce_bucket_size"] = "auto";
  if (stage == 3) {
    z["stage3_prefetch_bucket_size"] = "auto";
    z["stage3_param_persistence_threshold"] = "auto";
    z["stage3_gather_16bit_weights_on_model_save"] = true;
  }
  if (p.offload_optimizer) z["offload_optimizer"] = {{"device", "cpu"}, {"pin_memory", true}};
  if (p.offload_params && stage == 3) {
    z["offload_param"] = {{"device", "cpu"}, {"pin_memory", true}};
  }
  return z;
}

}  // namespace

std::string HfDeepSpeedConfig(const FinetunePlan& p, const FinetuneSetup& s) {
  ordered_json j;
  // DeepSpeed checks train_batch_size = micro x accumulation x data-parallel ranks, and the
  // Trainer checks each against TrainingArguments.
  j["train_batch_size"] = static_cast<int64_t>(p.micro_batch) * p.grad_accum * p.dp;
  j["train_micro_batch_size_per_gpu"] = p.micro_batch;
  j["gradient_accumulation_steps"] = p.grad_accum;
  j["gradient_clipping"] = 1.0;  // TrainingArguments' max_grad_norm default
  if (s.precision == Precision::kFp16) {
    j["fp16"] = {{"enabled", true}, {"loss_scale", 0}};
  } else if (s.precision == Precision::kBf16 || s.precision == Precision::kFp8) {
    j["bf16"] = {{"enabled", true}};
  }
  j["zero_optimization"] = ZeroSection(p);
  if (p.offload_optimizer) {
    // ZeRO-Offload steps on the CPU with DeepSpeed's CPU Adam; "auto" takes the Trainer's values.
    j["optimizer"] = {
        {"type", "AdamW"},
        {"params", {{"lr", "auto"}, {"betas", "auto"}, {"eps", "auto"}, {"weight_decay", "auto"}}}};
  }
  j["steps_per_print"] = 100;
  j["wall_clock_breakdown"] = false;
  return j.dump(2) + "\n";
}

std::string HfRunScript(const Model& m, const Cluster& c, const FinetunePlan& p) {
  const NodeLayout n = FinetuneNodes(c, p);
  std::string t =
      "#!/bin/bash\n" + WrappedComment("Fine-tuning plan: " + FinetuneSummary(m, c, p) + ".");
  t += "# Written by `planner finetune`. Set MODEL_ID (unless train.py names it) and DATASET";
  if (n.nnodes > 1) {
    t += ";\n# start this on each of the " + std::to_string(n.nnodes) +
         " nodes with NODE_RANK (0.." + std::to_string(n.nnodes - 1) + ") and MASTER_ADDR set";
  }
  t += ".\nset -euo pipefail\ncd \"$(dirname \"${BASH_SOURCE[0]}\")\"\n";
  t += "accelerate launch --config_file accelerate.yaml";
  if (n.nnodes > 1) {
    t += " \\\n  --machine_rank \"${NODE_RANK:?set NODE_RANK}\""
         " \\\n  --main_process_ip \"${MASTER_ADDR:?set MASTER_ADDR}\""
         " \\\n  --main_process_port \"${MASTER_PORT:-29500}\" \\\n ";
  }
  return t + " train.py \"$@\"\n";
}

namespace {

// What the Hugging Face files run differently from the plan, one sentence each.
std::vector<std::string> HfNotes(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  std::vector<std::string> n;
  if (p.checkpointing == Checkpointing::kSelective) {
    n.push_back(
        "transformers models have no selective checkpointing: every block is "
        "checkpointed whole, recomputing more than the plan counts.");
  }
  if (IsFsdp(p.sharding) && p.offload_optimizer && !p.offload_params) {
    n.push_back(
        "FSDP offloads parameters, gradients and the optimizer step together: "
        "fsdp_offload_params moves more to the host than the plan's optimizer offload.");
  }
  if (p.offload_params && ZeroStage(p.sharding) > 0 && ZeroStage(p.sharding) < 3) {
    n.push_back(
        "ZeRO offloads parameters at stage 3 only: ds_config.json offloads the "
        "optimizer states alone.");
  }
  if (p.offload_optimizer && ZeroStage(p.sharding) > 0 &&
      s.optimizer != FinetuneOptimizer::kAdamW) {
    n.push_back(std::string("ZeRO-Offload steps with DeepSpeed's CPU AdamW, not ") +
                FinetuneOptimizerName(s.optimizer) + ": ds_config.json names AdamW.");
  }
  if (p.method == FinetuneMethod::kGalore && p.sharding != Sharding::kNone) {
    n.push_back(
        "GaLore projects whole 2-D weights; under ZeRO or FSDP the optimizer sees "
        "flat shards and the Trainer's GaLore does not apply: run it without sharding.");
  }
  if (p.method == FinetuneMethod::kGalore && s.optimizer == FinetuneOptimizer::kSgd) {
    n.push_back("transformers has no GaLore SGD: galore_adamw is emitted.");
  }
  if (s.precision == Precision::kFp8) {
    n.push_back("the Trainer path emitted here runs bf16, not fp8.");
  }
  if (UsesAdapters(p) && HfFamilyOf(m).name.empty()) {
    n.push_back("the planner does not know " + m.name +
                "'s module names: LoRA goes on every linear layer (\"all-linear\").");
  } else if (UsesAdapters(p) && p.targets.mlp && !HfFamilyOf(m).mlp_note.empty()) {
    n.push_back(HfFamilyOf(m).mlp_note + ".");
  }
  const bool some_attention =
      AnyAttention(p.targets) && !(p.targets.q && p.targets.k && p.targets.v && p.targets.o);
  if (UsesAdapters(p) && some_attention && !SeparateProjections(HfFamilyOf(m))) {
    n.push_back(m.name +
                " fuses its attention projections: the adapter goes on the whole "
                "fused matrices, more than the plan's " +
                AdapterTargetsName(p.targets) + ".");
  }
  return n;
}

}  // namespace

FinetuneFiles EmitHuggingFaceFinetune(const Model& m, const Cluster& c, const FinetunePlan& p,
                                      const FinetuneSetup& s) {
  if (p.tp > 1) {
    return {.files = {},
            .notes = {"transformers' Trainer with accelerate runs no tensor parallelism for "
                      "this plan (TP " +
                      std::to_string(p.tp) +
                      "): no Hugging Face files are written; choose a plan with TP 1."}};
  }
  FinetuneFiles out{.files = {}, .notes = HfNotes(m, p, s)};
  out.files.push_back({"train.py", HfTrainScript(m, c, p, s, out.notes)});
  out.files.push_back({"accelerate.yaml", AccelerateYaml(m, c, p, s)});
  if (ZeroStage(p.sharding) > 0) out.files.push_back({"ds_config.json", HfDeepSpeedConfig(p, s)});
  out.files.push_back({"run.sh", HfRunScript(m, c, p)});
  return out;
}

}  // namespace planner
