// One reader per family of Hugging Face architectures, each filling a Model from the config's
// keys (the language model's own object for multimodal classes). Private to src/input.
#pragma once

#include "model_fields.h"
#include "planner/model/model.h"

namespace planner::hf {

using model_json::Fields;
using model_json::json;

void ReadLlama(const Fields& f, Model& m);    ///< Llama 1-3 (and Phi-3: fused, same count)
void ReadMistral(const Fields& f, Model& m);  ///< Llama plus a window on every layer (Phi-3 too)
void ReadLlama4(const Fields& f, Model& m);
void ReadMixtral(const Fields& f, Model& m);
void ReadQwen2(const Fields& f, Model& m);
void ReadQwen3(const Fields& f, Model& m);
void ReadQwen2Moe(const Fields& f, Model& m);
void ReadQwen3Moe(const Fields& f, Model& m);
void ReadDeepseek(const Fields& f, Model& m);
void ReadGemma(const Fields& f, Model& m);  ///< Gemma 1, 2 and 3 (text)
void ReadGpt2(const Fields& f, Model& m);
void ReadGptNeox(const Fields& f, Model& m);
void ReadFalcon(const Fields& f, Model& m);
void ReadGptOss(const Fields& f, Model& m);

/// The training sequence length: the context before rope scaling where the config states one,
/// else kDefaultTrainingSeqLen, never beyond max_context; notes the choice in m.source.
void ChooseTrainingSeqLen(const Fields& f, Model& m);

}  // namespace planner::hf
