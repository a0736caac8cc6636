// The families of Hugging Face architectures: their key names and the shape they imply.
#include "hf_families.h"

#include <algorithm>
#include <string>

#include "planner/input/hf_config.h"

namespace planner::hf {
namespace {

// RoPE's base and any context-extension factor (YaRN, Llama 3.1, linear).
void ReadRope(const Fields& f, Model& m, double default_theta) {
  m.rope_theta = f.Number("rope_theta", default_theta);
  const json* rope = f.Find("rope_scaling");
  if (rope == nullptr || !rope->is_object()) return;
  m.rope_scaling_factor = Fields(*rope, model_json::Child(f.Where(), "rope_scaling"))
                              .Number("factor", 0);
}

// The keys most classes share (Llama's names).
void ReadCommon(const Fields& f, Model& m, bool tied_by_default) {
  m.layers = f.Int("num_hidden_layers", 1);
  m.hidden = f.Int("hidden_size", 1);
  m.heads = f.Int("num_attention_heads", 1);
  m.kv_heads = f.Int("num_key_value_heads", 1, m.heads);
  m.head_dim = f.Int("head_dim", 1, 0);
  m.ffn_hidden = f.Int("intermediate_size", 1);
  m.vocab = f.Int("vocab_size", 1);
  m.max_context = f.Int("max_position_embeddings", 1);
  m.tied_embeddings = f.Bool("tie_word_embeddings", tied_by_default);
  m.mlp = MlpKind::kSwiglu;
  m.rms_norm = true;
  m.dropout = f.Number("attention_dropout", 0) > 0;
  ReadRope(f, m, 0);
}

// "layer_types" (GPT-OSS, newer Gemma files): one global layer in every layers / full.
void ReadLayerTypes(const Fields& f, Model& m) {
  const json* types = f.Find("layer_types");
  if (types == nullptr || !types->is_array() || types->empty()) return;
  const auto layers = static_cast<int64_t>(types->size());
  const auto full =
      static_cast<int64_t>(std::count(types->begin(), types->end(), json("full_attention")));
  if (full == layers) m.sliding_window = 0;
  if (full > 0 && full < layers && layers % full == 0) m.global_every = layers / full;
}

}  // namespace

void ReadLlama(const Fields& f, Model& m) {
  ReadCommon(f, m, false);
  // attention_bias puts biases on Q, K, V and O; the output's (h) is left out, under 1e-6.
  m.qkv_bias = f.Bool("attention_bias", false);
}

void ReadMistral(const Fields& f, Model& m) {
  ReadLlama(f, m);
  m.sliding_window = f.Int("sliding_window", 1, 0);  // null: full attention (Mistral NeMo)
}

// Llama 4 text: MoE every interleave_moe_layer_step layers with one shared expert; dense layers
// use intermediate_size_mlp. Chunked attention (attention_chunk_size) on three layers of four,
// the fourth global without RoPE (Meta, "The Llama 4 herd", iRoPE), read as a window.
void ReadLlama4(const Fields& f, Model& m) {
  ReadLlama(f, m);
  m.moe_ffn_hidden = m.ffn_hidden;
  m.ffn_hidden = f.Int("intermediate_size_mlp", 1, m.ffn_hidden);
  m.experts = f.Int("num_local_experts", 1);
  m.experts_per_token = f.Int("num_experts_per_tok", 1);
  m.shared_experts = 1;
  m.moe_every = f.Int("interleave_moe_layer_step", 1, 1);
  m.sliding_window = f.Int("attention_chunk_size", 1, 0);
  if (m.sliding_window > 0) m.global_every = 4;
}

void ReadMixtral(const Fields& f, Model& m) {
  ReadMistral(f, m);
  m.experts = f.Int("num_local_experts", 1);
  m.experts_per_token = f.Int("num_experts_per_tok", 1);
}

// Qwen2 and Qwen2.5: biases on Q, K and V always (Qwen2Attention); sliding windows are off
// unless use_sliding_window.
void ReadQwen2(const Fields& f, Model& m) {
  ReadCommon(f, m, false);
  m.qkv_bias = true;
}

// Qwen3: no QKV biases, an RMSNorm over each head's query and key.
void ReadQwen3(const Fields& f, Model& m) {
  ReadCommon(f, m, false);
  m.qkv_bias = f.Bool("attention_bias", false);
  m.qk_norm = true;
}

namespace {
void ReadQwenExperts(const Fields& f, Model& m) {
  m.experts = f.Int("num_experts", 1);
  m.experts_per_token = f.Int("num_experts_per_tok", 1);
  m.moe_ffn_hidden = f.Int("moe_intermediate_size", 1);
  m.moe_every = f.Int("decoder_sparse_step", 1, 1);
  const json* dense = f.Find("mlp_only_layers");
  if (dense != nullptr && !(dense->is_array() && dense->empty())) {
    f.Fail("mlp_only_layers", "only an empty list (no dense layers among MoE ones) is supported");
  }
}
}  // namespace

void ReadQwen2Moe(const Fields& f, Model& m) {
  ReadQwen2(f, m);
  ReadQwenExperts(f, m);
  m.shared_ffn_hidden = f.Int("shared_expert_intermediate_size", 0, 0);
  m.shared_experts = m.shared_ffn_hidden > 0 ? 1 : 0;
}

void ReadQwen3Moe(const Fields& f, Model& m) {
  ReadQwen3(f, m);
  ReadQwenExperts(f, m);
}

// DeepSeek-V2/V3 (and R1, Kimi K2): MLA, shared plus fine-grained routed experts, the first
// first_k_dense_replace layers dense, num_nextn_predict_layers MTP modules.
void ReadDeepseek(const Fields& f, Model& m) {
  ReadCommon(f, m, false);
  m.kv_lora_rank = f.Int("kv_lora_rank", 1);
  m.q_lora_rank = f.Int("q_lora_rank", 1, 0);  // null: DeepSeek-V2-Lite projects Q directly
  m.qk_nope_head_dim = f.Int("qk_nope_head_dim", 1);
  m.qk_rope_head_dim = f.Int("qk_rope_head_dim", 1);
  m.v_head_dim = f.Int("v_head_dim", 1);
  m.kv_heads = m.heads;  // MLA rebuilds K and V for every head
  m.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
  m.mtp_layers = f.Int("num_nextn_predict_layers", 0, 0);
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

// Gemma 1/2/3: GeGLU, tied embeddings, head_dim apart from hidden / heads. Gemma 2 alternates
// local (sliding_window) and global layers; Gemma 3 has five local per global and QK-norm, and
// its text config may leave out vocab_size (Gemma3TextConfig default 262208).
void ReadGemma(const Fields& f, Model& m) {
  const std::string type = f.String("model_type", "gemma");
  const bool gemma3 = type == "gemma3_text" || type == "gemma3";
  if (gemma3 && f.Find("vocab_size") == nullptr) m.vocab = 262208;
  m.layers = f.Int("num_hidden_layers", 1);
  m.hidden = f.Int("hidden_size", 1);
  m.heads = f.Int("num_attention_heads", 1);
  m.kv_heads = f.Int("num_key_value_heads", 1, m.heads);
  m.head_dim = f.Int("head_dim", 1, 0);
  m.ffn_hidden = f.Int("intermediate_size", 1);
  if (!gemma3 || m.vocab == 0) m.vocab = f.Int("vocab_size", 1);
  m.max_context = f.Int("max_position_embeddings", 1, gemma3 ? 131072 : 8192);
  m.tied_embeddings = f.Bool("tie_word_embeddings", true);
  m.mlp = MlpKind::kGeglu;
  m.rms_norm = true;
  ReadRope(f, m, gemma3 ? 1e6 : 10000);  // Gemma3TextConfig's default base
  if (type == "gemma") return;
  m.sliding_window = f.Int("sliding_window", 1, 0);
  m.global_every = gemma3 ? f.Int("sliding_window_pattern", 1, 6) : 2;
  m.qk_norm = gemma3;
  ReadLayerTypes(f, m);
}

// GPT-2's own key names (n_layer, n_embd, ...), with learned positions and linear biases.
void ReadGpt2(const Fields& f, Model& m) {
  m.layers = f.Int("n_layer", 1);
  m.hidden = f.Int("n_embd", 1);
  m.heads = f.Int("n_head", 1);
  m.kv_heads = m.heads;
  m.ffn_hidden = f.Int("n_inner", 1, 4 * m.hidden);  // null means 4 h
  m.vocab = f.Int("vocab_size", 1);
  m.max_context = f.Int("n_positions", 1);
  m.tied_embeddings = f.Bool("tie_word_embeddings", true);
  m.learned_positions = true;
  m.linear_bias = true;
  // transformers' GPT2Config defaults each dropout probability to 0.1.
  m.dropout = f.Number("resid_pdrop", 0.1) > 0 || f.Number("attn_pdrop", 0.1) > 0 ||
              f.Number("embd_pdrop", 0.1) > 0;
}

void ReadGptNeox(const Fields& f, Model& m) {
  ReadCommon(f, m, false);
  m.kv_heads = m.heads;
  m.head_dim = 0;
  m.mlp = MlpKind::kGelu;
  m.rms_norm = false;
  m.linear_bias = true;
  m.dropout = f.Number("hidden_dropout", 0) > 0 || f.Number("attention_dropout", 0) > 0;
}

// Falcon: GELU MLP of ffn_hidden_size (default 4h), LayerNorm, no biases; multi-query attention
// (one K/V head) unless new_decoder_architecture gives num_kv_heads. Falcon-7B's parallel block
// has one LayerNorm, counted as two here (h x 2 per layer, under 0.01 %).
void ReadFalcon(const Fields& f, Model& m) {
  m.layers = f.Int("num_hidden_layers", 1);
  m.hidden = f.Int("hidden_size", 1);
  m.heads = f.Int("num_attention_heads", 1);
  m.vocab = f.Int("vocab_size", 1);
  m.ffn_hidden = f.Int("ffn_hidden_size", 1, 4 * m.hidden);
  m.max_context = f.Int("max_position_embeddings", 1, 2048);
  m.tied_embeddings = f.Bool("tie_word_embeddings", true);
  const bool multi_query = f.Bool("multi_query", true);
  m.kv_heads = f.Bool("new_decoder_architecture", false) ? f.Int("num_kv_heads", 1, m.heads)
               : multi_query                              ? 1
                                                          : m.heads;
  m.linear_bias = f.Bool("bias", false);
}

// GPT-OSS: every layer MoE with experts of intermediate_size, biases on attention, alternating
// sliding (128) and full layers. Attention sinks (one value per head) and the experts' biases
// are left out: 0.03 % of the total.
void ReadGptOss(const Fields& f, Model& m) {
  ReadCommon(f, m, false);
  m.qkv_bias = f.Bool("attention_bias", false);
  m.experts = f.Int("num_local_experts", 1);
  m.experts_per_token = f.Int("num_experts_per_tok", 1, f.Int("experts_per_token", 1, 0));
  m.moe_ffn_hidden = m.ffn_hidden;
  m.sliding_window = f.Int("sliding_window", 1, 0);
  if (m.sliding_window > 0) m.global_every = 2;
  ReadLayerTypes(f, m);
}

void ChooseTrainingSeqLen(const Fields& f, Model& m) {
  int64_t stated = 0;
  std::string key;
  const json* rope = f.Find("rope_scaling");
  if (rope != nullptr && rope->is_object() && rope->contains("original_max_position_embeddings")) {
    const Fields r(*rope, model_json::Child(f.Where(), "rope_scaling"));
    stated = r.Int("original_max_position_embeddings", 1);
    key = "rope_scaling.original_max_position_embeddings";
  }
  for (const char* k : {"original_max_position_embeddings", "initial_context_length"}) {
    if (stated == 0 && f.Find(k) != nullptr) {
      stated = f.Int(k, 1);
      key = k;
    }
  }
  const int64_t chosen = stated > 0 ? stated : kDefaultTrainingSeqLen;
  m.seq_len = m.max_context > 0 ? std::min(chosen, m.max_context) : chosen;
  if (m.seq_len == m.max_context) return;
  m.source += "; trains at " + std::to_string(m.seq_len) + " tokens (" +
              (stated > 0 ? "the config's " + key : std::string("the planner's default")) +
              "), not the maximum context " + std::to_string(m.max_context) +
              " (--seq-len to change)";
}

}  // namespace planner::hf
