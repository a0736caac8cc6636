// Reading a Hugging Face config.json into a Model: one reader per family of architectures.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "planner/model/model.h"

namespace planner {

/// The training sequence length when a config states none (no original context before rope
/// scaling): long-context models are pretrained at a few thousand tokens and extended after.
inline constexpr int64_t kDefaultTrainingSeqLen = 4096;

/// The architecture classes the loader reads ("LlamaForCausalLM", ...).
std::vector<std::string> SupportedHuggingFaceClasses();

/// A Hugging Face config.json object; `where` prefixes errors ("file.json" or "x.json: models[1]").
/// Unknown architectures throw InputError listing the supported classes.
Model ParseHuggingFace(const nlohmann::json& obj, const std::string& where);

}  // namespace planner
