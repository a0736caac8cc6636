// Reading models from the planner's JSON schema and from Hugging Face config.json files.
#include "planner/input/model_loader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "planner/model/error.h"
#include "planner/model/model.h"

namespace planner {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(PLANNER_SOURCE_DIR) + "/tests/data/" + name;
}

// The InputError that parsing `text` throws (a failure if it throws none).
InputError ParseError(const std::string& text, const std::string& where = "m.json") {
  try {
    ParseModelJson(text, where);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError for " << text;
  return InputError("", "");
}

void ExpectContains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in '" << text << "'";
}

// A valid planner-schema model with one field replaced.
std::string TinyWith(const std::string& key, const nlohmann::json& value) {
  nlohmann::json j = {{"name", "t"},    {"layers", 2},       {"hidden", 64},
                      {"heads", 4},     {"ffn_hidden", 256}, {"vocab", 100},
                      {"seq_len", 128}, {"mlp", "gelu"},     {"tied_embeddings", true}};
  j[key] = value;
  return j.dump();
}

TEST(ModelLoader, PlannerSchemaFileRoundTripsEveryField) {
  const Model m = LoadModelFile(Fixture("planner_tiny_model.json"), "tiny.json");
  EXPECT_EQ(m.name, "tiny-gqa");
  EXPECT_EQ(m.layers, 4);
  EXPECT_EQ(m.hidden, 256);
  EXPECT_EQ(m.heads, 8);
  EXPECT_EQ(m.kv_heads, 2);
  EXPECT_EQ(m.head_dim, 0);
  EXPECT_EQ(m.ffn_hidden, 688);
  EXPECT_EQ(m.mlp, MlpKind::kSwiglu);
  EXPECT_TRUE(m.tied_embeddings);
  EXPECT_TRUE(m.rms_norm);
  EXPECT_FALSE(m.learned_positions);
  EXPECT_EQ(m.default_global_batch, 64);
  // By hand: 4 x (2*256*256 + 2*256*64 + 3*256*688 + 2*256) + 256 + 1000*256 (tied).
  EXPECT_DOUBLE_EQ(CountParameters(m).total, 3027200.0);

  const nlohmann::json back = {{"name", m.name},
                               {"layers", m.layers},
                               {"hidden", m.hidden},
                               {"heads", m.heads},
                               {"kv_heads", m.kv_heads},
                               {"head_dim", 32},
                               {"ffn_hidden", m.ffn_hidden},
                               {"vocab", m.vocab},
                               {"seq_len", m.seq_len},
                               {"mlp", "swiglu"},
                               {"tied_embeddings", m.tied_embeddings},
                               {"learned_positions", false},
                               {"rms_norm", true},
                               {"linear_bias", false},
                               {"dropout", false},
                               {"experts", 0},
                               {"experts_per_token", 0},
                               {"shared_experts", 0},
                               {"moe_ffn_hidden", 0},
                               {"dense_layers", 0},
                               {"default_global_batch", 64},
                               {"published_params", 0.0},
                               {"source", m.source}};
  Model expected = m;
  expected.head_dim = 32;  // explicit head_dim = hidden / heads: same shape
  EXPECT_EQ(ParseModelJson(back.dump(), "back.json"), expected);
  EXPECT_DOUBLE_EQ(CountParameters(expected).total, 3027200.0);
}

TEST(ModelLoader, Llama2_7bConfigMatchesPublishedCount) {
  const Model m = LoadModelFile(Fixture("hf_llama2_7b.json"), "llama.json");
  EXPECT_EQ(m.name, "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(m.layers, 32);
  EXPECT_EQ(m.hidden, 4096);
  EXPECT_EQ(m.heads, 32);
  EXPECT_EQ(m.kv_heads, 32);
  EXPECT_EQ(m.ffn_hidden, 11008);
  EXPECT_EQ(m.vocab, 32000);
  EXPECT_EQ(m.seq_len, 4096);
  EXPECT_EQ(m.mlp, MlpKind::kSwiglu);
  EXPECT_TRUE(m.rms_norm);
  EXPECT_FALSE(m.tied_embeddings);
  // Meta's model card: 6.74e9; the checkpoint holds exactly 6,738,415,616.
  EXPECT_DOUBLE_EQ(CountParameters(m).total, 6738415616.0);
}

TEST(ModelLoader, Mixtral8x7bConfigMatchesPublishedTotalAndActive) {
  // As FindModel does, the path is also `where`; without _name_or_path the name is its stem.
  const Model m = LoadModelFile(Fixture("hf_mixtral_8x7b.json"), Fixture("hf_mixtral_8x7b.json"));
  EXPECT_EQ(m.name, "hf_mixtral_8x7b");
  EXPECT_EQ(m.kv_heads, 8);
  EXPECT_EQ(m.experts, 8);
  EXPECT_EQ(m.experts_per_token, 2);
  EXPECT_EQ(m.ffn_hidden, 14336);
  // Issue #14: the training length is a choice, not the 32768-token maximum context; the
  // config states no training length, so the planner's default 4096 applies.
  EXPECT_EQ(m.seq_len, 4096);
  EXPECT_EQ(m.max_context, 32768);
  // Mistral AI, "Mixtral of experts" (Dec 2023): 46.7B total, 12.9B active per token.
  const ParamCounts c = CountParameters(m);
  EXPECT_NEAR(c.total, 46.7e9, 0.01 * 46.7e9);
  EXPECT_NEAR(c.active, 12.9e9, 0.01 * 12.9e9);
}

TEST(ModelLoader, Gpt2SmallConfigMatchesPublishedCount) {
  const Model m = LoadModelFile(Fixture("hf_gpt2.json"), "configs/gpt2-small.json");
  EXPECT_EQ(m.name, "gpt2-small");  // no _name_or_path: the stem of `where`
  EXPECT_EQ(m.layers, 12);
  EXPECT_EQ(m.hidden, 768);
  EXPECT_EQ(m.heads, 12);
  EXPECT_EQ(m.ffn_hidden, 3072);  // n_inner absent: 4 * n_embd
  EXPECT_EQ(m.vocab, 50257);
  EXPECT_EQ(m.seq_len, 1024);
  EXPECT_EQ(m.mlp, MlpKind::kGelu);
  EXPECT_TRUE(m.tied_embeddings && m.learned_positions && m.linear_bias && m.dropout);
  EXPECT_FALSE(m.rms_norm);
  // The openai-community/gpt2 checkpoint: 124,439,808 ("124M").
  EXPECT_DOUBLE_EQ(CountParameters(m).total, 124439808.0);
}

TEST(ModelLoader, Pythia1bGptNeoXConfigMatchesPublishedCount) {
  const Model m = LoadModelFile(Fixture("hf_pythia_1b.json"), "pythia.json");
  EXPECT_EQ(m.layers, 16);
  EXPECT_EQ(m.hidden, 2048);
  EXPECT_EQ(m.heads, 8);
  EXPECT_EQ(m.kv_heads, 8);
  EXPECT_EQ(m.ffn_hidden, 8192);
  EXPECT_EQ(m.vocab, 50304);
  EXPECT_FALSE(m.tied_embeddings);
  EXPECT_TRUE(m.linear_bias);
  EXPECT_FALSE(m.dropout);
  // Pythia README (Biderman et al. 2023): Pythia-1B has 1,011,781,632 parameters.
  EXPECT_DOUBLE_EQ(CountParameters(m).total, 1011781632.0);
}

TEST(ModelLoader, DeepSeekV2LiteConfigIsWithinOnePercentOfPublishedTotal) {
  const Model m = LoadModelFile(Fixture("hf_deepseek_v2_lite.json"), "dsv2.json");
  EXPECT_EQ(m.layers, 27);
  EXPECT_EQ(m.experts, 64);
  EXPECT_EQ(m.experts_per_token, 6);
  EXPECT_EQ(m.shared_experts, 2);
  EXPECT_EQ(m.moe_ffn_hidden, 1408);
  EXPECT_EQ(m.ffn_hidden, 10944);
  EXPECT_EQ(m.dense_layers, 1);
  // MLA since issue #14 (it was plain attention with head_dim = v_head_dim): Q is projected
  // directly (q_lora_rank null), K and V from a 512-wide latent.
  EXPECT_EQ(m.kv_lora_rank, 512);
  EXPECT_EQ(m.q_lora_rank, 0);
  EXPECT_EQ(m.head_dim, 192);  // qk_nope 128 + qk_rope 64
  // rope_scaling.original_max_position_embeddings 4096 is the training length, not 163840.
  EXPECT_EQ(m.seq_len, 4096);
  // DeepSeek-V2-Lite model card: 15.7B total parameters.
  EXPECT_NEAR(CountParameters(m).total, 15.7e9, 0.01 * 15.7e9);
}

TEST(ModelLoader, ModelTypeAloneSelectsArchitecture) {
  const Model m = ParseModelJson(
      R"({"model_type": "mistral", "num_hidden_layers": 32, "hidden_size": 4096,
          "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
          "vocab_size": 32000, "max_position_embeddings": 32768})",
      "models/mistral-7b.json");
  EXPECT_EQ(m.name, "mistral-7b");
  EXPECT_EQ(m.kv_heads, 8);
  EXPECT_EQ(m.mlp, MlpKind::kSwiglu);
  // Mistral 7B (Jiang et al. 2023): 7.24e9 parameters.
  EXPECT_NEAR(CountParameters(m).total, 7.24e9, 0.01 * 7.24e9);
}

TEST(ModelLoader, UnknownKeyIsAnErrorWithSuggestion) {
  const InputError e = ParseError(TinyWith("hiddne", 64), "model.json");
  EXPECT_EQ(e.where(), "model.json: hiddne");
  EXPECT_STREQ(e.what(), "unknown key; did you mean hidden?");
}

TEST(ModelLoader, MalformedJsonGivesParserMessageOnOneLine) {
  const InputError e = ParseError("{\n  \"layers\": 4,\n  \"hidden\" 64\n}", "bad.json");
  EXPECT_EQ(e.where(), "bad.json");
  const std::string message = e.what();
  EXPECT_EQ(message.rfind("malformed JSON: ", 0), 0u) << message;
  ExpectContains(message, "line 3");
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(ModelLoader, ZeroNegativeAndFractionalSizesAreRejected) {
  InputError e = ParseError(TinyWith("hidden", 0));
  EXPECT_EQ(e.where(), "m.json: hidden");
  EXPECT_STREQ(e.what(), "must be a positive integer, got 0");
  e = ParseError(TinyWith("layers", -2));
  EXPECT_EQ(e.where(), "m.json: layers");
  EXPECT_STREQ(e.what(), "must be a positive integer, got -2");
  e = ParseError(TinyWith("hidden", 4096.5));
  EXPECT_EQ(e.where(), "m.json: hidden");
  EXPECT_STREQ(e.what(), "must be an integer, got 4096.5");
  e = ParseError(TinyWith("experts", -1));
  EXPECT_STREQ(e.what(), "must not be negative, got -1");
  EXPECT_EQ(ParseModelJson(TinyWith("hidden", 128.0), "m.json").hidden, 128);
}

TEST(ModelLoader, WrongTypesNameTheirPath) {
  InputError e = ParseError(TinyWith("vocab", "50257"));
  EXPECT_EQ(e.where(), "m.json: vocab");
  EXPECT_STREQ(e.what(), "expected an integer, got \"50257\"");
  e = ParseError(TinyWith("tied_embeddings", 1));
  EXPECT_EQ(e.where(), "m.json: tied_embeddings");
  EXPECT_STREQ(e.what(), "expected true or false, got 1");
  e = ParseError(TinyWith("mlp", "relu"));
  EXPECT_EQ(e.where(), "m.json: mlp");
  // GeGLU (Gemma) joined the choices in issue #14.
  ExpectContains(e.what(), "\"gelu\", \"swiglu\" or \"geglu\"");
  nlohmann::json missing = nlohmann::json::parse(TinyWith("vocab", 1));
  missing.erase("vocab");
  e = ParseError(missing.dump());
  EXPECT_EQ(e.where(), "m.json: vocab");
  EXPECT_STREQ(e.what(), "missing required key 'vocab'");
}

TEST(ModelLoader, HeadsThatDoNotDivideAreRejected) {
  InputError e = ParseError(TinyWith("heads", 6));  // hidden 64
  EXPECT_EQ(e.where(), "m.json: heads");
  EXPECT_STREQ(e.what(), "hidden 64 is not divisible by heads 6");
  e = ParseError(TinyWith("kv_heads", 3));  // heads 4
  EXPECT_EQ(e.where(), "m.json: kv_heads");
  EXPECT_STREQ(e.what(), "heads 4 is not divisible by kv_heads 3");
}

TEST(ModelLoader, UnknownArchitectureListsSupportedOnes) {
  try {
    // Falcon, the example here before, is supported since issue #14; BLOOM is not.
    ParseModelJson(R"({"architectures": ["BloomForCausalLM"], "hidden_size": 4096})",
                   "bloom.json");
    ADD_FAILURE() << "BLOOM was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "bloom.json");
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("unsupported architecture 'BloomForCausalLM'; supported: "
                            "LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM",
                            0),
              0u)
        << message;
    ExpectContains(message, "DeepseekV3ForCausalLM");
    ExpectContains(message, "Qwen2ForCausalLM");
    ExpectContains(message, "GptOssForCausalLM");
  }
}

TEST(ModelLoader, MissingHuggingFaceKeyIsNamed) {
  const InputError e = ParseError(
      R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 64,
          "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 128})",
      "cfg.json");
  EXPECT_EQ(e.where(), "cfg.json: intermediate_size");
  EXPECT_STREQ(e.what(), "missing required key 'intermediate_size'");
}

TEST(ModelLoader, UnreadableFileNamesThePath) {
  try {
    LoadModelFile("/nonexistent/model.json", "--model");
    ADD_FAILURE() << "a missing file was read";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "--model");
    EXPECT_STREQ(e.what(), "cannot read file '/nonexistent/model.json'");
  }
}

}  // namespace
}  // namespace planner
