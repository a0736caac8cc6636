// Hugging Face config.json: the architecture table, the keys most classes share, and the
// training sequence length.
#include "planner/input/hf_config.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "hf_families.h"
#include "model_fields.h"
#include "planner/model/error.h"
#include "planner/model/text.h"

namespace planner {
namespace {

using model_json::Fields;
using model_json::json;

// Each supported class, the "model_type" that names it when "architectures" is absent, and its
// family's reader.
struct Architecture {
  const char* cls;
  const char* type;
  void (*read)(const Fields&, Model&);
};

const std::vector<Architecture>& Architectures() {
  static const std::vector<Architecture> kArchitectures = {
      {"LlamaForCausalLM", "llama", hf::ReadLlama},
      {"MistralForCausalLM", "mistral", hf::ReadMistral},
      {"MixtralForCausalLM", "mixtral", hf::ReadMixtral},
      {"Llama4ForConditionalGeneration", "llama4", hf::ReadLlama4},
      {"Llama4ForCausalLM", "llama4_text", hf::ReadLlama4},
      {"Qwen2ForCausalLM", "qwen2", hf::ReadQwen2},
      {"Qwen3ForCausalLM", "qwen3", hf::ReadQwen3},
      {"Qwen2MoeForCausalLM", "qwen2_moe", hf::ReadQwen2Moe},
      {"Qwen3MoeForCausalLM", "qwen3_moe", hf::ReadQwen3Moe},
      {"DeepseekV2ForCausalLM", "deepseek_v2", hf::ReadDeepseek},
      {"DeepseekV3ForCausalLM", "deepseek_v3", hf::ReadDeepseek},
      {"GemmaForCausalLM", "gemma", hf::ReadGemma},
      {"Gemma2ForCausalLM", "gemma2", hf::ReadGemma},
      {"Gemma3ForCausalLM", "gemma3_text", hf::ReadGemma},
      {"Gemma3ForConditionalGeneration", "gemma3", hf::ReadGemma},
      {"Phi3ForCausalLM", "phi3", hf::ReadMistral},
      {"GPT2LMHeadModel", "gpt2", hf::ReadGpt2},
      {"GPTNeoXForCausalLM", "gpt_neox", hf::ReadGptNeox},
      {"FalconForCausalLM", "falcon", hf::ReadFalcon},
      {"GptOssForCausalLM", "gpt_oss", hf::ReadGptOss}};
  return kArchitectures;
}

// The architecture: "architectures"[0], else the one "model_type" names.
const Architecture& Find(const Fields& f, const std::string& where) {
  const json* list = f.Find("architectures");
  if (list != nullptr && (!list->is_array() || list->empty() || !(*list)[0].is_string())) {
    f.Fail("architectures", "expected a list of class names, got " + ShownJson(*list));
  }
  const std::string type = list ? "" : f.String("model_type");
  for (const Architecture& a : Architectures()) {
    if (list ? (*list)[0] == a.cls : type == a.type) return a;
  }
  const std::string what =
      list ? "architecture '" + (*list)[0].get<std::string>() : "model_type '" + type;
  throw InputError(where, "unsupported " + what + "'; supported: " +
                              Join(SupportedHuggingFaceClasses(), ", "));
}

}  // namespace

std::vector<std::string> SupportedHuggingFaceClasses() {
  std::vector<std::string> names;
  for (const Architecture& a : Architectures()) names.emplace_back(a.cls);
  return names;
}

Model ParseHuggingFace(const json& obj, const std::string& where) {
  const Fields top(obj, where);
  const Architecture& arch = Find(top, where);
  // Multimodal classes (Llama 4, Gemma 3) keep the language model in "text_config".
  const json* text = top.Find("text_config");
  const std::string text_where = model_json::Child(where, "text_config");
  const Fields f = text && text->is_object() ? Fields(*text, text_where) : top;
  Model m;
  const std::string file = where.substr(0, where.find(": "));
  m.name = top.String("_name_or_path", "");
  if (m.name.empty()) m.name = std::filesystem::path(file).stem().string();
  m.source = std::string("Hugging Face config.json (") + arch.cls + "): " + file;
  arch.read(f, m);
  hf::ChooseTrainingSeqLen(f, m);
  return m;
}

}  // namespace planner
