// The built-in model shapes, each as its authors published it.
#include <utility>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/model.h"

namespace planner {
namespace {

// Llama 2 and 3: RMSNorm, SwiGLU, RoPE, untied output layer, no biases, no dropout.
Model Llama(Model m) {
  m.mlp = MlpKind::kSwiglu;
  m.rms_norm = true;
  return m;
}

// The GPT-3 shape Megatron-LM trains (Korthikanti et al. 2022, Table 3; Narayanan et al. 2021,
// Table 1): vocabulary padded to 51200, 2048 tokens, GELU with ffn = 4h, learned positions, tied
// embeddings, biases, dropout, LayerNorm.
Model MegatronGpt(Model m) {
  m.kv_heads = m.heads;
  m.ffn_hidden = 4 * m.hidden;
  m.vocab = 51200;
  m.seq_len = 2048;
  m.tied_embeddings = true;
  m.learned_positions = true;
  m.linear_bias = true;
  m.dropout = true;
  return m;
}

// Mixtral: Mistral-7B-style attention (GQA, 8 KV heads), every layer a top-2 of 8 SwiGLU experts.
Model Mixtral(Model m) {
  m.kv_heads = 8;
  m.mlp = MlpKind::kSwiglu;
  m.rms_norm = true;
  m.experts = 8;
  m.experts_per_token = 2;
  m.moe_ffn_hidden = m.ffn_hidden;
  return m;
}

}  // namespace

std::vector<Model> BuiltinModels() {
  std::vector<Model> models = {
      Llama({.name = "llama2-7b",
             .layers = 32,
             .hidden = 4096,
             .heads = 32,
             .kv_heads = 32,
             .ffn_hidden = 11008,
             .vocab = 32000,
             .seq_len = 4096,
             .default_global_batch = 1024,
             .published_params = 6.74e9,
             .source = "Touvron et al. 2023 (Llama 2) Table 1 and sec. 2.2 (4M-token batch = "
                       "1024 x 4096); meta-llama/Llama-2-7b-hf config.json; 6.74e9 = "
                       "6,738,415,616 in the released safetensors"}),
      Llama({.name = "llama2-13b",
             .layers = 40,
             .hidden = 5120,
             .heads = 40,
             .kv_heads = 40,
             .ffn_hidden = 13824,
             .vocab = 32000,
             .seq_len = 4096,
             .default_global_batch = 1024,
             .published_params = 13.02e9,
             .source = "Touvron et al. 2023 (Llama 2) Table 1 and sec. 2.2 (4M-token batch = "
                       "1024 x 4096); meta-llama/Llama-2-13b-hf config.json; 13.02e9 = "
                       "13,015,864,320 in the released safetensors"}),
      Llama({.name = "llama2-70b",
             .layers = 80,
             .hidden = 8192,
             .heads = 64,
             .kv_heads = 8,
             .ffn_hidden = 28672,
             .vocab = 32000,
             .seq_len = 4096,
             .default_global_batch = 1024,
             .published_params = 68.98e9,
             .source = "Touvron et al. 2023 (Llama 2) Table 1 (GQA) and sec. 2.2 (4M-token batch "
                       "= 1024 x 4096); meta-llama/Llama-2-70b-hf config.json; 68.98e9 = "
                       "68,976,648,192 in the released safetensors"}),
      Llama({.name = "llama3-8b",
             .layers = 32,
             .hidden = 4096,
             .heads = 32,
             .kv_heads = 8,
             .ffn_hidden = 14336,
             .vocab = 128256,
             .seq_len = 8192,
             .default_global_batch = 512,
             .published_params = 8.03e9,
             .source = "meta-llama/Meta-Llama-3-8B config.json and model card (8.03e9 in the "
                       "released safetensors); batch not published: 512 x 8192 = 4M tokens chosen, "
                       "the 4M-token batch of Llama 2 and of Llama 3 405B's first stage"}),
      Llama({.name = "llama3-70b",
             .layers = 80,
             .hidden = 8192,
             .heads = 64,
             .kv_heads = 8,
             .ffn_hidden = 28672,
             .vocab = 128256,
             .seq_len = 8192,
             .default_global_batch = 512,
             .published_params = 70.6e9,
             .source = "meta-llama/Meta-Llama-3-70B config.json and model card (70.6e9 in the "
                       "released safetensors); batch not published: 512 x 8192 = 4M tokens chosen, "
                       "the 4M-token batch of Llama 2 and of Llama 3 405B's first stage"}),
      Llama({.name = "llama3.1-405b",
             .layers = 126,
             .hidden = 16384,
             .heads = 128,
             .kv_heads = 8,
             .ffn_hidden = 53248,
             .vocab = 128256,
             .seq_len = 8192,
             .default_global_batch = 2048,
             .published_params = 405e9,
             .source = "Llama Team 2024 (The Llama 3 Herd of Models) Table 3 (shape) and sec. "
                       "3.4.1 (final batch 16M tokens = 2048 x 8192); "
                       "meta-llama/Llama-3.1-405B config.json"}),
      // ChatGLM-6B: GLM blocks with biases, LayerNorm, a 2-matrix GELU MLP, 2D rotary positions;
      // the output layer shares the word embeddings (6.17e9 counted; untied would be 6.71e9).
      // Dropout is not published; set so the Korthikanti 34sbh figures of formulas.md apply.
      {.name = "chatglm-6b",
       .layers = 28,
       .hidden = 4096,
       .heads = 32,
       .kv_heads = 32,
       .ffn_hidden = 16384,
       .vocab = 130528,
       .seq_len = 2048,
       .mlp = MlpKind::kGelu,
       .tied_embeddings = true,
       .linear_bias = true,
       .dropout = true,
       .published_params = 6.2e9,
       .source = "THUDM/chatglm-6b config.json (hidden_size 4096, num_layers 28, "
                 "inner_hidden_size 16384, vocab_size 130528, max_sequence_length 2048); "
                 "README: 6.2B parameters; global batch not published"},
      // Command R+ runs attention and MLP in parallel after one bias-free LayerNorm and adds
      // per-head q/k norms; counting two LayerNorms with bias instead is 1.5e6 parameters over.
      {.name = "command-r-plus",
       .layers = 64,
       .hidden = 12288,
       .heads = 96,
       .kv_heads = 8,
       .ffn_hidden = 33792,
       .vocab = 256000,
       .seq_len = 8192,
       .mlp = MlpKind::kSwiglu,
       .tied_embeddings = true,
       .published_params = 104e9,
       .source = "CohereForAI/c4ai-command-r-plus config.json (max_position_embeddings 8192) "
                 "and model card (104B parameters); global batch not published"},
      Mixtral({.name = "mixtral-8x7b",
               .layers = 32,
               .hidden = 4096,
               .heads = 32,
               .ffn_hidden = 14336,
               .vocab = 32000,
               .seq_len = 32768,
               .published_params = 46.7e9,
               .source = "Jiang et al. 2024 (Mixtral of Experts) Table 1 (32k context); "
                         "mistralai/Mixtral-8x7B-v0.1 config.json; Mistral AI release post: "
                         "46.7B total, 12.9B active; global batch not published"}),
      Mixtral({.name = "mixtral-8x22b",
               .layers = 56,
               .hidden = 6144,
               .heads = 48,
               .ffn_hidden = 16384,
               .vocab = 32768,
               .seq_len = 65536,
               .published_params = 141e9,
               .source = "mistralai/Mixtral-8x22B-v0.1 config.json; Mistral AI release post "
                         "'Cheaper, Better, Faster, Stronger': 141B total, 39B active, 64K "
                         "context; global batch not published"}),
      MegatronGpt({.name = "gpt3-175b",
                   .layers = 96,
                   .hidden = 12288,
                   .heads = 96,
                   .default_global_batch = 1536,
                   .published_params = 175e9,
                   .source = "Brown et al. 2020 (GPT-3) Table 2.1 (175.0B, batch 3.2M tokens = "
                             "1536 x 2048); Megatron vocabulary 51200 as in Korthikanti et al. "
                             "2022 Table 3"}),
      MegatronGpt({.name = "megatron-22b",
                   .layers = 48,
                   .hidden = 6144,
                   .heads = 64,
                   .default_global_batch = 4,
                   .published_params = 22e9,
                   .source = "Korthikanti et al. 2022 (Reducing Activation Recomputation) "
                             "Table 3: 22B, h 6144, L 48, a 64, global batch 4"}),
      MegatronGpt({.name = "megatron-530b",
                   .layers = 105,
                   .hidden = 20480,
                   .heads = 128,
                   .default_global_batch = 280,
                   .published_params = 529.6e9,
                   .source = "Korthikanti et al. 2022 Table 3: 530B, h 20480, L 105, a 128, "
                             "global batch 280; 529.6B from Narayanan et al. 2021 Table 1 "
                             "(which trains it with batch 2520)"}),
      MegatronGpt({.name = "megatron-1t",
                   .layers = 128,
                   .hidden = 25600,
                   .heads = 160,
                   .default_global_batch = 512,
                   .published_params = 1008e9,
                   .source = "Korthikanti et al. 2022 Table 3: 1T, h 25600, L 128, a 160, "
                             "global batch 512; 1008B from Narayanan et al. 2021 Table 1 "
                             "(which trains it with batch 3072)"}),
  };
  for (Model& m : RecentModels()) models.push_back(std::move(m));
  return models;
}

}  // namespace planner
