// Pieces the fine-tuning emitters share (internal to src/render/emit_finetune*.cc).
#pragma once

#include <string>
#include <vector>

#include "planner/render/emit.h"
#include "planner/render/emit_finetune.h"

namespace planner {

/// What the emitters need to know of a model's Hugging Face architecture.
struct HfFamily {
  std::string name;                    ///< "llama", "qwen3", ...; "" when not recognised
  std::vector<std::string> attention;  ///< nn.Linear names of q, k, v, o (PEFT suffixes)
  std::vector<std::string> mlp;        ///< nn.Linear names of the MLP; empty: not reachable
  std::string decoder_layer;           ///< the block class FSDP wraps ("" : unknown)
  std::string mlp_note;                ///< why `mlp` misses weights ("" : it does not)
  bool remote_code = false;            ///< modeling code from the model's repo (ChatGLM)
};

/// The family of `m`, from its name and, for a Hugging Face config, its architecture class.
HfFamily HfFamilyOf(const Model& m);
/// Whether the family's attention is q_proj, k_proj, v_proj, o_proj (each adaptable alone).
bool SeparateProjections(const HfFamily& f);

/// "llama3-8b, qlora (nf4 base), r 16 / alpha 32 on attention + mlp, 1 x rtx-4090, ..." for
/// the comment at the top of each file.
std::string FinetuneSummary(const Model& m, const Cluster& c, const FinetunePlan& p);

/// Nodes and GPUs per node of the plan's `p.gpus` GPUs on cluster `c`.
NodeLayout FinetuneNodes(const Cluster& c, const FinetunePlan& p);

/// The base weights are loaded in 4-bit NF4 (QLoRA) / 8-bit (LLM.int8()) through bitsandbytes.
bool Nf4Base(const FinetunePlan& p);
bool Int8Base(const FinetunePlan& p);
/// LoRA adapters are trained (LoRA and QLoRA).
bool UsesAdapters(const FinetunePlan& p);

/// `text` as "# " comment lines of at most 79 columns, broken at spaces.
std::string WrappedComment(const std::string& text);

/// ['a', 'b'] (a Python list and a YAML flow sequence alike).
std::string QuotedList(const std::vector<std::string>& items);

/// The Hugging Face set's files, one function each; `notes` head train.py as comments.
std::string HfTrainScript(const Model& m, const Cluster& c, const FinetunePlan& p,
                          const FinetuneSetup& s, const std::vector<std::string>& notes);
std::string AccelerateYaml(const Model& m, const Cluster& c, const FinetunePlan& p,
                           const FinetuneSetup& s);
std::string HfDeepSpeedConfig(const FinetunePlan& p, const FinetuneSetup& s);
std::string HfRunScript(const Model& m, const Cluster& c, const FinetunePlan& p);

}  // namespace planner
