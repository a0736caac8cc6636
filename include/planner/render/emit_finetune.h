// Ready-to-run files for a fine-tuning plan: a Hugging Face PEFT + Trainer script with its
// accelerate config (and DeepSpeed JSON), or a torchtune recipe config with its `tune run` line.
// The emitters read the plan; they compute nothing about its cost.
#pragma once

#include <string>
#include <vector>

#include "planner/model/finetune_plan.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"

namespace planner {

/// One emitted file: its name in the output directory and its whole text.
struct EmittedFile {
  std::string name;
  std::string text;
  bool operator==(const EmittedFile&) const = default;
};

/// The files of one fine-tuning plan, and what they cannot express. `files` is empty when the
/// framework cannot run the plan at all; `notes` then says why.
struct FinetuneFiles {
  std::vector<EmittedFile> files;
  std::vector<std::string> notes;  ///< one sentence each: differences from the plan, omissions
  bool operator==(const FinetuneFiles&) const = default;
};

/// Hugging Face module names (PEFT `target_modules`) of the plan's adapter targets for the
/// model's architecture family; {"all-linear"} when the family is not known.
std::vector<std::string> LoraTargetModules(const Model& m, const AdapterTargets& targets);

/// train.py, accelerate.yaml, ds_config.json (when DeepSpeed shards) and run.sh.
FinetuneFiles EmitHuggingFaceFinetune(const Model& m, const Cluster& c, const FinetunePlan& p,
                                      const FinetuneSetup& s);

/// torchtune.yaml and tune_run.sh, or no files and a note when torchtune has no builder for the
/// model or no recipe for the method.
FinetuneFiles EmitTorchtuneFinetune(const Model& m, const Cluster& c, const FinetunePlan& p,
                                    const FinetuneSetup& s);

/// The files of s.framework.
FinetuneFiles EmitFinetune(const Model& m, const Cluster& c, const FinetunePlan& p,
                           const FinetuneSetup& s);

/// Writes the files (and NOTES.txt when there are notes) into out_dir, built in a directory
/// beside it and swapped in whole. out_dir must be new, empty or an earlier such set; anything
/// else is refused. Throws InputError(where).
void WriteFinetuneFiles(const std::string& out_dir, const FinetuneFiles& files,
                        const std::string& where = "--out");

}  // namespace planner
