// `planner evaluate`'s plan flags: the options, their range checks and the plan they state.
#include "cli_common.h"
#include "planner/cost/framework.h"
#include "planner/cost/memory_model.h"
#include "planner/model/error.h"
#include "planner/search/plan_rules.h"

namespace planner {
namespace po = boost::program_options;

void AddPlanOptions(po::options_description& d, PlanInput& in) {
  Plan& p = in.plan;
  d.add_options()
      ("tp", PositiveValue(&p.tp, "--tp"), "tensor-parallel size")
      ("pp", PositiveValue(&p.pp, "--pp"), "pipeline-parallel size")
      ("dp", PositiveValue(&in.dp, "--dp"), "data-parallel size (default: GPUs / (tp cp pp))")
      ("cp", PositiveValue(&p.cp, "--cp"), "context-parallel size")
      ("ep", PositiveValue(&p.ep, "--ep"), "expert-parallel size")
      ("micro-batch", PositiveValue(&p.micro_batch, "--micro-batch"), "sequences per micro-batch")
      ("recompute", po::value(&in.recompute), "none, selective, full")
      ("recompute-layers", PositiveValue(&p.recompute_layers, "--recompute-layers"),
       "with --recompute full: recompute only the first N layers of each stage (Megatron's "
       "--recompute-method block); default every layer")
      ("offload-activations", PositiveValue(&p.offload_activation_layers, "--offload-activations"),
       "move the first N layers' activations to host memory during the forward, back for the "
       "backward (Megatron-core cpu_offloading_num_layers; megatron, nemo; pp 1, no recompute)")
      ("sequence-parallel", po::bool_switch(&p.sequence_parallel), "sequence parallelism")
      ("zero", po::value(&p.zero_stage), "ZeRO stage 0-3 (1 = distributed optimizer)")
      ("virtual-stages", PositiveValue(&p.virtual_stages, "--virtual-stages"),
       "model chunks per pipeline rank")
      // 0 stands for "not given" in Plan, so a typed 0 is refused rather than ignored.
      ("first-stage-layers", PositiveValue(&p.first_stage_layers, "--first-stage-layers"),
       "layers on the first stage")
      ("last-stage-layers", PositiveValue(&p.last_stage_layers, "--last-stage-layers"),
       "layers on the last stage");
}

int64_t CheckPlanSizes(const Plan& p, int64_t dp) {
  auto positive = [](int64_t v, const char* flag) {
    if (v < 1) throw InputError(flag, "must be a positive integer, got " + std::to_string(v));
  };
  auto at_most = [](int64_t v, int64_t most, const char* flag) {
    if (v > most) {
      throw InputError(flag, "must be at most " + std::to_string(most) + ", got " +
                                 std::to_string(v));
    }
  };
  for (const auto& [v, flag] : {std::pair<int64_t, const char*>{p.tp, "--tp"},
                                {p.pp, "--pp"}, {p.cp, "--cp"}, {p.ep, "--ep"}}) {
    positive(v, flag);
    at_most(v, kMaxGpus, flag);
  }
  positive(p.micro_batch, "--micro-batch");
  at_most(p.micro_batch, ModelLimits::kGlobalBatch, "--micro-batch");
  positive(p.virtual_stages, "--virtual-stages");
  at_most(p.virtual_stages, ModelLimits::kLayers, "--virtual-stages");
  if (p.zero_stage < 0 || p.zero_stage > 3) {
    throw InputError("--zero", "must be 0, 1, 2 or 3, got " + std::to_string(p.zero_stage));
  }
  if (p.first_stage_layers < 0) throw InputError("--first-stage-layers", "must not be negative");
  if (p.last_stage_layers < 0) throw InputError("--last-stage-layers", "must not be negative");
  if (dp < 0) throw InputError("--dp", "must be a positive integer, got " + std::to_string(dp));
  // Each factor is at most kMaxGpus (10^6), so these products stay far inside int64.
  const int64_t model_parallel = static_cast<int64_t>(p.tp) * p.cp * p.pp;
  if (model_parallel > kMaxGpus) {
    throw InputError("--tp", "tp x cp x pp = " + std::to_string(model_parallel) +
                                 " is more than the largest cluster, " +
                                 std::to_string(kMaxGpus) + " GPUs");
  }
  if (dp > kMaxGpus / model_parallel) {
    throw InputError("--dp", "tp x cp x pp = " + std::to_string(model_parallel) + " times dp " +
                                 std::to_string(dp) + " is more than the largest cluster, " +
                                 std::to_string(kMaxGpus) + " GPUs");
  }
  return model_parallel;
}

void ValidatePlanFlags(const Plan& p, int64_t dp, const Specs& specs) {
  const int64_t model_parallel = CheckPlanSizes(p, dp);
  if (specs.cluster.gpus % model_parallel != 0) {
    throw InputError("--gpus", std::to_string(specs.cluster.gpus) +
                                   " GPUs are not a multiple of tp x cp x pp = " +
                                   std::to_string(model_parallel));
  }
  if (dp > 0 && dp * model_parallel != specs.cluster.gpus) {
    throw InputError("--dp", "tp x cp x pp x dp = " + std::to_string(dp * model_parallel) +
                                 ", not the " + std::to_string(specs.cluster.gpus) + " GPUs");
  }
}

void CheckRecomputeLayers(const Plan& p, const Model& m, Framework framework) {
  if (p.recompute_layers == 0) return;
  const char* flag = "--recompute-layers";
  if (p.recompute != Recompute::kFull) throw InputError(flag, "needs --recompute full");
  if (!FactsOf(framework).block_recompute) {
    throw InputError(flag, std::string(FrameworkName(framework)) +
                               " checkpoints every block; only megatron, nemo and deepspeed "
                               "recompute some layers (--recompute-method block)");
  }
  // Megatron counts N in each model chunk's layers (Megatron-DeepSpeed
  // megatron/model/transformer.py:1809, 1955-1960).
  const int64_t most = LargestStageLayers(m, p) / p.virtual_stages;
  if (p.recompute_layers < 1 || p.recompute_layers > most) {
    throw InputError(flag, "must be 1 to " + std::to_string(most) + " (the layers of " +
                               (p.virtual_stages > 1 ? "a model chunk of " : "") +
                               "the largest pipeline stage), got " +
                               std::to_string(p.recompute_layers));
  }
}

void CheckActivationOffload(const Plan& p, const Model& m, const TrainingSetup& s) {
  if (p.offload_activation_layers == 0) return;
  const char* flag = "--offload-activations";
  // Megatron-core's TransformerConfig.__post_init__ refuses the rest (transformer_config.py:
  // "no support for Pipeline parallelism with CPU offloading", "CPU offloading does not work
  // when activation recomputation is enabled", num_layers bound).
  if (!FactsOf(s.framework).megatron_core) {
    throw InputError(flag, std::string(FrameworkName(s.framework)) +
                               " has no layer-wise activation offload; megatron and nemo do "
                               "(TransformerConfig cpu_offloading)");
  }
  if (p.pp != 1) throw InputError(flag, "needs --pp 1: Megatron-core offloads without pipelines");
  if (p.recompute != Recompute::kNone) {
    throw InputError(flag, "needs --recompute none: Megatron-core refuses it with recomputation");
  }
  if (p.offload_activation_layers < 1 || p.offload_activation_layers >= m.layers) {
    throw InputError(flag, "must be 1 to " + std::to_string(m.layers - 1) +
                               " (fewer than the model's layers), got " +
                               std::to_string(p.offload_activation_layers));
  }
  if (s.cuda_graphs) {
    throw InputError(flag, "Megatron-core refuses it with CUDA graphs (--cuda-graphs)");
  }
}

Plan ResolvePlan(const PlanInput& in, const Specs& specs, const SearchLimits& limits) {
  Plan p = in.plan;
  ValidatePlanFlags(p, in.dp, specs);
  p.dp = static_cast<int>(specs.cluster.gpus / (static_cast<int64_t>(p.tp) * p.cp * p.pp));
  const int64_t per_step = static_cast<int64_t>(p.micro_batch) * p.dp;
  if (specs.setup.global_batch % per_step != 0) {
    throw InputError("--global-batch", "global batch " + std::to_string(specs.setup.global_batch) +
                                           " is not a multiple of micro-batch x dp = " +
                                           std::to_string(per_step));
  }
  p.grad_accum = static_cast<int>(specs.setup.global_batch / per_step);
  // A plan no rule of the table allows (tp 3 for 32 heads, ep 2 on a dense model) is a typo,
  // not an infeasible plan: one line naming the flag.
  const RuleInput rule_input{specs.model, specs.cluster, p, specs.setup, limits};
  const PlanRule* broken = FirstBrokenRule(rule_input);
  if (broken && broken->reason == Reason::kIndivisible) {
    throw InputError(broken->flag, broken->explain(rule_input));
  }
  CheckRecomputeLayers(p, specs.model, specs.setup.framework);
  CheckActivationOffload(p, specs.model, specs.setup);
  return p;
}

}  // namespace planner
