// DeepSpeed: ds_config.json, and deepspeed.sh, the Megatron-DeepSpeed command that reads it.
// Config keys are DeepSpeed's (docs/_pages/config-json.md, runtime/zero/config.py); every key is
// checked against ../shared/fixtures/deepspeed-config-keys.txt by tests/emit_test.cc.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "emit_common.h"
#include "planner/cost/framework.h"
#include "planner/cost/zero3.h"
#include "planner/render/emit.h"

namespace planner {
namespace {

using nlohmann::ordered_json;

// DeepSpeed's documented defaults for the ZeRO-1/2 buckets (5e8 elements).
constexpr int64_t kBucketElements = 500'000'000;

ordered_json ZeroJson(const TrainingSetup& s, const Plan& p) {
  ordered_json z = {{"stage", p.zero_stage}};
  if (p.zero_stage == 0) return z;
  z["overlap_comm"] = true;
  z["contiguous_gradients"] = true;
  // The CPU runs the optimizer over host-resident states (DeepSpeedCPUAdam); pinned buffers
  // make the copies asynchronous.
  if (s.offload_optimizer) z["offload_optimizer"] = {{"device", "cpu"}, {"pin_memory", true}};
  if (p.zero_stage <= 2) {
    z["reduce_scatter"] = true;
    z["reduce_bucket_size"] = kBucketElements;
    z["allgather_partitions"] = true;
    z["allgather_bucket_size"] = kBucketElements;
    return z;
  }
  // ZeRO-3 as the planner counted it (planner/cost/framework.h, cost_models/zero3.cc): the
  // reduce bucket, prefetch bucket, live-parameter cap and reuse distance it assumed.
  const FrameworkFacts& f = FactsOf(Framework::kDeepSpeed);
  z["reduce_bucket_size"] = static_cast<int64_t>(f.reduce_bucket_elements);
  z["stage3_prefetch_bucket_size"] = static_cast<int64_t>(f.zero3_prefetch_bucket_elements);
  z["stage3_max_live_parameters"] = static_cast<int64_t>(Zero3MaxLiveParams(s));
  z["stage3_max_reuse_distance"] = static_cast<int64_t>(f.zero3_max_reuse_distance);
  z["stage3_gather_16bit_weights_on_model_save"] = true;
  return z;
}

}  // namespace

std::string DeepSpeedConfig(const Specs& s, const Plan& p) {
  ordered_json j;
  // DeepSpeed checks train_batch_size = micro x accumulation x data-parallel world size, where
  // the data-parallel world is GPUs / (TP x PP x sequence-parallel), not all GPUs.
  j["train_batch_size"] = s.setup.global_batch;
  j["train_micro_batch_size_per_gpu"] = p.micro_batch;
  j["gradient_accumulation_steps"] = p.grad_accum;
  j["gradient_clipping"] = 1.0;
  j["zero_optimization"] = ZeroJson(s.setup, p);
  const Precision precision = s.setup.precision;
  if (precision == Precision::kBf16 || precision == Precision::kFp8) {
    j["bf16"] = {{"enabled", true}};
  } else if (precision == Precision::kFp16) {
    // Dynamic loss scaling (loss_scale 0), DeepSpeed's documented defaults.
    j["fp16"] = {{"enabled", true},           {"loss_scale", 0}, {"loss_scale_window", 1000},
                 {"initial_scale_power", 16}, {"hysteresis", 2}, {"min_loss_scale", 1}};
  }
  if (p.recompute != Recompute::kNone) {
    // Checkpoints stay whole on each TP rank: the plan's memory counts them so (sequence
    // parallelism already splits them).
    j["activation_checkpointing"] = {{"partition_activations", false},
                                     {"cpu_checkpointing", false},
                                     {"contiguous_memory_optimization", false},
                                     {"synchronize_checkpoint_boundary", false},
                                     {"profile", false}};
  }
  j["steps_per_print"] = 10;
  j["wall_clock_breakdown"] = false;
  return j.dump(2) + "\n";
}

namespace {

// Megatron-DeepSpeed's own spelling of the model (its 2023 fork of Megatron-LM's arguments).
std::string ShapeArgs(const Model& m, const TrainingSetup& s) {
  std::string a = "  --num-layers " + std::to_string(m.layers) + " --hidden-size " +
                  std::to_string(m.hidden) + " --ffn-hidden-size " + std::to_string(m.ffn_hidden) +
                  " --num-attention-heads " + std::to_string(m.heads) + "\n";
  if (m.kv_heads != m.heads) a += "  --num-key-value-heads " + std::to_string(m.kv_heads) + "\n";
  a += "  --seq-length " + std::to_string(s.seq_len) + " --max-position-embeddings " +
       std::to_string(std::max(m.seq_len, s.seq_len)) + "\n";
  std::string flags;
  if (m.mlp == MlpKind::kSwiglu) flags += " --swiglu";
  if (m.rms_norm) flags += " --normalization rmsnorm";
  if (!m.learned_positions) flags += " --use-rotary-position-embeddings";
  if (!m.tied_embeddings) flags += " --untie-embeddings-and-output-weights";
  if (!m.linear_bias) flags += " --disable-bias-linear";
  if (!m.dropout) flags += " --attention-dropout 0 --hidden-dropout 0";
  if (s.flash_attention) flags += " --use-flash-attn-v2";
  if (!flags.empty()) a += " " + flags + "\n";
  if (IsMoe(m)) {
    a += "  --num-experts " + std::to_string(m.experts) + " --topk " +
         std::to_string(m.experts_per_token) + " --expert-interval 1\n";
  }
  return a;
}

std::string ParallelArgs(const Plan& p) {
  std::string a = "  --tensor-model-parallel-size " + std::to_string(p.tp) +
                  " --pipeline-model-parallel-size " + std::to_string(p.pp) + "\n";
  // Without it Megatron-DeepSpeed runs DeepSpeed's pipeline engine, which refuses ZeRO-2/3.
  if (p.pp == 1) a += "  --no-pipeline-parallel\n";
  if (p.sequence_parallel) a += "  --sequence-parallel\n";
  if (p.cp > 1) a += "  --ds-sequence-parallel-size " + std::to_string(p.cp) + "\n";
  if (p.ep > 1) a += "  --moe-expert-parallel-size " + std::to_string(p.ep) + "\n";
  return a;
}

std::string RecomputeArgs(const Plan& p) {
  if (p.recompute == Recompute::kFull) {
    // Megatron-DeepSpeed has the block method too (megatron/arguments.py:842,851).
    const std::string method =
        p.recompute_layers > 0
            ? "block --recompute-num-layers " + std::to_string(p.recompute_layers)
            : "uniform";
    return "  --recompute-granularity full --recompute-method " + method +
           " --deepspeed-activation-checkpointing\n";
  }
  if (p.recompute == Recompute::kSelective) return "  --recompute-granularity selective\n";
  return "";
}

std::string PrecisionArgs(Precision precision) {
  if (precision == Precision::kFp16) return "  --fp16\n";
  if (precision == Precision::kBf16 || precision == Precision::kFp8) return "  --bf16\n";
  return "";
}

std::string DeepSpeedNotes(const Specs& s, const Plan& p) {
  std::string n;
  if (p.tp == 1 && p.pp == 1 && p.cp == 1 && p.ep == 1) {
    n += "With TP = PP = 1 DeepSpeed alone runs this plan: a training script of your own only\n"
         "needs deepspeed.initialize(model=model, config=\"ds_config.json\").\n";
  } else {
    n += "DeepSpeed has no tensor or pipeline parallelism of its own for this model: it runs\n"
         "through Megatron-DeepSpeed, which takes the parallel sizes below and reads batch,\n"
         "ZeRO and precision from ds_config.json.\n";
  }
  if (ZeroBeyondPipelineLimit(p)) {
    n += "WARNING: DeepSpeed's pipeline engine accepts ZeRO stages 0 and 1 only; this plan's\n"
         "ZeRO-" +
         std::to_string(p.zero_stage) + " with PP = " + std::to_string(p.pp) +
         " stops at start-up. Set zero_optimization.stage and --zero-stage\n"
         "to 1 to run it, with more memory per GPU than the plan counts.\n";
  }
  if (p.virtual_stages > 1) {
    n += "NOTE: DeepSpeed's pipeline engine has no interleaved schedule: each stage holds one\n"
         "chunk of layers instead of the plan's " +
         std::to_string(p.virtual_stages) + ", so the pipeline bubble is larger than planned.\n";
  }
  if (p.first_stage_layers > 0 || p.last_stage_layers > 0) {
    n += "NOTE: DeepSpeed's pipeline engine splits the layers evenly, not as the plan does.\n";
  }
  if (p.cp > 1) {
    n += "NOTE: context parallelism runs as DeepSpeed-Ulysses sequence parallelism here (same\n"
         "split of the sequence, all-to-all instead of ring attention).\n";
  }
  if (IsMoe(s.model)) {
    n += "NOTE: DeepSpeed-MoE experts are Megatron-DeepSpeed's MLPs; check they match the model.\n";
  }
  if (s.setup.precision == Precision::kFp8) {
    n += "NOTE: DeepSpeed has no fp8 setting; this runs bf16 (fp8 needs Transformer Engine).\n";
  }
  return n;
}

}  // namespace

constexpr const char* kDeepSpeedScript = R"sh(#!/bin/bash
# Megatron-DeepSpeed (github.com/deepspeedai/Megatron-DeepSpeed) pretrain_gpt.py for
# @summary@.
# These are Megatron-DeepSpeed's flags, not today's Megatron-LM's (see megatron.sh).
@notes@# Set MEGATRON_DEEPSPEED_DIR, DATA_PATH and TOKENIZER_MODEL; start it on every node with
# NODE_RANK and MASTER_ADDR set, or through launch.sh (FRAMEWORK=deepspeed).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
@env@ARGS=(
@args@  --deepspeed --deepspeed_config "$HERE/ds_config.json" --zero-stage @zero@
)
# Placeholders: your data, tokenizer and schedule.
DATA_ARGS=(
  --data-path "${DATA_PATH:?set DATA_PATH to an indexed dataset prefix}"
  --tokenizer-type HFTokenizer
  --tokenizer-model "${TOKENIZER_MODEL:?set TOKENIZER_MODEL to a tokenizer}"
  --split "99,1,0"
  # Placeholders: checkpoints go to and resume from CHECKPOINT_DIR every SAVE_INTERVAL steps.
  --save "${CHECKPOINT_DIR:?set CHECKPOINT_DIR to a directory every node shares}"
  --load "$CHECKPOINT_DIR" --save-interval "${SAVE_INTERVAL:-1000}"
  --train-iters "${TRAIN_ITERS:-1000}" --lr "${LR:-3.0e-4}" --min-lr "${MIN_LR:-3.0e-5}"
  --lr-decay-style cosine --lr-warmup-iters "${WARMUP_ITERS:-100}"
  --weight-decay 0.1 --adam-beta1 0.9 --adam-beta2 0.95 --clip-grad 1.0
  --log-interval 1 --eval-interval 1000 --eval-iters 10
)

# torchrun's own flags (not pretrain_gpt.py's).
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"@torchrun@"}
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "${MEGATRON_DEEPSPEED_DIR:?set MEGATRON_DEEPSPEED_DIR to a checkout}/pretrain_gpt.py" \
  "${ARGS[@]}" "${DATA_ARGS[@]}"
)sh";

std::string DeepSpeedScript(const Specs& s, const Plan& p) {
  const std::string args = ParallelArgs(p) + "  --micro-batch-size " +
                           std::to_string(p.micro_batch) + " --global-batch-size " +
                           std::to_string(s.setup.global_batch) + "\n" + RecomputeArgs(p) +
                           PrecisionArgs(s.setup.precision) + ShapeArgs(s.model, s.setup) +
                           // Megatron-DeepSpeed builds DeepSpeedCPUAdam for an offloaded
                           // optimizer (examples_deepspeed/azure/run-1t.sh).
                           (s.setup.offload_optimizer ? "  --cpu-optimizer\n" : "");
  return Fill(kDeepSpeedScript, {{"summary", PlanSummary(s, p)},
                                 {"notes", Commented(DeepSpeedNotes(s, p))},
                                 {"env", (p.tp > 1 ? "export CUDA_DEVICE_MAX_CONNECTIONS=1\n" : "") +
                                             NcclEnv(s.cluster)},
                                 {"args", args},
                                 {"zero", std::to_string(p.zero_stage)},
                                 {"torchrun", ManualTorchrunArgs(s.cluster)}});
}

}  // namespace planner
