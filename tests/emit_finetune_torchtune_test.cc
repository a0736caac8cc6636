// The torchtune fine-tuning files: every config key, builder and recipe checked against the
// lists extracted from pytorch/torchtune (tests/fixtures/README.md says which commit), the
// plan's numbers found where the config puts them, and the plans torchtune cannot run refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "finetune_parse.h"
#include "planner/input/catalog.h"

namespace planner {
namespace {

FinetuneFiles Tt(const FinetuneCase& c) {
  return EmitTorchtuneFinetune(c.specs.model, c.specs.cluster, c.plan, c.setup);
}

// The recipe `tune run` starts: the word before --config.
std::string RecipeOf(const std::string& script) {
  const size_t config = script.find(" --config");
  const size_t start = script.rfind(' ', config - 1) + 1;
  return script.substr(start, config - start);
}

TEST(EmitFinetuneTorchtune, EveryKeyBuilderAndRecipeIsTorchtunes) {
  const auto keys = LoadUpstreamList("torchtune-config-keys.txt");
  const auto builders = LoadUpstreamList("torchtune-model-builders.txt");
  const auto recipes = LoadUpstreamList("torchtune-recipes.txt");
  ASSERT_TRUE(recipes.contains("recipe lora_finetune_single_device"));
  int emitted = 0;
  for (const FinetuneCase& c : FinetuneCases()) {
    const FinetuneFiles f = Tt(c);
    if (f.files.empty()) continue;
    ++emitted;
    const auto yaml = YamlKeys(FileText(f, "torchtune.yaml"));
    for (const auto& [key, value] : yaml) EXPECT_TRUE(keys.contains(key)) << c.label << ": " << key;
    EXPECT_TRUE(builders.contains(yaml.at("model._component_"))) << yaml.at("model._component_");
    EXPECT_TRUE(builders.contains(yaml.at("tokenizer._component_")));
    const std::string recipe = RecipeOf(FileText(f, "tune_run.sh"));
    EXPECT_TRUE(recipes.contains("recipe " + recipe)) << c.label << ": " << recipe;
  }
  EXPECT_EQ(emitted, 3);  // qlora, lora FSDP, full; galore and freeze have no recipe
}

TEST(EmitFinetuneTorchtune, QloraOnOneGpuRunsTheSingleDeviceRecipe) {
  const FinetuneCase c = FinetuneCases()[0];
  const FinetuneFiles f = Tt(c);
  const auto yaml = YamlKeys(FileText(f, "torchtune.yaml"));
  ExpectValues(yaml,
               {{"model._component_", "torchtune.models.llama3.qlora_llama3_8b"},
                {"model.lora_attn_modules", "['q_proj', 'k_proj', 'v_proj', 'output_proj']"},
                {"model.apply_lora_to_mlp", "True"},
                {"model.lora_rank", "16"},
                {"model.lora_alpha", "32"},
                {"batch_size", "2"},  // the plan's micro-batch
                {"gradient_accumulation_steps", "8"},
                {"epochs", "1"},
                {"enable_activation_checkpointing", "True"},
                {"dtype", "bf16"},
                {"dataset.packed", "True"},
                {"tokenizer.max_seq_len", "2048"},
                {"optimizer._component_", "bitsandbytes.optim.PagedAdamW8bit"},
                {"checkpointer.model_type", "LLAMA3"}},
               c.label);
  const std::string run = FileText(f, "tune_run.sh");
  EXPECT_NE(run.find("tune run lora_finetune_single_device --config"), std::string::npos);
  EXPECT_NE(run.find("tune download meta-llama/Meta-Llama-3-8B"), std::string::npos);
}

TEST(EmitFinetuneTorchtune, DistributedRecipesTakeNprocPerNode) {
  const FinetuneFiles lora = Tt(FinetuneCases()[1]);
  EXPECT_NE(
      FileText(lora, "tune_run.sh").find("tune run --nproc_per_node 2 lora_finetune_distributed"),
      std::string::npos);
  EXPECT_EQ(YamlKeys(FileText(lora, "torchtune.yaml")).at("fsdp_cpu_offload"), "False");
  // Llama 3's untied embeddings and output sharded as units of their own, as the memory model
  // counts them (finetune_fsdp_root_test.cc); one GPU has nothing to shard.
  EXPECT_EQ(YamlKeys(FileText(lora, "torchtune.yaml")).at("custom_sharded_layers"),
            "['tok_embeddings', 'output']");
  EXPECT_FALSE(YamlKeys(FileText(Tt(FinetuneCases()[0]), "torchtune.yaml"))
                   .contains("custom_sharded_layers"));
  EXPECT_TRUE(lora.notes.empty());  // FSDP full sharding is what torchtune runs
  const FinetuneFiles full = Tt(FinetuneCases()[2]);
  const std::string run = FileText(full, "tune_run.sh");
  EXPECT_NE(run.find("--nnodes 2"), std::string::npos);  // 16 H100s, 8 a node
  EXPECT_NE(run.find("--nproc_per_node 8 \\\n  full_finetune_distributed"), std::string::npos);
  const auto yaml = YamlKeys(FileText(full, "torchtune.yaml"));
  EXPECT_EQ(yaml.at("model._component_"), "torchtune.models.llama3.llama3_70b");
  EXPECT_EQ(yaml.at("fsdp_cpu_offload"), "True");
  // The plan's ZeRO-3 shards what FSDP2's full sharding does: nothing to note.
  EXPECT_TRUE(full.notes.empty());
  // ZeRO-2 keeps whole weights on each GPU; torchtune would shard them, and the config says so.
  FinetuneCase zero2 = FinetuneCases()[2];
  zero2.plan.sharding = Sharding::kZero2;
  const FinetuneFiles z = Tt(zero2);
  ASSERT_EQ(z.notes.size(), 1u);
  EXPECT_NE(FileText(z, "torchtune.yaml").find("# NOTE: torchtune's distributed recipes"),
            std::string::npos);
}

TEST(EmitFinetuneTorchtune, MethodsAndModelsWithoutAComponentAreRefused) {
  const FinetuneFiles galore = Tt(FinetuneCases()[3]);
  EXPECT_TRUE(galore.files.empty());
  ASSERT_EQ(galore.notes.size(), 1u);
  EXPECT_NE(galore.notes[0].find("no recipe for galore"), std::string::npos);
  EXPECT_TRUE(Tt(FinetuneCases()[4]).files.empty());  // freeze
  FinetuneCase mixtral = FinetuneCases()[1];
  mixtral.specs = MakeSpecs("mixtral-8x7b", "a100-80gb", 2);
  const FinetuneFiles m = Tt(mixtral);
  EXPECT_TRUE(m.files.empty());
  EXPECT_NE(m.notes.at(0).find("no model builder for mixtral-8x7b"), std::string::npos);
  // Qwen 2.5 has LoRA builders but no QLoRA one in torchtune.
  FinetuneCase qwen = FinetuneCases()[0];
  qwen.specs = MakeSpecs("qwen2.5-7b", "rtx-4090", 1);
  EXPECT_TRUE(Tt(qwen).files.empty());
  qwen.plan.method = FinetuneMethod::kLora;
  qwen.plan.base_weights = BaseWeights::kBf16;
  const auto yaml = YamlKeys(FileText(Tt(qwen), "torchtune.yaml"));
  EXPECT_EQ(yaml.at("model._component_"), "torchtune.models.qwen2_5.lora_qwen2_5_7b_base");
  EXPECT_EQ(yaml.at("checkpointer.model_type"), "QWEN2");
  EXPECT_TRUE(yaml.contains("tokenizer.merges_file"));
}

TEST(EmitFinetuneTorchtune, HuggingFaceConfigsFindTheirBuilderByShape) {
  const std::string dir = std::string(PLANNER_SOURCE_DIR) + "/tests/data/hf/";
  FinetuneCase c = FinetuneCases()[1];  // LoRA
  // Llama 3.1 differs from Llama 3 by its RoPE scaling (rope_scaling.factor 8 in config.json).
  c.specs.model = FindModel(BuiltinCatalog(), dir + "llama3.1-8b.json", "--model");
  EXPECT_EQ(YamlKeys(FileText(Tt(c), "torchtune.yaml")).at("model._component_"),
            "torchtune.models.llama3_1.lora_llama3_1_8b");
  c.specs.model = FindModel(BuiltinCatalog(), dir + "qwen3-8b.json", "--model");
  EXPECT_EQ(YamlKeys(FileText(Tt(c), "torchtune.yaml")).at("model._component_"),
            "torchtune.models.qwen3.lora_qwen3_8b_base");
  // Phi-3 medium: torchtune builds the mini only.
  c.specs.model = FindModel(BuiltinCatalog(), dir + "phi-3-medium.json", "--model");
  EXPECT_TRUE(Tt(c).files.empty());
}

TEST(EmitFinetuneTorchtune, EveryBuilderNamedForAnyKnownModelExists) {
  const auto builders = LoadUpstreamList("torchtune-model-builders.txt");
  std::vector<Model> models = BuiltinCatalog().models;
  const std::string dir = std::string(PLANNER_SOURCE_DIR) + "/tests/data/hf/";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") {
      models.push_back(FindModel(BuiltinCatalog(), entry.path().string(), "--model"));
    }
  }
  FinetuneCase c = FinetuneCases()[1];
  std::set<std::string> named;
  for (const Model& m : models) {
    c.specs.model = m;
    for (FinetuneMethod method :
         {FinetuneMethod::kFull, FinetuneMethod::kLora, FinetuneMethod::kQlora}) {
      c.plan.method = method;
      const FinetuneFiles f = Tt(c);
      if (f.files.empty()) continue;
      const std::string component = YamlKeys(FileText(f, "torchtune.yaml")).at("model._component_");
      EXPECT_TRUE(builders.contains(component)) << m.name << ": " << component;
      named.insert(component);
    }
  }
  // Llama 2 / 3 / 3.1, Qwen 2.5 / 3, Gemma, Gemma 2 and Phi-3 mini of the catalog and
  // tests/data/hf.
  EXPECT_GE(named.size(), 30u);
}

}  // namespace
}  // namespace planner
