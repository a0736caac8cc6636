// torchtune: a recipe config (torchtune.yaml) and tune_run.sh with its `tune run` line. The
// builders, keys and recipe names are torchtune's (torchtune/models/*/__init__.py, the shipped
// recipes/configs, torchtune/_recipe_registry.py); tests/emit_finetune_test.cc checks each
// against tests/fixtures/torchtune-*.txt.
#include <cmath>
#include <optional>
#include <string>

#include "emit_common.h"
#include "emit_finetune_common.h"
#include "planner/model/text.h"

namespace planner {
namespace {

// What torchtune keeps per model module (torchtune/models/<module>/, its shipped configs).
struct TorchtuneModule {
  const char* module;          ///< torchtune.models.<module>
  const char* family;          ///< HfFamily::name of the models it builds
  bool qlora;                  ///< qlora_ builders exist
  const char* model_type;      ///< checkpointer.model_type
  const char* tokenizer;       ///< tokenizer builder, below torchtune.models.
  const char* tokenizer_file;  ///< relative to the checkpoint directory
};

constexpr TorchtuneModule kModules[] = {
    {"llama2", "llama", true, "LLAMA2", "llama2.llama2_tokenizer", "tokenizer.model"},
    {"llama3", "llama", true, "LLAMA3", "llama3.llama3_tokenizer", "original/tokenizer.model"},
    {"llama3_1", "llama", true, "LLAMA3", "llama3.llama3_tokenizer", "original/tokenizer.model"},
    {"mistral", "mistral", true, "MISTRAL", "mistral.mistral_tokenizer", "tokenizer.model"},
    {"gemma", "gemma", true, "GEMMA", "gemma.gemma_tokenizer", "tokenizer.model"},
    {"gemma2", "gemma2", true, "GEMMA2", "gemma.gemma_tokenizer", "tokenizer.model"},
    {"qwen2_5", "qwen2", false, "QWEN2", "qwen2_5.qwen2_5_tokenizer", "vocab.json"},
    {"qwen3", "qwen3", false, "QWEN3", "qwen3.qwen3_tokenizer", "vocab.json"},
    {"phi3", "phi3", true, "PHI3_MINI", "phi3.phi3_mini_tokenizer", "tokenizer.model"},
};

// One full-weight builder (lora_ / qlora_ prefixed for adapters), recognised by its module's
// family and its shape: a Hugging Face config of the same model has the same layers, width and
// vocabulary. rope_scaled: 1 only with RoPE scaling (Llama 3.1), 0 only without, -1 either.
struct TorchtuneBuilder {
  const char* module;
  const char* builder;
  int64_t layers, hidden, vocab;
  int rope_scaled;
};

constexpr TorchtuneBuilder kBuilders[] = {
    {"llama2", "llama2_7b", 32, 4096, 32000, -1},
    {"llama2", "llama2_13b", 40, 5120, 32000, -1},
    {"llama2", "llama2_70b", 80, 8192, 32000, -1},
    {"llama3", "llama3_8b", 32, 4096, 128256, 0},
    {"llama3", "llama3_70b", 80, 8192, 128256, 0},
    {"llama3_1", "llama3_1_8b", 32, 4096, 128256, 1},
    {"llama3_1", "llama3_1_70b", 80, 8192, 128256, 1},
    {"llama3_1", "llama3_1_405b", 126, 16384, 128256, -1},
    {"mistral", "mistral_7b", 32, 4096, 32000, -1},
    {"gemma", "gemma_2b", 18, 2048, 256000, -1},
    {"gemma", "gemma_7b", 28, 3072, 256000, -1},
    {"gemma2", "gemma2_2b", 26, 2304, 256000, -1},
    {"gemma2", "gemma2_9b", 42, 3584, 256000, -1},
    {"gemma2", "gemma2_27b", 46, 4608, 256000, -1},
    {"qwen2_5", "qwen2_5_7b_base", 28, 3584, 152064, -1},
    {"qwen2_5", "qwen2_5_72b_base", 80, 8192, 152064, -1},
    {"qwen3", "qwen3_8b_base", 36, 4096, 151936, -1},
    {"qwen3", "qwen3_32b", 64, 5120, 151936, -1},
    {"phi3", "phi3_mini", 32, 3072, 32064, -1},
};

// A builder and its module's facts.
struct TorchtuneModel {
  std::string module, builder, model_type, tokenizer, tokenizer_file;
  bool qlora = false;
};

std::optional<TorchtuneModel> FindModel(const Model& m) {
  const std::string family = HfFamilyOf(m).name;
  for (const TorchtuneBuilder& b : kBuilders) {
    const bool rope_ok = b.rope_scaled < 0 || (b.rope_scaled == 1) == (m.rope_scaling_factor > 0);
    if (m.layers != b.layers || m.hidden != b.hidden || m.vocab != b.vocab || !rope_ok) continue;
    for (const TorchtuneModule& t : kModules) {
      if (std::string(t.module) != b.module || family != t.family) continue;
      return TorchtuneModel{.module = t.module,
                            .builder = b.builder,
                            .model_type = t.model_type,
                            .tokenizer = std::string("torchtune.models.") + t.tokenizer,
                            .tokenizer_file = t.tokenizer_file,
                            .qlora = t.qlora};
    }
  }
  return std::nullopt;
}

// Why torchtune cannot run the plan as planned ("" : it can).
std::string Refusal(const Model& m, const FinetunePlan& p, const std::optional<TorchtuneModel>& t) {
  if (!t) {
    return "torchtune has no model builder for " + m.name +
           " (its families: Llama 2/3/3.1, Mistral 7B, Gemma, Gemma 2, Qwen 2.5, Qwen 3, Phi-3 "
           "mini, at their published sizes): no torchtune files are written.";
  }
  const std::string method = FinetuneMethodName(p.method);
  if (p.method == FinetuneMethod::kFreeze || p.method == FinetuneMethod::kGalore) {
    return "torchtune has no recipe for " + method +
           " fine-tuning: no torchtune files are written.";
  }
  if (p.method == FinetuneMethod::kQlora && !t->qlora) {
    return "torchtune has no QLoRA builder for " + t->module + ": no torchtune files are written.";
  }
  if (Int8Base(p)) {
    return "torchtune has no 8-bit base weights: no torchtune files are written.";
  }
  if (p.tp > 1) {
    return "the emitter writes no torchtune tensor-parallel config (TP " + std::to_string(p.tp) +
           "): no torchtune files are written.";
  }
  if (p.gpus == 1 && (p.offload_optimizer || p.offload_params)) {
    return "torchtune's single-device recipes do not offload to the host: no torchtune files "
           "are written.";
  }
  return "";
}

std::string Recipe(const FinetunePlan& p) {
  const std::string kind = UsesAdapters(p) ? "lora_finetune" : "full_finetune";
  return kind + (p.gpus > 1 ? "_distributed" : "_single_device");
}

std::string Builder(const FinetunePlan& p, const TorchtuneModel& t) {
  std::string prefix;
  if (p.method == FinetuneMethod::kLora) prefix = "lora_";
  if (p.method == FinetuneMethod::kQlora) prefix = "qlora_";
  return "torchtune.models." + t.module + "." + prefix + t.builder;
}

std::string ModelSection(const FinetunePlan& p, const TorchtuneModel& t) {
  std::string y = "model:\n  _component_: " + Builder(p, t) + "\n";
  if (!UsesAdapters(p)) return y;
  std::vector<std::string> attention;
  const std::pair<bool, const char*> projections[] = {{p.targets.q, "q_proj"},
                                                      {p.targets.k, "k_proj"},
                                                      {p.targets.v, "v_proj"},
                                                      {p.targets.o, "output_proj"}};
  for (const auto& [on, name] : projections) {
    if (on) attention.push_back(name);
  }
  y += "  lora_attn_modules: " + QuotedList(attention) + "\n";
  y += std::string("  apply_lora_to_mlp: ") + (p.targets.mlp ? "True" : "False") + "\n";
  y += "  lora_rank: " + std::to_string(p.lora_rank) + "\n";
  y += "  lora_alpha: " + std::to_string(p.lora_alpha) + "\n";
  return y + "  lora_dropout: 0.0\n";
}

std::string OptimizerSection(const FinetunePlan& p, FinetuneOptimizer o) {
  std::string y = "optimizer:\n  _component_: ";
  switch (o) {
    case FinetuneOptimizer::kAdamW:
      y += "torch.optim.AdamW\n  fused: True\n";
      break;
    case FinetuneOptimizer::kAdamW8bit:
      y += "bitsandbytes.optim.AdamW8bit\n";
      break;
    case FinetuneOptimizer::kPagedAdamW8bit:
      y += "bitsandbytes.optim.PagedAdamW8bit\n";
      break;
    case FinetuneOptimizer::kAdafactor:
      y += "torch.optim.Adafactor\n";
      break;
    case FinetuneOptimizer::kSgd:
      y += "torch.optim.SGD\n";
      break;
  }
  // A starting point, not planned: torchtune's shipped LoRA and full configs use these.
  y += std::string("  lr: ") + (UsesAdapters(p) ? "3e-4" : "2e-5") + "\n";
  if (UsesAdapters(p)) {
    y += "lr_scheduler:\n  _component_: "
         "torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup\n"
         "  num_warmup_steps: 100\n";
  }
  return y;
}

std::string DataSection(const FinetunePlan& p, const FinetuneSetup& s, const TorchtuneModel& t) {
  std::string y = "tokenizer:\n  _component_: " + t.tokenizer + "\n";
  y += "  path: /tmp/model/" + t.tokenizer_file + "  # tune_run.sh sets it\n";
  if (t.tokenizer_file == "vocab.json") {
    y += "  merges_file: /tmp/model/merges.txt  # tune_run.sh sets it\n";
  }
  y += "  max_seq_len: " + std::to_string(s.seq_len) + "\n";
  y += "dataset:\n  # PLACEHOLDER (data): torchtune's Alpaca set; name your dataset builder here.\n"
       "  _component_: torchtune.datasets.alpaca_cleaned_dataset\n";
  return y + "  packed: " + (p.packing ? "True" : "False") + "\n";
}

std::string TrainingSection(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  std::string y = "seed: null\nshuffle: True\n";
  y += "batch_size: " + std::to_string(p.micro_batch) + "\n";
  y += "gradient_accumulation_steps: " + std::to_string(p.grad_accum) + "\n";
  y += "epochs: " + std::to_string(static_cast<int64_t>(std::ceil(s.epochs))) + "\n";
  y += "max_steps_per_epoch: null\nclip_grad_norm: null\n";
  y += "loss:\n  _component_: torchtune.modules.loss.LinearCrossEntropyLoss\n";
  y += "compile: False  # True is faster and uses less memory; the plan does not count it\n";
  y += std::string("enable_activation_checkpointing: ") +
       (p.checkpointing != Checkpointing::kNone ? "True" : "False") + "\n";
  y += "enable_activation_offloading: False\n";
  if (p.gpus > 1) {
    // FSDP2's CPU offload moves parameters, gradients and optimizer states together.
    y += std::string("fsdp_cpu_offload: ") +
         (p.offload_optimizer || p.offload_params ? "True" : "False") + "\n";
    // The embeddings and output as units of their own, not held whole in the root for the step
    // (cost_models/finetune_memory.cc: AddFsdpUnits).
    if (ShardsEmbeddingsApart(FinetuneFramework::kTorchtune, m.tied_embeddings)) {
      y += "custom_sharded_layers: ['tok_embeddings', 'output']\n";
    }
  }
  if (!UsesAdapters(p)) y += "optimizer_in_bwd: False\n";
  y += "device: cuda\n";
  y += std::string("dtype: ") + (s.precision == Precision::kFp32 ? "fp32" : "bf16") + "\n";
  return y;
}

constexpr const char* kTrailer = R"yaml(checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /tmp/model  # tune_run.sh sets it and checkpoint_files
  checkpoint_files: []
  recipe_checkpoint: null
  output_dir: ${output_dir}
  model_type: @model_type@
resume_from_checkpoint: False
output_dir: /tmp/torchtune/@builder@
metric_logger:
  _component_: torchtune.training.metric_logging.DiskLogger
  log_dir: ${output_dir}/logs
log_every_n_steps: 1
log_peak_memory_stats: True
)yaml";

std::string TorchtuneYaml(const Model& m, const Cluster& c, const FinetunePlan& p,
                          const FinetuneSetup& s, const std::vector<std::string>& notes) {
  const TorchtuneModel t = *FindModel(m);
  std::string y =
      WrappedComment("torchtune " + Recipe(p) + " config for " + FinetuneSummary(m, c, p) + ".") +
      "# Written by `planner finetune`; tune_run.sh runs it.\n";
  for (const std::string& n : notes) y += WrappedComment("NOTE: " + n);
  y += ModelSection(p, t) + DataSection(p, s, t) + TrainingSection(m, p, s) +
       OptimizerSection(p, s.optimizer);
  if (UsesAdapters(p)) y += "save_adapter_weights_only: False\n";
  return y + Fill(kTrailer, {{"model_type", t.model_type}, {"builder", t.builder}});
}

std::string TorchtuneRunScript(const Model& m, const Cluster& c, const FinetunePlan& p,
                               const FinetuneSetup& s) {
  const TorchtuneModel t = *FindModel(m);
  const NodeLayout n = FinetuneNodes(c, p);
  const std::string id =
      s.hf_model_id.empty() ? "PLACEHOLDER/hf-model-id-of-" + m.name : s.hf_model_id;
  std::string sh =
      "#!/bin/bash\n" + WrappedComment("torchtune run for " + FinetuneSummary(m, c, p) + ".");
  sh += "# Written by `planner finetune`. Download the weights first";
  if (s.hf_model_id.empty()) sh += " (PLACEHOLDER: no Hugging Face id was given)";
  sh += ":\n#   tune download " + id + " --output-dir \"$MODEL_DIR\"\n";
  if (n.nnodes > 1) sh += "# Start it on each node with MASTER_ADDR set (rendezvous).\n";
  sh += "set -euo pipefail\nHERE=$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\n";
  sh += "MODEL_DIR=${MODEL_DIR:?set MODEL_DIR to the checkpoint tune download wrote}\n";
  sh += "FILES=$(cd \"$MODEL_DIR\" && ls model*.safetensors | paste -sd, -)\n";
  sh += "tune run";
  if (n.nnodes > 1) {
    sh += " --nnodes " + std::to_string(n.nnodes) +
          " --rdzv_backend c10d \\\n  --rdzv_endpoint \"${MASTER_ADDR:?set "
          "MASTER_ADDR}:${MASTER_PORT:-29500}\"";
  }
  if (p.gpus > 1) sh += " --nproc_per_node " + std::to_string(n.nproc_per_node);
  sh += (n.nnodes > 1 ? " \\\n  " : " ") + Recipe(p) + " --config \"$HERE/torchtune.yaml\" \\\n";
  sh +=
      "  checkpointer.checkpoint_dir=\"$MODEL_DIR\" \"checkpointer.checkpoint_files=[$FILES]\" "
      "\\\n";
  sh += "  tokenizer.path=\"$MODEL_DIR/" + t.tokenizer_file + "\"";
  if (t.tokenizer_file == "vocab.json") {
    sh += " tokenizer.merges_file=\"$MODEL_DIR/merges.txt\"";
  }
  return sh + " \"$@\"\n";
}

std::vector<std::string> TorchtuneNotes(const FinetunePlan& p, const FinetuneSetup& s) {
  std::vector<std::string> n;
  // FSDP FULL_SHARD and ZeRO-3 shard the same states; the others shard less.
  if (p.gpus > 1 && p.sharding != Sharding::kFsdp && p.sharding != Sharding::kZero3) {
    n.push_back(std::string("torchtune's distributed recipes shard fully with FSDP2 (as ZeRO-3), "
                            "not as the plan's ") +
                ShardingName(p.sharding) + ": less memory per GPU, more communication.");
  }
  if (p.gpus > 1 && p.offload_optimizer && !p.offload_params) {
    n.push_back(
        "fsdp_cpu_offload moves parameters and gradients to the host with the "
        "optimizer states: more offload than the plan's.");
  }
  if (p.checkpointing == Checkpointing::kSelective) {
    n.push_back(
        "the config checkpoints every block: selective checkpointing is not among the "
        "shipped configs' keys.");
  }
  if (s.precision == Precision::kFp16 || s.precision == Precision::kFp8 ||
      s.precision == Precision::kTf32) {
    n.push_back(std::string("torchtune trains in bf16 or fp32: the ") + PrecisionName(s.precision) +
                " plan runs bf16.");
  }
  if (s.epochs != std::ceil(s.epochs)) {
    n.push_back(
        "torchtune counts whole epochs: epochs is rounded up; set max_steps_per_epoch "
        "to stop sooner.");
  }
  return n;
}

}  // namespace

FinetuneFiles EmitTorchtuneFinetune(const Model& m, const Cluster& c, const FinetunePlan& p,
                                    const FinetuneSetup& s) {
  const std::string refusal = Refusal(m, p, FindModel(m));
  if (!refusal.empty()) return {.files = {}, .notes = {refusal}};
  FinetuneFiles out{.files = {}, .notes = TorchtuneNotes(p, s)};
  out.files.push_back({"torchtune.yaml", TorchtuneYaml(m, c, p, s, out.notes)});
  out.files.push_back({"tune_run.sh", TorchtuneRunScript(m, c, p, s)});
  return out;
}

}  // namespace planner
