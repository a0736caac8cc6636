// Megatron-LM: pretrain_gpt.py arguments (megatron.args) and a script that runs them (megatron.sh).
// Flag names and their rules are Megatron-LM's megatron/training/arguments.py at the commit of
// ../shared/fixtures/megatron-lm-flags.txt; tests/emit_test.cc checks every flag against it.
#include <algorithm>
#include <string>
#include <vector>

#include "emit_common.h"
#include "planner/render/emit.h"

namespace planner {
namespace {

void Add(std::vector<FlagValue>& a, const char* flag, int64_t value) {
  a.emplace_back(flag, std::to_string(value));
}
void Add(std::vector<FlagValue>& a, const char* flag, std::string value = "") {
  a.emplace_back(flag, std::move(value));
}

bool UnevenStages(const Plan& p) { return p.first_stage_layers > 0 || p.last_stage_layers > 0; }

void AddParallel(std::vector<FlagValue>& a, const Model& m, const Plan& p) {
  Add(a, "--tensor-model-parallel-size", p.tp);
  Add(a, "--pipeline-model-parallel-size", p.pp);
  if (p.cp > 1) Add(a, "--context-parallel-size", p.cp);
  if (p.sequence_parallel) Add(a, "--sequence-parallel");
  if (p.virtual_stages > 1) {
    // Megatron-LM wants the chunk count, not the chunk size, when the stages are uneven.
    if (UnevenStages(p)) {
      Add(a, "--num-virtual-stages-per-pipeline-rank", p.virtual_stages);
    } else {
      Add(a, "--num-layers-per-virtual-pipeline-stage",
          m.layers / (static_cast<int64_t>(p.pp) * p.virtual_stages));
    }
  }
  const StageSplitFlags split = StageSplitOf(m, p);
  if (split.embedding_slot) Add(a, "--account-for-embedding-in-pipeline-split");
  if (split.loss_slot) Add(a, "--account-for-loss-in-pipeline-split");
  if (split.first_stage_layers > 0) {
    Add(a, "--decoder-first-pipeline-num-layers", split.first_stage_layers);
  }
  if (p.ep > 1) Add(a, "--expert-model-parallel-size", p.ep);
}

void AddMemory(std::vector<FlagValue>& a, const Plan& p) {
  if (p.recompute == Recompute::kFull) {
    Add(a, "--recompute-granularity", "full");
    // block: the first N layers of each stage (chunk); uniform with 1: every layer alone.
    Add(a, "--recompute-method", p.recompute_layers > 0 ? "block" : "uniform");
    Add(a, "--recompute-num-layers", std::max(1, p.recompute_layers));
  } else if (p.recompute == Recompute::kSelective) {
    Add(a, "--recompute-granularity", "selective");  // takes no --recompute-method
  }
  // The distributed optimizer is Megatron-LM's ZeRO-1; custom FSDP adds ZeRO-2/3 and needs it.
  if (p.zero_stage >= 1) Add(a, "--use-distributed-optimizer");
  if (UsesMegatronFsdp(p)) {
    Add(a, "--use-custom-fsdp");
    Add(a, "--data-parallel-sharding-strategy",
        p.zero_stage == 2 ? "optim_grads" : "optim_grads_params");
    Add(a, "--no-gradient-accumulation-fusion");
  }
  if (p.dp > 1) {
    Add(a, "--overlap-grad-reduce");
    if (p.zero_stage >= 1) Add(a, "--overlap-param-gather");
  }
}

void AddNumerics(std::vector<FlagValue>& a, const TrainingSetup& s) {
  switch (s.precision) {
    case Precision::kBf16:
      Add(a, "--bf16");
      break;
    case Precision::kFp16:
      Add(a, "--fp16");
      break;
    case Precision::kFp8:
      Add(a, "--bf16");
      Add(a, "--fp8-format", "hybrid");  // Transformer Engine: E4M3 forward, E5M2 backward
      break;
    case Precision::kFp32:
    case Precision::kTf32:
      break;  // Megatron-LM's default is fp32
  }
  // Main gradients: fp32 by default with bf16, 16-bit by default with fp16.
  const bool bf16 = s.precision == Precision::kBf16 || s.precision == Precision::kFp8;
  if (bf16 && !s.fp32_grads) Add(a, "--grad-reduce-in-bf16");
  if (s.precision == Precision::kFp16 && s.fp32_grads) {
    Add(a, "--accumulate-allreduce-grads-in-fp32");
  }
  Add(a, "--optimizer", s.optimizer == Optimizer::kSgdMomentum ? "sgd" : "adam");
}

// MLA (--multi-latent-attention and its ranks), else heads, query groups and head width; with
// the options current models add (QK-norm, QKV biases, RoPE base and scaling).
void AddAttention(std::vector<FlagValue>& a, const Model& m) {
  Add(a, "--num-attention-heads", m.heads);
  if (IsMla(m)) {
    Add(a, "--multi-latent-attention");
    if (m.q_lora_rank > 0) Add(a, "--q-lora-rank", m.q_lora_rank);
    Add(a, "--kv-lora-rank", m.kv_lora_rank);
    Add(a, "--qk-head-dim", m.qk_nope_head_dim);
    Add(a, "--qk-pos-emb-head-dim", m.qk_rope_head_dim);
    Add(a, "--v-head-dim", m.v_head_dim);
  } else {
    if (m.head_dim > 0 && m.head_dim * m.heads != m.hidden) Add(a, "--kv-channels", m.head_dim);
    if (m.kv_heads != m.heads) {
      Add(a, "--group-query-attention");
      Add(a, "--num-query-groups", m.kv_heads);
    }
  }
  if (m.qk_norm) Add(a, "--qk-layernorm");
  if (m.qkv_bias && !m.linear_bias) Add(a, "--add-qkv-bias");
  if (m.learned_positions) return;
  if (m.rope_theta > 0) Add(a, "--rotary-base", static_cast<int64_t>(m.rope_theta));
  if (m.rope_scaling_factor <= 0) return;
  // MLA's YaRN factor is its own flag; other models take Llama 3.1's rope scaling.
  if (IsMla(m)) {
    Add(a, "--rotary-scaling-factor", static_cast<int64_t>(m.rope_scaling_factor));
  } else {
    Add(a, "--use-rope-scaling");
    Add(a, "--rope-scaling-factor", static_cast<int64_t>(m.rope_scaling_factor));
  }
}

// Which layers are MoE, as the Python list expression Megatron-LM evaluates (0 dense, 1 MoE):
// first dense layers, then the moe_every interleave, in runs.
std::string MoeLayerPattern(const Model& m) {
  std::string text;
  int64_t run = 0;
  for (int64_t i = 0; i < m.layers; ++i) {
    ++run;
    const bool last = i + 1 == m.layers || IsMoeLayer(m, i) != IsMoeLayer(m, i + 1);
    if (!last) continue;
    text += (text.empty() ? "[" : "+[") + std::string(IsMoeLayer(m, i) ? "1" : "0") + "]*" +
            std::to_string(run);
    run = 0;
  }
  return "(" + text + ")";
}

void AddMoe(std::vector<FlagValue>& a, const Model& m) {
  const int64_t expert_ffn = ExpertFfnHidden(m);
  Add(a, "--num-experts", m.experts);
  Add(a, "--moe-router-topk", m.experts_per_token);
  Add(a, "--moe-ffn-hidden-size", expert_ffn);
  if (m.shared_experts > 0) {
    const int64_t shared_ffn = m.shared_ffn_hidden > 0 ? m.shared_ffn_hidden : expert_ffn;
    Add(a, "--moe-shared-expert-intermediate-size", m.shared_experts * shared_ffn);
  }
  if (m.dense_layers > 0 || m.moe_every > 1) Add(a, "--moe-layer-freq", MoeLayerPattern(m));
  Add(a, "--moe-token-dispatcher-type", "alltoall");
}

void AddShape(std::vector<FlagValue>& a, const Model& m, const TrainingSetup& s) {
  Add(a, "--num-layers", m.layers);
  Add(a, "--hidden-size", m.hidden);
  Add(a, "--ffn-hidden-size", m.ffn_hidden);
  AddAttention(a, m);
  if (m.mlp == MlpKind::kSwiglu) Add(a, "--swiglu");
  Add(a, "--normalization", m.rms_norm ? "RMSNorm" : "LayerNorm");
  Add(a, "--position-embedding-type", m.learned_positions ? "learned_absolute" : "rope");
  Add(a, "--seq-length", s.seq_len);
  Add(a, "--max-position-embeddings", std::max({m.seq_len, m.max_context, s.seq_len}));
  if (!m.tied_embeddings) Add(a, "--untie-embeddings-and-output-weights");
  if (!m.linear_bias) Add(a, "--disable-bias-linear");
  if (!m.dropout) {
    Add(a, "--attention-dropout", 0);
    Add(a, "--hidden-dropout", 0);
  }
  // auto lets Transformer Engine pick, as the step time assumes: cuDNN's fused attention on
  // Hopper and newer, FlashAttention before (calibration.h: FusedAttentionGain). `flash` would
  // force FlashAttention-2 on an H100, 1.6x slower attention.
  Add(a, "--attention-backend", s.flash_attention ? "auto" : "unfused");
  if (IsMoe(m)) AddMoe(a, m);
}

}  // namespace

std::vector<FlagValue> MegatronArgs(const Specs& s, const Plan& p) {
  std::vector<FlagValue> a;
  AddParallel(a, s.model, p);
  // Transformer Engine's userbuffer overlap of TP collectives (--comm-overlap); the interleaved
  // schedule's pipeline sends overlap by default in this Megatron-LM.
  if (s.setup.comm_overlap && p.tp > 1) Add(a, "--tp-comm-overlap");
  if (s.setup.cuda_graphs) Add(a, "--enable-cuda-graph");
  Add(a, "--micro-batch-size", p.micro_batch);
  Add(a, "--global-batch-size", s.setup.global_batch);
  AddMemory(a, p);
  AddNumerics(a, s.setup);
  AddShape(a, s.model, s.setup);
  return a;
}

std::vector<std::string> MegatronArgv(const Specs& s, const Plan& p) {
  std::vector<std::string> argv;
  for (const auto& [flag, value] : MegatronArgs(s, p)) {
    argv.push_back(flag);
    if (!value.empty()) argv.push_back(value);
  }
  return argv;
}

std::string MegatronArgsFile(const Specs& s, const Plan& p) {
  std::string text;
  for (const auto& [flag, value] : MegatronArgs(s, p)) {
    text += value.empty() ? flag + "\n" : flag + " " + value + "\n";
  }
  return text;
}

namespace {

// What the arguments cannot say: limits of Megatron-LM against the plan, and where data comes from.
std::string MegatronNotes(const Specs& s, const Plan& p) {
  const Model& m = s.model;
  std::string n = "Vocabulary: " + std::to_string(m.vocab) +
                  " tokens from the tokenizer, padded by Megatron-LM to a multiple of 128 x TP: " +
                  std::to_string(PaddedVocab(m.vocab, p.tp)) + " rows.\n";
  if (UsesMegatronFsdp(p)) {
    n += "ZeRO-" + std::to_string(p.zero_stage) + " is Megatron-LM's custom FSDP (sharding " +
         (p.zero_stage == 2 ? "optim_grads" : "optim_grads_params") + ").\n";
  }
  if (ZeroBeyondPipelineLimit(p)) {
    n += "WARNING: the plan shards " +
         std::string(p.zero_stage == 2 ? "gradients" : "gradients and weights") + " (ZeRO-" +
         std::to_string(p.zero_stage) +
         ") with pipeline parallelism. Megatron-LM shards them only\n"
         "through its custom FSDP, which does not run with pipeline parallelism, so this command\n"
         "runs the distributed optimizer (ZeRO-1) and needs more memory per GPU than the plan\n"
         "counts. DeepSpeed's pipeline engine stops at ZeRO-1 as well (deepspeed.sh).\n";
  }
  if (p.offload_activation_layers > 0) {
    // Not a flag of the Megatron-LM parser the emitter is checked against (b4788af, 2025-02).
    n += "WARNING: the plan offloads the activations of " +
         std::to_string(p.offload_activation_layers) +
         " layers to host memory, which this command line\n"
         "cannot say: set TransformerConfig cpu_offloading=True, cpu_offloading_num_layers=" +
         std::to_string(p.offload_activation_layers) +
         "\n(Megatron-Bridge: model.cpu_offloading), or the run needs the memory without it.\n";
  }
  if (s.setup.optimizer == Optimizer::kAdamW8bit) {
    n += "NOTE: Megatron-LM has no 8-bit AdamW; Adam keeps 32-bit moments here, more memory than\n"
         "the plan counts.\n";
  }
  if (s.setup.schedule == Schedule::kGPipe || s.setup.schedule == Schedule::kNaive) {
    n += std::string("NOTE: the plan was scored with the ") + ScheduleName(s.setup.schedule) +
         " schedule; Megatron-LM runs 1F1B.\n";
  }
  if (s.setup.precision == Precision::kFp32 || s.setup.precision == Precision::kTf32) {
    n += "No precision flag: Megatron-LM trains in fp32 unless told otherwise.\n";
  }
  return n;
}

}  // namespace

// The data, tokenizer and schedule are placeholders; the plan lives in megatron.args.
constexpr const char* kMegatronScript = R"sh(#!/bin/bash
# Megatron-LM pretrain_gpt.py for
# @summary@.
# Set MEGATRON_DIR (a Megatron-LM checkout), DATA_PATH and TOKENIZER_MODEL, or MOCK_DATA=1 for a
# smoke test without data. Start it on every node with NODE_RANK and MASTER_ADDR set, or through
# launch.sh (Slurm), which sets TORCHRUN_ARGS.
@notes@set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
@env@
ARGS=()  # megatron.args: the plan and the model, one flag a line
while read -r -a words; do ARGS+=("${words[@]}"); done < "$HERE/megatron.args"

# Placeholders: your data, tokenizer and schedule.
if [[ "${MOCK_DATA:-0}" == 1 ]]; then
  DATA_ARGS=(--mock-data --tokenizer-type NullTokenizer --vocab-size @vocab@)
else
  DATA_ARGS=(
    --data-path "${DATA_PATH:?set DATA_PATH to a Megatron-LM indexed dataset prefix}"
    --tokenizer-type HuggingFaceTokenizer
    --tokenizer-model "${TOKENIZER_MODEL:?set TOKENIZER_MODEL to a tokenizer}"
    --split "99,1,0"
    # Placeholders: checkpoints go to and resume from CHECKPOINT_DIR every SAVE_INTERVAL steps.
    --save "${CHECKPOINT_DIR:?set CHECKPOINT_DIR to a directory every node shares}"
    --load "$CHECKPOINT_DIR" --save-interval "${SAVE_INTERVAL:-1000}"
  )
fi
TRAIN_ARGS=(
  --train-iters "${TRAIN_ITERS:-1000}" --lr "${LR:-3.0e-4}" --min-lr "${MIN_LR:-3.0e-5}"
  --lr-decay-style cosine --lr-warmup-iters "${WARMUP_ITERS:-100}"
  --weight-decay 0.1 --adam-beta1 0.9 --adam-beta2 0.95 --clip-grad 1.0
  --log-interval 1 --eval-interval 1000 --eval-iters 10
)

# torchrun's own flags (not pretrain_gpt.py's).
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"@torchrun@"}
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "${MEGATRON_DIR:?set MEGATRON_DIR to a Megatron-LM checkout}/pretrain_gpt.py" \
  "${ARGS[@]}" "${DATA_ARGS[@]}" "${TRAIN_ARGS[@]}"
)sh";

std::string MegatronScript(const Specs& s, const Plan& p) {
  return Fill(kMegatronScript, {{"summary", PlanSummary(s, p)},
                                {"notes", Commented(MegatronNotes(s, p))},
                                {"env", CudaConnectionsEnv(p) + NcclEnv(s.cluster)},
                                {"vocab", std::to_string(s.model.vocab)},
                                {"torchrun", ManualTorchrunArgs(s.cluster)}});
}

}  // namespace planner
