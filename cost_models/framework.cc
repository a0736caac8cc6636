#include "planner/cost/framework.h"

namespace planner {
namespace {

constexpr FrameworkFacts kFacts[] = {
    {.framework = Framework::kMegatron,
     .name = "megatron",
     // Megatron-LM's defaults: --tp-comm-overlap and --overlap-p2p-communication are opt-in;
     // --accumulate-allreduce-grads-in-fp32 is forced on with --bf16 (megatron/training/
     // arguments.py).
     .comm_overlap_default = false,
     .fp32_grads_default = true,
     .interleaved_pipeline = true,
     .max_zero_with_pp = 1,
     .max_zero = 3,
     .block_recompute = true,
     .megatron_core = true,
     .te_attention = true,
     .source = "NVIDIA/Megatron-LM megatron/training/arguments.py"},
    {.framework = Framework::kNemo,
     .name = "nemo",
     // NeMo and Megatron-Bridge performance recipes for Hopper turn on tp_comm_overlap and
     // overlap_p2p_comm; NeMo's distributed fused Adam syncs grads in bf16 (grad_sync_dtype:
     // bf16 in NeMo-Framework-Launcher conf/training/*; Megatron-Bridge recipes set
     // grad_reduce_in_fp32 explicitly when they want fp32).
     .comm_overlap_default = true,
     .fp32_grads_default = false,
     .interleaved_pipeline = true,
     .max_zero_with_pp = 1,
     .max_zero = 3,
     .block_recompute = true,
     .megatron_core = true,
     .searches_activation_offload = true,
     .te_attention = true,
     .source = "NVIDIA/NeMo-Framework-Launcher conf/training; NVIDIA-NeMo/Megatron-Bridge "
               "recipes (comm_overlap)"},
    {.framework = Framework::kDeepSpeed,
     .name = "deepspeed",
     // DeepSpeed's PipelineEngine runs 1F1B only (deepspeed/runtime/pipe/schedule.py
     // TrainSchedule) and asserts ZeRO stage < 2 with pipelines (pipe/engine.py).
     .comm_overlap_default = false,
     .fp32_grads_default = true,
     .interleaved_pipeline = false,
     .max_zero_with_pp = 1,
     // ZeRO-3 reduces each micro-batch's gradients as its backward produces them
     // (stage3.py reduce_independent_p_g_buckets_and_remove_grads, every backward).
     .zero3_reduce_per_micro_batch = true,
     // ZeRO's reduce bucket, 5e8 elements by default (deepspeed/runtime/zero/config.py
     // reduce_bucket_size), copied into rather than viewed from the gradients.
     .reduce_bucket_elements = 5e8,
     // ZeRO-3 fetches each leaf module's parameters in its forward and backward hooks
     // (parameter_offload.py pre_sub_module_forward_function -> fetch_sub_module), prefetches
     // along the recorded module trace up to min(cap - gathered, prefetch bucket) elements, and
     // keeps a parameter gathered when it is used again within the reuse distance
     // (partitioned_param_coordinator.py). Defaults: stage3_max_live_parameters 1e9,
     // stage3_prefetch_bucket_size 5e7, stage3_max_reuse_distance 1e9 (runtime/zero/config.py).
     .zero3_gathers_submodules = true,
     .zero3_max_live_params = 1e9,
     .zero3_prefetch_bucket_elements = 5e7,
     .zero3_max_reuse_distance = 1e9,
     // zero_optimization.offload_optimizer {device: cpu} with DeepSpeedCPUAdam
     // (runtime/zero/offload_config.py, ops/adam/cpu_adam.py).
     .optimizer_offload = true,
     .max_zero = 3,
     .block_recompute = true,
     .source = "microsoft/DeepSpeed deepspeed/runtime/pipe/{engine,schedule}.py, "
               "runtime/zero/{config,partitioned_param_coordinator,stage3}.py"},
    {.framework = Framework::kTorchtitan,
     .name = "torchtitan",
     // FSDP2 with mixed precision reduces grads in fp32 (MixedPrecisionPolicy reduce_dtype
     // float32 in torchtitan's job config defaults); pipeline schedules from torch.distributed.
     // pipelining include interleaved 1F1B; FSDP2 composes with PP.
     .comm_overlap_default = false,
     .fp32_grads_default = true,
     .interleaved_pipeline = true,
     .max_zero_with_pp = 3,
     // FSDP2 reduce-scatters in every backward unless set_requires_gradient_sync(False), which
     // torchtitan's training loop does not call.
     .zero3_reduce_per_micro_batch = true,
     .max_zero = 3,
     // train.py's loss: cross_entropy(pred.float(), labels), eager: the 16-bit logits (2), the
     // fp32 copy log-softmax keeps (4), the fp32 gradient (4) and its 16-bit cast (2). The
     // output layer's input is counted with the layer's activations.
     .loss_bytes_per_logit = 12.0,
     // With TP, torchtitan's loss_parallel runs DTensor's decomposed handlers
     // (torch/distributed/tensor/parallel/loss.py): the fp32 log-softmax output it saves (4),
     // and in backward zeros_like (4), exp (4) and their sum (4) before the product: 16.
     .tp_loss_bytes_per_logit = 16.0,
     .loss_bytes_per_hidden = 0.0,
     .source = "pytorch/torchtitan torchtitan/config/job_config.py, parallelize.py"},
    {.framework = Framework::kFsdp,
     .name = "fsdp",
     // PyTorch FSDP1 as Composer (LLM Foundry) and metaseq run it. Composer's DEFAULT mixed
     // precision reduces in fp32 (composer/distributed/mosaic_parallelism.py); it has no
     // pipeline parallelism; FSDP1 modules reduce-scatter in every backward since Composer calls
     // no_sync only for DDP (composer/trainer/trainer.py).
     .comm_overlap_default = false,
     .fp32_grads_default = true,
     .interleaved_pipeline = false,
     .max_zero_with_pp = 0,
     .zero3_reduce_per_micro_batch = true,
     // FSDP1's sharding strategies are NO_SHARD, SHARD_GRAD_OP and FULL_SHARD (ZeRO 0, 2, 3):
     // none shards the optimizer states alone (torch.distributed.fsdp.ShardingStrategy).
     .has_zero1 = false,
     .max_zero = 3,
     // metaseq's launcher passes --checkpoint-activations --distribute-checkpointed-activations
     // with Megatron TP (metaseq/launcher/opt_baselines.py); Composer has no TP.
     .distribute_checkpoints = true,
     // LLM Foundry's default loss is flash-attn's fused cross-entropy (loss_fn
     // fused_crossentropy, llmfoundry/models/mpt/modeling_mpt.py): it reads the 16-bit logits
     // and writes a 16-bit gradient, keeping an fp32 log-sum-exp per token only; metaseq with
     // TP uses Megatron's vocab-parallel loss. The output layer keeps its 16-bit input.
     .loss_bytes_per_logit = 4.0,
     .loss_bytes_per_hidden = 2.0,
     .source = "mosaicml/composer composer/distributed; mosaicml/llm-foundry "
               "llmfoundry/models/mpt/modeling_mpt.py; facebookresearch/metaseq"},
};

}  // namespace

const FrameworkFacts& FactsOf(Framework f) {
  for (const FrameworkFacts& facts : kFacts) {
    if (facts.framework == f) return facts;
  }
  return kFacts[0];
}

const char* FrameworkName(Framework f) { return FactsOf(f).name; }

bool FrameworkFromName(const std::string& name, Framework& out) {
  for (const FrameworkFacts& facts : kFacts) {
    if (name == facts.name) {
      out = facts.framework;
      return true;
    }
  }
  return false;
}

std::string FrameworkNames() {
  std::string names;
  for (const FrameworkFacts& facts : kFacts) names += (names.empty() ? "" : ", ") + std::string(facts.name);
  return names;
}

}  // namespace planner
