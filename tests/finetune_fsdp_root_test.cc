// FSDP's root unit in fine-tuning memory (cost_models/finetune_memory.cc, AddFsdpUnits): what no
// decoder-layer unit holds is gathered for the forward and kept until backward ends (FSDP1's
// _post_forward_reshard, fully_shard's root reshard_after_forward=False), unless torchtune's
// custom_sharded_layers makes the embeddings and output units of their own.
#include <gtest/gtest.h>

#include "planner/cost/finetune.h"
#include "test_util.h"

namespace planner {
namespace {

// Llama 3 8B: embedding and output 128256 x 4096 each, final norm 4096.
constexpr double kVocabMatrix = 128256.0 * 4096.0;
constexpr double kRoot = 2.0 * kVocabMatrix + 4096.0;

FinetuneMemory Memory(const std::string& model, FinetuneFramework f, FinetuneMethod method,
                      Sharding sharding, int gpus) {
  const Model m = CatalogModel(model);
  const Cluster c = CatalogCluster("h100-sxm", gpus);
  const FinetuneSetup s{.global_batch = gpus, .seq_len = 2048, .framework = f};
  const FinetunePlan p{.method = method, .gpus = gpus, .dp = gpus, .sharding = sharding,
                       .micro_batch = 1, .checkpointing = Checkpointing::kFull};
  return FinetuneMemoryOf(m, c, p, s);
}

TEST(FinetuneFsdpRoot, HuggingFaceKeepsTheRootGatheredWithItsGradient) {
  // Full fine-tuning on 8 GPUs: ZeRO-3 gathers each module as it runs, FSDP keeps the root's
  // bf16 copy whole (7/8 of it beyond the shard) and, from the loss on, its 2-byte gradient
  // (its own shard comes after the reduce-scatter), in place of the output layer's alone.
  const FinetuneMemory zero3 = Memory("llama3-8b", FinetuneFramework::kHuggingFace,
                                      FinetuneMethod::kFull, Sharding::kZero3, 8);
  const FinetuneMemory fsdp = Memory("llama3-8b", FinetuneFramework::kHuggingFace,
                                     FinetuneMethod::kFull, Sharding::kFsdp, 8);
  EXPECT_NEAR(fsdp.base_weights - zero3.base_weights, kRoot * 2.0 * 7.0 / 8.0, 1.0);
  EXPECT_NEAR(fsdp.root_grads, kRoot * 2.0 * 7.0 / 8.0, 1.0);
  EXPECT_EQ(fsdp.loss_grads, 0.0);
  EXPECT_NEAR(zero3.loss_grads, kVocabMatrix * 2.0, 1.0);
  EXPECT_EQ(zero3.root_grads, 0.0);
  // Backward: the layer whose gradient is being written and the one being reduce-scattered,
  // unsharded, 2 x 8.03e9 / 32 parameters x 2 bytes (ZeRO-3 reduces in its own buckets).
  const double total = CountParameters(CatalogModel("llama3-8b")).total;
  EXPECT_NEAR(fsdp.layer_grads, 2.0 * total / 32.0 * 2.0, 1.0);
  EXPECT_EQ(zero3.layer_grads, 0.0);
  // LoRA: the root is frozen bf16, gathered the same way, and has no gradient.
  const FinetuneMemory lora = Memory("llama3-8b", FinetuneFramework::kHuggingFace,
                                     FinetuneMethod::kLora, Sharding::kFsdp, 8);
  const FinetuneMemory lora_zero3 = Memory("llama3-8b", FinetuneFramework::kHuggingFace,
                                           FinetuneMethod::kLora, Sharding::kZero3, 8);
  EXPECT_NEAR(lora.base_weights - lora_zero3.base_weights, kRoot * 2.0 * 7.0 / 8.0, 1.0);
  EXPECT_EQ(lora.root_grads, 0.0);
  EXPECT_EQ(lora.layer_grads, 0.0);
}

TEST(FinetuneFsdpRoot, TorchtuneGathersItsOutputUnitForTheLossOnly) {
  // custom_sharded_layers: the output layer, 7/8 of 128256 x 4096 x 2 bytes beyond its shard,
  // is gathered for the loss beside one decoder layer (the other prefetched layer of backward
  // is not there yet): 1/32 of the model's 8.03e9 bf16 weights less.
  const FinetuneMemory tt = Memory("llama3-8b", FinetuneFramework::kTorchtune,
                                   FinetuneMethod::kFull, Sharding::kFsdp, 8);
  const double layer = CountParameters(CatalogModel("llama3-8b")).total * 2.0 / 32.0;
  EXPECT_NEAR(tt.loss_weights, kVocabMatrix * 2.0 * 7.0 / 8.0 - layer, 1.0);
  EXPECT_NEAR(tt.loss_weights / 1073741824.0, 0.389, 1e-3);  // 0.92e9 - 0.50e9 bytes
  EXPECT_EQ(tt.root_grads, 0.0);
  // Llama 2 7B's 32000-entry vocabulary: its output unit is smaller than a decoder layer.
  EXPECT_EQ(Memory("llama2-7b", FinetuneFramework::kTorchtune, FinetuneMethod::kFull,
                   Sharding::kFsdp, 4).loss_weights, 0.0);
}

TEST(FinetuneFsdpRoot, TiedEmbeddingsStayInTorchtunesRoot) {
  // A tied output reads the embedding's weight without calling its module, so torchtune's
  // files leave it in the root (ShardsEmbeddingsApart), which holds it for the step.
  EXPECT_FALSE(ShardsEmbeddingsApart(FinetuneFramework::kTorchtune, true));
  EXPECT_TRUE(ShardsEmbeddingsApart(FinetuneFramework::kTorchtune, false));
  EXPECT_FALSE(ShardsEmbeddingsApart(FinetuneFramework::kHuggingFace, false));
  const Model gemma = CatalogModel("gemma-7b");
  ASSERT_TRUE(gemma.tied_embeddings);
  const FinetuneMemory tt = Memory("gemma-7b", FinetuneFramework::kTorchtune,
                                   FinetuneMethod::kLora, Sharding::kFsdp, 4);
  const FinetuneMemory none = Memory("gemma-7b", FinetuneFramework::kTorchtune,
                                     FinetuneMethod::kLora, Sharding::kZero3, 4);
  const ParamCounts c = CountParameters(gemma);
  EXPECT_NEAR(tt.base_weights - none.base_weights,
              (c.embedding + c.final_norm) * 2.0 * 3.0 / 4.0, 1.0);
  EXPECT_EQ(tt.loss_weights, 0.0);
}

TEST(FinetuneFsdpRoot, LayerGradientsCountInBackwardOnly) {
  // Loss phase 1 + 2 = 3 against backward 0.8 + 1.5 + max(1, 0.2) = 3.3: backward counts.
  constexpr double kGiB = 1073741824.0;
  FinetuneMemory m{.gradients = 0.2 * kGiB, .activations = 1.8 * kGiB, .recomputed = 0.8 * kGiB,
                   .logits_loss = 2 * kGiB, .layer_grads = 1.5 * kGiB};
  EXPECT_NEAR(m.peak() / kGiB, 3.3, 1e-9);
}

TEST(FinetuneFsdpRoot, TheRootsGradientCountsInBothPhases) {
  // Loss phase: saved 1 + logits 2 + root gradient 0.5 = 3.5; backward: recomputed 0.8 +
  // root gradient 0.5 + max(saved 1, gradients 0.2) = 2.3. The gathered output (0.4) adds to
  // the loss phase alone.
  constexpr double kGiB = 1073741824.0;
  FinetuneMemory m{.gradients = 0.2 * kGiB, .activations = 1.8 * kGiB, .recomputed = 0.8 * kGiB,
                   .logits_loss = 2 * kGiB, .root_grads = 0.5 * kGiB};
  EXPECT_NEAR(m.peak() / kGiB, 3.5, 1e-9);
  m.logits_loss = 0.1 * kGiB;  // backward counts: 2.3 over 1.6
  EXPECT_NEAR(m.peak() / kGiB, 2.3, 1e-9);
  m.loss_weights = 0.8 * kGiB;  // loss phase 2.4 over backward 2.3
  EXPECT_NEAR(m.peak() / kGiB, 2.4, 1e-9);
}

}  // namespace
}  // namespace planner
