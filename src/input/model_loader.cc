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

#include "planner/input/json_text.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/text.h"

namespace planner {
namespace {

using nlohmann::json;

// `where` is a file ("model.json") or a place inside one ("my.json: models[2]"). A key below a
// file reads "model.json: hidden"; below a place, "my.json: models[2].hidden".
std::string Child(const std::string& where, const std::string& key) {
  return where.find(": ") == std::string::npos ? where + ": " + key : where + "." + key;
}

// Typed reads of one JSON object's fields; every error names the field's path.
class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  /// The value of `key`, or nullptr when absent or null.
  const json* Find(const std::string& key) const {
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  const json& Need(const std::string& key) const {
    const json* v = Find(key);
    if (v == nullptr) throw InputError(Child(where_, key), "missing required key '" + key + "'");
    return *v;
  }

  // Each reader takes an optional fallback; without one the key is required.
  int64_t Int(const std::string& key, int64_t min, std::optional<int64_t> fallback = {}) const {
    const json* v = fallback ? Find(key) : &Need(key);
    return v ? ToInt(*v, key, min) : *fallback;
  }
  double Number(const std::string& key, double fallback) const {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) Fail(key, "expected a number, got " + ShownJson(*v));
    if (v->get<double>() < 0) Fail(key, "must not be negative, got " + ShownJson(*v));
    return v->get<double>();
  }
  bool Bool(const std::string& key, std::optional<bool> fallback = {}) const {
    const json* v = fallback ? Find(key) : &Need(key);
    if (v == nullptr) return *fallback;
    if (!v->is_boolean()) Fail(key, "expected true or false, got " + ShownJson(*v));
    return v->get<bool>();
  }
  std::string String(const std::string& key, std::optional<std::string> fallback = {}) const {
    const json* v = fallback ? Find(key) : &Need(key);
    if (v == nullptr) return *fallback;
    if (!v->is_string()) Fail(key, "expected a string, got " + ShownJson(*v));
    return v->get<std::string>();
  }
  [[noreturn]] void Fail(const std::string& key, const std::string& message) const {
    throw InputError(Child(where_, key), message);
  }

 private:
  // Integral floats (4096.0) are accepted; 4096.5, negatives and out-of-range values are not.
  int64_t ToInt(const json& v, const std::string& key, int64_t min) const {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t n = 0;
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{kMax}) {
        Fail(key, "is too large: " + ShownJson(v));
      }
      n = v.get<int64_t>();
    } else if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d != std::floor(d) || std::fabs(d) >= static_cast<double>(kMax)) {
        Fail(key, "must be an integer, got " + ShownJson(v));
      }
      n = static_cast<int64_t>(d);
    } else {
      Fail(key, "expected an integer, got " + ShownJson(v));
    }
    if (n < min) {
      Fail(key, std::string(min > 0 ? "must be a positive integer" : "must not be negative") +
                    ", got " + std::to_string(n));
    }
    // ValidateModel bounds each size far lower; this keeps the arithmetic before it (4 x n_embd)
    // within int64.
    if (n > (int64_t{1} << 50)) Fail(key, "is too large: " + ShownJson(v));
    return n;
  }

  const json& obj_;
  std::string where_;
};

// The planner's schema. Required: name, layers, hidden, heads, ffn_hidden, vocab, seq_len, mlp,
// tied_embeddings. Everything else is optional with the Model default (kv_heads = heads).
Model ParsePlannerSchema(const json& obj, const std::string& where) {
  // clang-format off
  static const std::vector<std::string> kKeys = {
      "name", "layers", "hidden", "heads", "kv_heads", "head_dim", "ffn_hidden", "vocab",
      "seq_len", "mlp", "tied_embeddings", "learned_positions", "rms_norm", "linear_bias",
      "dropout", "experts", "experts_per_token", "shared_experts", "moe_ffn_hidden",
      "dense_layers", "default_global_batch", "published_params", "source"};
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
  if (mlp != "gelu" && mlp != "swiglu") {
    f.Fail("mlp", "expected \"gelu\" or \"swiglu\", got \"" + mlp + "\"");
  }
  m.mlp = mlp == "swiglu" ? MlpKind::kSwiglu : MlpKind::kGelu;
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
  return m;
}

// Each supported class with the "model_type" that names it when "architectures" is absent.
const std::vector<std::pair<std::string, std::string>> kArchitectures = {
    {"LlamaForCausalLM", "llama"},           {"MistralForCausalLM", "mistral"},
    {"MixtralForCausalLM", "mixtral"},       {"GPT2LMHeadModel", "gpt2"},
    {"GPTNeoXForCausalLM", "gpt_neox"},      {"DeepseekV2ForCausalLM", "deepseek_v2"},
    {"DeepseekV3ForCausalLM", "deepseek_v3"}};

// The architecture class: "architectures"[0], else the one "model_type" names.
std::string Architecture(const Fields& f, const std::string& where) {
  const json* list = f.Find("architectures");
  if (list != nullptr && (!list->is_array() || list->empty() || !(*list)[0].is_string())) {
    f.Fail("architectures", "expected a list of class names, got " + ShownJson(*list));
  }
  const std::string type = list ? "" : f.String("model_type");
  std::vector<std::string> supported;
  for (const auto& [arch, arch_type] : kArchitectures) {
    if (list ? (*list)[0] == arch : arch_type == type) return arch;
    supported.push_back(arch);
  }
  const std::string what =
      list ? "architecture '" + (*list)[0].get<std::string>() : "model_type '" + type;
  throw InputError(where, "unsupported " + what + "'; supported: " + Join(supported, ", "));
}

// GPT-2's own key names (n_layer, n_embd, ...), with learned positions and linear biases.
void ReadGpt2Shape(const Fields& f, Model& m) {
  m.layers = f.Int("n_layer", 1);
  m.hidden = f.Int("n_embd", 1);
  m.heads = f.Int("n_head", 1);
  m.kv_heads = m.heads;
  m.ffn_hidden = f.Int("n_inner", 1, 4 * m.hidden);  // null means 4 h
  m.vocab = f.Int("vocab_size", 1);
  m.seq_len = f.Int("n_positions", 1);
  m.tied_embeddings = f.Bool("tie_word_embeddings", true);
  m.learned_positions = true;
  m.linear_bias = true;
  // transformers' GPT2Config defaults each dropout probability to 0.1.
  m.dropout = f.Number("resid_pdrop", 0.1) > 0 || f.Number("attn_pdrop", 0.1) > 0 ||
              f.Number("embd_pdrop", 0.1) > 0;
}

// The key names every other supported class shares.
void ReadCommonShape(const Fields& f, Model& m) {
  m.layers = f.Int("num_hidden_layers", 1);
  m.hidden = f.Int("hidden_size", 1);
  m.heads = f.Int("num_attention_heads", 1);
  m.ffn_hidden = f.Int("intermediate_size", 1);
  m.vocab = f.Int("vocab_size", 1);
  // The context the model supports, which is what it is trained (or fine-tuned) at.
  m.seq_len = f.Int("max_position_embeddings", 1);
  m.tied_embeddings = f.Bool("tie_word_embeddings", false);
}

// Attention, MLP and norm of a non-GPT-2 class: GPT-NeoX, else the Llama family.
void ReadFamily(const Fields& f, const std::string& arch, Model& m) {
  if (arch == "GPTNeoXForCausalLM") {
    m.kv_heads = m.heads;
    m.linear_bias = true;
    m.dropout = f.Number("hidden_dropout", 0) > 0 || f.Number("attention_dropout", 0) > 0;
    return;
  }
  // Llama family: SwiGLU, RMSNorm, RoPE. Optional attention/MLP biases (attention_bias,
  // mlp_bias) are ignored: they are under 0.01% of the parameters.
  m.mlp = MlpKind::kSwiglu;
  m.rms_norm = true;
  m.dropout = f.Number("attention_dropout", 0) > 0;
  m.kv_heads = f.Int("num_key_value_heads", 1, m.heads);
  m.head_dim = f.Int("head_dim", 1, 0);
}

// Mixtral's and DeepSeek's experts; other classes are dense.
void ReadExperts(const Fields& f, const std::string& arch, Model& m) {
  if (arch == "MixtralForCausalLM") {
    m.experts = f.Int("num_local_experts", 1);
    m.experts_per_token = f.Int("num_experts_per_tok", 1);
    return;
  }
  if (arch.rfind("Deepseek", 0) != 0) return;
  // MLA attention (low-rank compressed K/V, decoupled RoPE keys) is approximated by plain
  // attention with kv_heads = num_key_value_heads and head_dim = v_head_dim (or hidden/heads);
  // for DeepSeek-V2-Lite this overcounts attention by about 3M parameters per layer.
  m.head_dim = f.Int("v_head_dim", 1, 0);
  m.experts = f.Int("n_routed_experts", 1, 0);  // null: a dense model
  if (m.experts == 0) return;
  m.experts_per_token = f.Int("num_experts_per_tok", 1);
  m.shared_experts = f.Int("n_shared_experts", 0, 0);
  m.moe_ffn_hidden = f.Int("moe_intermediate_size", 1);
  m.dense_layers = f.Int("first_k_dense_replace", 0, 0);
  if (f.Int("moe_layer_freq", 1, 1) != 1) {
    f.Fail("moe_layer_freq", "only 1 (every layer after the dense ones is MoE) is supported");
  }
}

// Hugging Face config.json. Unknown keys are ignored: these files carry many (tokenizer ids,
// rope scaling, dtype) that do not change the parameter count or the memory plan.
Model ParseHuggingFace(const json& obj, const std::string& where) {
  const Fields f(obj, where);
  const std::string arch = Architecture(f, where);
  Model m;
  const std::string file = where.substr(0, where.find(": "));
  m.name = f.String("_name_or_path", "");
  if (m.name.empty()) m.name = std::filesystem::path(file).stem().string();
  m.source = "Hugging Face config.json (" + arch + "): " + file;
  if (arch == "GPT2LMHeadModel") {
    ReadGpt2Shape(f, m);
  } else {
    ReadCommonShape(f, m);
    ReadFamily(f, arch, m);
  }
  ReadExperts(f, arch, m);
  return m;
}

// The config.json key a Model field was read from, so that an error names the user's key.
std::string HuggingFaceKey(const json& doc, const std::string& field) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kKeys = {
      {"layers", {"num_hidden_layers", "n_layer"}},
      {"hidden", {"hidden_size", "n_embd"}},
      {"heads", {"num_attention_heads", "n_head"}},
      {"kv_heads", {"num_key_value_heads", "num_attention_heads"}},
      {"head_dim", {"v_head_dim", "head_dim"}},
      {"ffn_hidden", {"intermediate_size", "n_inner", "n_embd"}},
      {"vocab", {"vocab_size"}},
      {"seq_len", {"max_position_embeddings", "n_positions"}},
      {"experts", {"num_local_experts", "n_routed_experts"}},
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
