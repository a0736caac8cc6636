// Built-in shapes of the models people train in 2026, each as its config.json lays it out
// (the same files are in tests/data/hf/, provenance in SOURCES.md there). Training lengths
// follow the Hugging Face loader's rule: the config's own, else 4096.
#include <utility>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/model.h"

namespace planner {
namespace {

// Llama-style blocks: RMSNorm, SwiGLU, RoPE, untied output layer.
Model Swiglu(Model m) {
  m.mlp = MlpKind::kSwiglu;
  m.rms_norm = true;
  return m;
}

Model Qwen2(Model m) {
  m.qkv_bias = true;
  m.rope_theta = 1e6;
  return Swiglu(m);
}

Model Qwen3(Model m) {
  m.qk_norm = true;
  m.head_dim = 128;
  m.rope_theta = 1e6;
  return Swiglu(m);
}

// DeepSeek-V3 / Kimi K2: MLA of the same ranks, 1 shared + 8 routed experts of 2048.
Model DeepseekV3(Model m) {
  m.layers = 61;
  m.hidden = 7168;
  m.kv_heads = m.heads;
  m.head_dim = 192;
  m.q_lora_rank = 1536;
  m.kv_lora_rank = 512;
  m.qk_nope_head_dim = 128;
  m.qk_rope_head_dim = 64;
  m.v_head_dim = 128;
  m.ffn_hidden = 18432;
  m.experts_per_token = 8;
  m.shared_experts = 1;
  m.moe_ffn_hidden = 2048;
  m.seq_len = 4096;  // rope_scaling.original_max_position_embeddings (YaRN)
  return Swiglu(m);
}

// Gemma: GeGLU, tied embeddings, local and global layers (Gemma 2: alternating, window 4096).
Model Gemma(Model m) {
  m.mlp = MlpKind::kGeglu;
  m.rms_norm = true;
  m.tied_embeddings = true;
  m.seq_len = 4096;
  if (m.rope_theta == 0) m.rope_theta = 10000;
  return m;
}

Model Llama4(Model m) {
  m.layers = 48;
  m.hidden = 5120;
  m.heads = 40;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.ffn_hidden = 16384;
  m.moe_ffn_hidden = 8192;
  m.vocab = 202048;
  if (m.seq_len == 0) m.seq_len = 8192;  // Scout's rope_scaling original length
  m.experts_per_token = 1;
  m.shared_experts = 1;
  m.sliding_window = 8192;  // chunked attention, every fourth layer global (iRoPE)
  m.global_every = 4;
  m.rope_theta = 500000;
  return Swiglu(m);
}

Model GptOss(Model m) {
  m.hidden = 2880;
  m.heads = 64;
  m.kv_heads = 8;
  m.head_dim = 64;
  m.ffn_hidden = 2880;
  m.moe_ffn_hidden = 2880;
  m.vocab = 201088;
  m.seq_len = 4096;
  m.max_context = 131072;
  m.experts_per_token = 4;
  m.qkv_bias = true;
  m.sliding_window = 128;
  m.global_every = 2;
  m.rope_theta = 150000;
  m.rope_scaling_factor = 32;
  return Swiglu(m);
}

std::vector<Model> QwenModels();
std::vector<Model> OtherModels();

}  // namespace

std::vector<Model> RecentModels() {
  std::vector<Model> all = QwenModels();
  for (Model& m : OtherModels()) all.push_back(std::move(m));
  return all;
}

namespace {

std::vector<Model> QwenModels() {
  return {
      Qwen2({.name = "qwen2.5-7b", .layers = 28, .hidden = 3584, .heads = 28, .kv_heads = 4,
             .ffn_hidden = 18944, .vocab = 152064, .seq_len = 4096, .max_context = 131072,
             .published_params = 7.61e9,
             .source = "Qwen/Qwen2.5-7B config.json and model card (7.61B)"}),
      Qwen2({.name = "qwen2.5-72b", .layers = 80, .hidden = 8192, .heads = 64, .kv_heads = 8,
             .ffn_hidden = 29568, .vocab = 152064, .seq_len = 4096, .max_context = 131072,
             .published_params = 72.7e9,
             .source = "Qwen/Qwen2.5-72B config.json and model card (72.7B)"}),
      Qwen3({.name = "qwen3-8b", .layers = 36, .hidden = 4096, .heads = 32, .kv_heads = 8,
             .ffn_hidden = 12288, .vocab = 151936, .seq_len = 4096, .max_context = 40960,
             .published_params = 8.2e9,
             .source = "Qwen/Qwen3-8B config.json and model card (8.2B)"}),
      Qwen3({.name = "qwen3-32b", .layers = 64, .hidden = 5120, .heads = 64, .kv_heads = 8,
             .ffn_hidden = 25600, .vocab = 151936, .seq_len = 4096, .max_context = 40960,
             .published_params = 32.8e9,
             .source = "Qwen/Qwen3-32B config.json and model card (32.8B)"}),
      Qwen3({.name = "qwen3-30b-a3b", .layers = 48, .hidden = 2048, .heads = 32, .kv_heads = 4,
             .ffn_hidden = 6144, .vocab = 151936, .seq_len = 4096, .max_context = 40960,
             .experts = 128, .experts_per_token = 8, .moe_ffn_hidden = 768,
             .published_params = 30.5e9,
             .source = "Qwen/Qwen3-30B-A3B config.json and model card (30.5B, 3.3B active)"}),
      Qwen3({.name = "qwen3-235b-a22b", .layers = 94, .hidden = 4096, .heads = 64,
             .kv_heads = 4, .ffn_hidden = 12288, .vocab = 151936, .seq_len = 4096,
             .max_context = 40960, .experts = 128, .experts_per_token = 8,
             .moe_ffn_hidden = 1536, .published_params = 235e9,
             .source = "Qwen/Qwen3-235B-A22B config.json and model card (235B, 22B active)"}),
      Qwen2({.name = "qwen2-57b-a14b", .layers = 28, .hidden = 3584, .heads = 28, .kv_heads = 4,
             .ffn_hidden = 18944, .vocab = 151936, .seq_len = 4096, .max_context = 131072,
             .experts = 64, .experts_per_token = 8, .shared_experts = 1,
             .moe_ffn_hidden = 2560, .shared_ffn_hidden = 20480, .published_params = 57e9,
             .source = "Qwen/Qwen2-57B-A14B config.json; model name: 57B total, 14B active"}),
  };
}

std::vector<Model> OtherModels() {
  return {
      DeepseekV3({.name = "deepseek-v3", .heads = 128, .vocab = 129280, .max_context = 163840,
                  .experts = 256, .dense_layers = 3, .mtp_layers = 1, .rope_theta = 10000,
                  .rope_scaling_factor = 40,
                  .published_params = 671e9,
                  .source = "deepseek-ai/DeepSeek-V3 config.json; DeepSeek-V3 report: 671B "
                            "total, 37B active, plus a 14B MTP module"}),
      DeepseekV3({.name = "kimi-k2", .heads = 64, .vocab = 163840, .max_context = 131072,
                  .experts = 384, .dense_layers = 1, .rope_theta = 50000,
                  .rope_scaling_factor = 32, .published_params = 1.04e12,
                  .source = "moonshotai/Kimi-K2-Instruct config.json; Kimi K2 report 1.04T "
                            "total, model card 32B active"}),
      Gemma({.name = "gemma-7b", .layers = 28, .hidden = 3072, .heads = 16, .kv_heads = 16,
             .head_dim = 256, .ffn_hidden = 24576, .vocab = 256000, .max_context = 8192,
             .published_params = 8.54e9,
             .source = "google/gemma-7b config.json; Gemma paper Table 2 (8.54B)"}),
      Gemma({.name = "gemma-2-9b", .layers = 42, .hidden = 3584, .heads = 16, .kv_heads = 8,
             .head_dim = 256, .ffn_hidden = 14336, .vocab = 256000, .max_context = 8192,
             .sliding_window = 4096, .global_every = 2, .published_params = 9.24e9,
             .source = "google/gemma-2-9b config.json; Gemma 2 report (9.24B)"}),
      Gemma({.name = "gemma-2-27b", .layers = 46, .hidden = 4608, .heads = 32, .kv_heads = 16,
             .head_dim = 128, .ffn_hidden = 36864, .vocab = 256000, .max_context = 8192,
             .sliding_window = 4096, .global_every = 2, .published_params = 27.2e9,
             .source = "google/gemma-2-27b config.json; Gemma 2 report (27.2B)"}),
      Gemma({.name = "gemma-3-27b", .layers = 62, .hidden = 5376, .heads = 32, .kv_heads = 16,
             .head_dim = 128, .ffn_hidden = 21504, .vocab = 262208, .max_context = 131072,
             .qk_norm = true, .sliding_window = 1024, .global_every = 6, .rope_theta = 1e6,
             .rope_scaling_factor = 8,
             .published_params = 27.016e9,
             .source = "google/gemma-3-27b-it config.json (text); Gemma 3 report Table 1: "
                       "1,416M embedding + 25,600M non-embedding"}),
      Swiglu({.name = "phi-3-mini", .layers = 32, .hidden = 3072, .heads = 32, .kv_heads = 32,
              .ffn_hidden = 8192, .vocab = 32064, .seq_len = 4096, .max_context = 4096,
              .sliding_window = 2047, .rope_theta = 10000,
              .published_params = 3.8e9,
              .source = "microsoft/Phi-3-mini-4k-instruct config.json; Phi-3 report (3.8B)"}),
      Swiglu({.name = "phi-3-medium", .layers = 40, .hidden = 5120, .heads = 40, .kv_heads = 10,
              .ffn_hidden = 17920, .vocab = 32064, .seq_len = 4096, .max_context = 4096,
              .sliding_window = 2047, .rope_theta = 10000,
              .published_params = 14e9,
              .source = "microsoft/Phi-3-medium-4k-instruct config.json; model card (14B)"}),
      Llama4({.name = "llama4-scout", .max_context = 10485760, .experts = 16,
              .rope_scaling_factor = 16,
              .published_params = 109e9,
              .source = "meta-llama/Llama-4-Scout-17B-16E-Instruct config.json (text); model "
                        "card 109B total with the vision encoder, 17B active"}),
      // Maverick's config has no rope_scaling: the default training length applies.
      Llama4({.name = "llama4-maverick", .seq_len = 4096, .max_context = 1048576, .experts = 128,
              .moe_every = 2, .published_params = 400e9,
              .source = "meta-llama/Llama-4-Maverick-17B-128E-Instruct config.json (text); "
                        "model card 400B total, 17B active"}),
      Swiglu({.name = "mistral-nemo", .layers = 40, .hidden = 5120, .heads = 32, .kv_heads = 8,
              .head_dim = 128, .ffn_hidden = 14336, .vocab = 131072, .seq_len = 4096,
              .max_context = 1024000, .rope_theta = 1e6, .published_params = 12e9,
              .source = "mistralai/Mistral-Nemo-Base-2407 config.json; model card (12B)"}),
      GptOss({.name = "gpt-oss-20b", .layers = 24, .experts = 32, .published_params = 20.91e9,
              .source = "openai/gpt-oss-20b config.json; gpt-oss model card Table 1 "
                        "(20.91B, 3.61B active)"}),
      GptOss({.name = "gpt-oss-120b", .layers = 36, .experts = 128,
              .published_params = 116.83e9,
              .source = "openai/gpt-oss-120b config.json; gpt-oss model card Table 1 "
                        "(116.83B, 5.13B active)"}),
  };
}

}  // namespace
}  // namespace planner
