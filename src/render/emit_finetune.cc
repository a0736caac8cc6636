// The fine-tuning emitters' shared facts (architecture families and their module names), the
// dispatch by framework, and writing one plan's files as a set.
#include "planner/render/emit_finetune.h"

#include <algorithm>
#include <filesystem>
#include <string>

#include "emit_finetune_common.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/text.h"

namespace planner {
namespace {

const std::vector<std::string> kQkvo = {"q_proj", "k_proj", "v_proj", "o_proj"};
const std::vector<std::string> kGatedMlp = {"gate_proj", "up_proj", "down_proj"};
// GPT-NeoX, Falcon and ChatGLM fuse Q, K and V in one matrix.
const std::vector<std::string> kFusedQkv = {"query_key_value", "dense"};
const std::vector<std::string> kFusedMlp = {"dense_h_to_4h", "dense_4h_to_h"};

// Routed experts whose weights are 3-D parameters, not nn.Linear, in transformers' modeling
// code (gpt-oss, Llama 4): PEFT's target_modules does not reach them.
constexpr const char* kFusedExperts =
    "the routed experts' weights are fused 3-D parameters, which target_modules cannot reach "
    "(PEFT's target_parameters can): LoRA stays on attention";
// Mixtral, Qwen-MoE and DeepSeek keep experts as nn.Linear in transformers 4.x; later
// releases fuse them as well.
constexpr const char* kLinearExperts =
    "LoRA on the MLP puts one adapter on every routed expert; with transformers releases that "
    "fuse experts into 3-D parameters, use PEFT's target_parameters instead";

// The keys to match: the model's name and, for a model read from a Hugging Face config.json,
// the architecture class the loader recorded in `source` ("... config.json (LlamaForCausalLM)").
std::string FamilyKey(const Model& m) {
  std::string key = Lower(m.name);
  const std::string marker = "config.json (";
  const size_t at = m.source.find(marker);
  if (at != std::string::npos) {
    const size_t end = m.source.find(')', at);
    key += " " + Lower(m.source.substr(at + marker.size(), end - at - marker.size()));
  }
  return key;
}

bool Has(const std::string& key, std::initializer_list<const char*> words) {
  return std::any_of(words.begin(), words.end(),
                     [&](const char* w) { return key.find(w) != std::string::npos; });
}

HfFamily LlamaLike(const std::string& name, const std::string& layer) {
  return HfFamily{.name = name, .attention = kQkvo, .mlp = kGatedMlp, .decoder_layer = layer};
}

HfFamily MoeFamily(const Model& m, const std::string& key) {
  if (IsMla(m)) {
    // DeepSeek-V2/V3 (and Kimi K2): queries through a rank-q_lora_rank pair when it is set.
    std::vector<std::string> attention = {"kv_a_proj_with_mqa", "kv_b_proj", "o_proj"};
    if (m.q_lora_rank > 0) {
      attention.insert(attention.begin(), {"q_a_proj", "q_b_proj"});
    } else {
      attention.insert(attention.begin(), "q_proj");
    }
    return {"deepseek_v3", attention, kGatedMlp, "DeepseekV3DecoderLayer", kLinearExperts};
  }
  if (Has(key, {"gpt-oss", "gptoss"}))
    return {"gpt_oss", kQkvo, {}, "GptOssDecoderLayer", kFusedExperts};
  if (Has(key, {"llama4", "llama-4"})) {
    return {"llama4", kQkvo, {}, "Llama4TextDecoderLayer", kFusedExperts};
  }
  if (Has(key, {"mixtral"})) {
    return {"mixtral", kQkvo, {"w1", "w2", "w3"}, "MixtralDecoderLayer", kLinearExperts};
  }
  if (Has(key, {"qwen3"}))
    return {"qwen3_moe", kQkvo, kGatedMlp, "Qwen3MoeDecoderLayer", kLinearExperts};
  if (Has(key, {"qwen2"}))
    return {"qwen2_moe", kQkvo, kGatedMlp, "Qwen2MoeDecoderLayer", kLinearExperts};
  return {};
}

HfFamily DenseFamily(const std::string& key) {
  if (Has(key, {"phi-3", "phi3"})) {
    return {"phi3", {"qkv_proj", "o_proj"}, {"gate_up_proj", "down_proj"}, "Phi3DecoderLayer", ""};
  }
  if (Has(key, {"gemma-3", "gemma3"})) return LlamaLike("gemma3", "Gemma3DecoderLayer");
  if (Has(key, {"gemma-2", "gemma2"})) return LlamaLike("gemma2", "Gemma2DecoderLayer");
  if (Has(key, {"gemma"})) return LlamaLike("gemma", "GemmaDecoderLayer");
  if (Has(key, {"qwen3"})) return LlamaLike("qwen3", "Qwen3DecoderLayer");
  if (Has(key, {"qwen2"})) return LlamaLike("qwen2", "Qwen2DecoderLayer");
  if (Has(key, {"mistral"})) return LlamaLike("mistral", "MistralDecoderLayer");
  if (Has(key, {"command-r", "cohere"})) return LlamaLike("cohere", "CohereDecoderLayer");
  if (Has(key, {"llama"})) return LlamaLike("llama", "LlamaDecoderLayer");
  // ChatGLM's modeling code lives in its Hugging Face repository, not in transformers.
  if (Has(key, {"chatglm"})) return {"chatglm", kFusedQkv, kFusedMlp, "GLMBlock", "", true};
  if (Has(key, {"falcon"})) return {"falcon", kFusedQkv, kFusedMlp, "FalconDecoderLayer", ""};
  if (Has(key, {"neox", "pythia"})) return {"gpt_neox", kFusedQkv, kFusedMlp, "GPTNeoXLayer", ""};
  // GPT-2's attention and MLP both own a `c_proj`: the parent's name tells them apart.
  if (Has(key, {"gpt2"})) {
    return {"gpt2", {"c_attn", "attn.c_proj"}, {"c_fc", "mlp.c_proj"}, "GPT2Block", ""};
  }
  return {};
}

}  // namespace

HfFamily HfFamilyOf(const Model& m) {
  const std::string key = FamilyKey(m);
  if (IsMoe(m) || IsMla(m)) return MoeFamily(m, key);
  return DenseFamily(key);
}

bool SeparateProjections(const HfFamily& f) { return f.attention == kQkvo; }

std::vector<std::string> LoraTargetModules(const Model& m, const AdapterTargets& targets) {
  const HfFamily f = HfFamilyOf(m);
  if (f.name.empty()) return {"all-linear"};
  std::vector<std::string> modules;
  if (SeparateProjections(f)) {
    // Separate projections: each chosen one by its name.
    const bool chosen[] = {targets.q, targets.k, targets.v, targets.o};
    for (size_t i = 0; i < kQkvo.size(); ++i) {
      if (chosen[i]) modules.push_back(kQkvo[i]);
    }
  } else if (AnyAttention(targets)) {
    modules = f.attention;  // fused projections: adapted whole
  }
  if (targets.mlp) modules.insert(modules.end(), f.mlp.begin(), f.mlp.end());
  return modules;
}

bool Nf4Base(const FinetunePlan& p) {
  return p.method == FinetuneMethod::kQlora ||
         (p.method != FinetuneMethod::kFull && p.method != FinetuneMethod::kGalore &&
          p.base_weights == BaseWeights::kNf4);
}

bool Int8Base(const FinetunePlan& p) {
  return !Nf4Base(p) && p.base_weights == BaseWeights::kInt8 &&
         (p.method == FinetuneMethod::kLora || p.method == FinetuneMethod::kFreeze);
}

bool UsesAdapters(const FinetunePlan& p) {
  return UsesAdapters(p.method);
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& i : items) quoted.push_back("'" + i + "'");
  return "[" + Join(quoted, ", ") + "]";
}

std::string WrappedComment(const std::string& text) {
  constexpr size_t kWidth = 79 - 2;  // after "# "
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.size();
    if (end - start > kWidth) {
      const size_t space = text.rfind(' ', start + kWidth);
      end = space == std::string::npos || space <= start ? text.find(' ', start + kWidth) : space;
      if (end == std::string::npos) end = text.size();
    }
    out += "# " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

NodeLayout FinetuneNodes(const Cluster& c, const FinetunePlan& p) {
  Cluster used = c;
  used.gpus = p.gpus;
  return NodesFor(used);
}

std::string FinetuneSummary(const Model& m, const Cluster& c, const FinetunePlan& p) {
  std::string t = m.name + ", " + FinetuneMethodName(p.method);
  if (Nf4Base(p)) t += " (nf4 base)";
  if (Int8Base(p)) t += " (int8 base)";
  if (UsesAdapters(p)) {
    t += ", r " + std::to_string(p.lora_rank) + " / alpha " + std::to_string(p.lora_alpha);
  }
  if (p.method == FinetuneMethod::kFreeze) {
    t += ", last " + std::to_string(p.trainable_layers) + " blocks";
  }
  if (p.method == FinetuneMethod::kGalore) t += ", rank " + std::to_string(p.galore_rank);
  t += ", " + std::to_string(p.gpus) + " x " + c.gpu.name + ", DP " + std::to_string(p.dp);
  if (p.tp > 1) t += ", TP " + std::to_string(p.tp);
  t += std::string(", sharding ") + ShardingName(p.sharding);
  if (p.offload_optimizer) t += " + optimizer offload";
  if (p.offload_params) t += " + parameter offload";
  t += ", micro-batch " + std::to_string(p.micro_batch) + " x " + std::to_string(p.grad_accum) +
       " accumulation, checkpointing " + CheckpointingName(p.checkpointing);
  return t;
}

FinetuneFiles EmitFinetune(const Model& m, const Cluster& c, const FinetunePlan& p,
                           const FinetuneSetup& s) {
  if (s.framework == FinetuneFramework::kTorchtune) return EmitTorchtuneFinetune(m, c, p, s);
  return EmitHuggingFaceFinetune(m, c, p, s);
}

namespace {

constexpr const char* kNotesFile = "NOTES.txt";
constexpr const char* kKnownFiles[] = {"train.py", "accelerate.yaml", "ds_config.json",
                                       "run.sh",   "torchtune.yaml",  "tune_run.sh",
                                       kNotesFile};

// out may be new, empty, or a set this function wrote (only its file names, regular files):
// that is replaced whole; anything else is refused, never mixed or deleted.
void CheckFinetuneTarget(const std::filesystem::path& out, const std::string& where) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(out, ec))) return;
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(out, ec))) {
    throw InputError(where, "cannot write '" + out.string() + "': not a directory");
  }
  for (const auto& entry : std::filesystem::directory_iterator(out, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours =
        std::find(std::begin(kKnownFiles), std::end(kKnownFiles), name) != std::end(kKnownFiles);
    if (ours && entry.is_regular_file(ec) && !entry.is_symlink(ec)) continue;
    throw InputError(where, "cannot write into '" + out.string() + "': it holds " + name +
                                ", which the planner did not write; use a new or empty directory");
  }
  if (ec) throw InputError(where, "cannot read '" + out.string() + "': " + ec.message());
}

}  // namespace

void WriteFinetuneFiles(const std::string& out_dir, const FinetuneFiles& files,
                        const std::string& where) {
  std::filesystem::path out = std::filesystem::path(out_dir).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  CheckFinetuneTarget(out, where);
  std::error_code error;
  if (!out.parent_path().empty()) std::filesystem::create_directories(out.parent_path(), error);
  if (error) throw InputError(where, "cannot write " + out.string() + ": " + error.message());
  // Built beside out_dir and swapped in, as WritePlanFiles does: old set or new, never a mix.
  const std::filesystem::path staged = StagingDirectory(out, where);
  try {
    for (const EmittedFile& f : files.files) {
      WriteFileAtomically((staged / f.name).string(), f.text, where, f.name.ends_with(".sh"));
    }
    if (!files.notes.empty()) {
      WriteFileAtomically((staged / kNotesFile).string(), Join(files.notes, "\n") + "\n", where);
    }
    SyncDirectory(staged);
  } catch (...) {
    std::filesystem::remove_all(staged, error);
    throw;
  }
  SwapInDirectory(staged, out, where);
}

}  // namespace planner
