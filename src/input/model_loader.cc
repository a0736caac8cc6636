// Reads a model's shape from the planner's JSON schema or from a Hugging Face config.json.
#include "planner/input/model_loader.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "model_fields.h"
#include "planner/input/hf_config.h"
#include "planner/input/json_text.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/text.h"

namespace planner {
namespace {

using model_json::Child;
using model_json::Fields;
using model_json::json;

// The optional fields of attention variants and current MoE layouts; 0 or false when absent.
void ReadPlannerExtras(const Fields& f, Model& m) {
  m.max_context = f.Int("max_context", 1, 0);
  m.qkv_bias = f.Bool("qkv_bias", false);
  m.qk_norm = f.Bool("qk_norm", false);
  m.q_lora_rank = f.Int("q_lora_rank", 0, 0);
  m.kv_lora_rank = f.Int("kv_lora_rank", 0, 0);
  m.qk_nope_head_dim = f.Int("qk_nope_head_dim", 0, 0);
  m.qk_rope_head_dim = f.Int("qk_rope_head_dim", 0, 0);
  m.v_head_dim = f.Int("v_head_dim", 0, 0);
  m.sliding_window = f.Int("sliding_window", 0, 0);
  m.global_every = f.Int("global_every", 0, 0);
  m.shared_ffn_hidden = f.Int("shared_ffn_hidden", 0, 0);
  m.moe_every = f.Int("moe_every", 1, 1);
  m.mtp_layers = f.Int("mtp_layers", 0, 0);
}

// The planner's schema. Required: name, layers, hidden, heads, ffn_hidden, vocab, seq_len, mlp,
// tied_embeddings. Everything else is optional with the Model default (kv_heads = heads).
Model ParsePlannerSchema(const json& obj, const std::string& where) {
  // clang-format off
  static const std::vector<std::string> kKeys = {
      "name", "layers", "hidden", "heads", "kv_heads", "head_dim", "ffn_hidden", "vocab",
      "seq_len", "mlp", "tied_embeddings", "learned_positions", "rms_norm", "linear_bias",
      "dropout", "experts", "experts_per_token", "shared_experts", "moe_ffn_hidden",
      "dense_layers", "default_global_batch", "published_params", "source", "max_context",
      "qkv_bias", "qk_norm", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
      "qk_rope_head_dim", "v_head_dim", "sliding_window", "global_every", "shared_ffn_hidden",
      "moe_every", "mtp_layers"};
  // clang-format on
  RejectUnknownKeys(
      obj, kKeys, [&](const std::string& key) { return Child(where, key); }, "unknown key");
  const Fields f(obj, where);
  Model m;
  m.name = f.String("name");
  if (m.name.empty()) f.Fail("name", "must not be empty");
  m.layers = f.Int("layers", 1);
  m.hidden = f.Int("hidden", 1);
  m.heads = f.Int("heads", 1);
  m.kv_heads = f.Int("kv_heads", 1, m.heads);
  m.head_dim = f.Int("head_dim", 1, 0);
  m.ffn_hidden = f.Int("ffn_hidden", 1);
  m.vocab = f.Int("vocab", 1);
  m.seq_len = f.Int("seq_len", 1);
  const std::string mlp = f.String("mlp");
  if (mlp != "gelu" && mlp != "swiglu" && mlp != "geglu") {
    f.Fail("mlp", "expected \"gelu\", \"swiglu\" or \"geglu\", got \"" + mlp + "\"");
  }
  m.mlp = mlp == "swiglu" ? MlpKind::kSwiglu : mlp == "geglu" ? MlpKind::kGeglu : MlpKind::kGelu;
  m.tied_embeddings = f.Bool("tied_embeddings");
  m.learned_positions = f.Bool("learned_positions", false);
  m.rms_norm = f.Bool("rms_norm", false);
  m.linear_bias = f.Bool("linear_bias", false);
  m.dropout = f.Bool("dropout", false);
  m.experts = f.Int("experts", 0, 0);
  m.experts_per_token = f.Int("experts_per_token", 0, 0);
  m.shared_experts = f.Int("shared_experts", 0, 0);
  m.moe_ffn_hidden = f.Int("moe_ffn_hidden", 0, 0);
  m.dense_layers = f.Int("dense_layers", 0, 0);
  m.default_global_batch = f.Int("default_global_batch", 0, 0);
  m.published_params = f.Number("published_params", 0);
  m.source = f.String("source", "");
  ReadPlannerExtras(f, m);
  return m;
}

// The config.json key a Model field was read from, so that an error names the user's key.
std::string HuggingFaceKey(const json& doc, const std::string& field) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kKeys = {
      {"layers", {"num_hidden_layers", "n_layer"}},
      {"hidden", {"hidden_size", "n_embd"}},
      {"heads", {"num_attention_heads", "n_head"}},
      {"kv_heads", {"num_key_value_heads", "num_attention_heads"}},
      {"head_dim", {"head_dim"}},
      {"ffn_hidden", {"intermediate_size", "n_inner", "n_embd"}},
      {"vocab", {"vocab_size"}},
      {"seq_len", {"max_position_embeddings", "n_positions"}},
      {"max_context", {"max_position_embeddings", "n_positions"}},
      {"experts", {"num_local_experts", "n_routed_experts", "num_experts"}},
      {"kv_lora_rank", {"kv_lora_rank"}},
      {"q_lora_rank", {"q_lora_rank"}},
      {"qk_nope_head_dim", {"qk_nope_head_dim"}},
      {"qk_rope_head_dim", {"qk_rope_head_dim"}},
      {"v_head_dim", {"v_head_dim"}},
      {"sliding_window", {"sliding_window", "attention_chunk_size"}},
      {"moe_every", {"interleave_moe_layer_step", "decoder_sparse_step"}},
      {"mtp_layers", {"num_nextn_predict_layers"}},
      {"shared_ffn_hidden", {"shared_expert_intermediate_size"}},
      {"experts_per_token", {"num_experts_per_tok"}},
      {"shared_experts", {"n_shared_experts"}},
      {"moe_ffn_hidden", {"moe_intermediate_size"}},
      {"dense_layers", {"first_k_dense_replace"}}};
  for (const auto& [name, keys] : kKeys) {
    if (name != field) continue;
    for (const std::string& key : keys) {
      if (doc.contains(key)) return key;
    }
  }
  return field;
}

// ValidateModel joins with "."; directly below a file the planner writes "file: key", and for a
// Hugging Face config names the config's own key.
void Validate(const Model& m, const std::string& where, const json& doc, bool hugging_face) {
  try {
    ValidateModel(m, where);
  } catch (const InputError& e) {
    const std::string prefix = where + ".";
    if (e.where().rfind(prefix, 0) != 0) throw;
    const std::string field = e.where().substr(prefix.size());
    const std::string key = hugging_face ? HuggingFaceKey(doc, field) : field;
    if (where.find(": ") != std::string::npos && key == field) throw;
    throw InputError(Child(where, key), e.what());
  }
}

}  // namespace

Model ParseModelJson(const std::string& text, const std::string& where) {
  const json doc = ParseJsonText(text, where);
  if (!doc.is_object()) throw InputError(where, "expected a JSON object, got " + ShownJson(doc));
  const bool hugging_face = doc.contains("architectures") || doc.contains("model_type");
  Model m = hugging_face ? ParseHuggingFace(doc, where) : ParsePlannerSchema(doc, where);
  Validate(m, where, doc, hugging_face);
  return m;
}

Model LoadModelFile(const std::string& path, const std::string& where) {
  return ParseModelJson(ReadTextFile(path, where), where);
}

}  // namespace planner
