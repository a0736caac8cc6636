// The Megatron-Bridge emitter (bridge.overrides, bridge.sh): every key it writes is a field of
// Megatron-Bridge's ConfigContainer at the commit of tests/fixtures/megatron-bridge-config-keys
// .txt (extract_megatron_bridge.py), every recipe and mixed-precision name is one Megatron-Bridge
// registers, and the overrides say what the plan is.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "emit_fixtures.h"
#include "planner/render/emit.h"

namespace planner {
namespace {

const std::set<std::string>& BridgeKeys() {
  static const std::set<std::string> keys = LoadUpstreamList("megatron-bridge-config-keys.txt");
  return keys;
}

// "model.tensor_model_parallel_size" as the fixture lists it; a top-level key is a field of the
// container itself.
std::string FixtureName(const std::string& key) {
  return key.find('.') == std::string::npos ? "container." + key : key;
}

std::map<std::string, std::string> OverrideMap(const Specs& s, const Plan& p) {
  std::map<std::string, std::string> m;
  for (const auto& [key, value] : BridgeOverrides(s, p)) m[key] = value;
  return m;
}

Specs Setup(const std::string& model, const std::string& gpu, int64_t gpus, int64_t batch,
            const std::string& precision = "bf16") {
  Specs s = MakeSpecs(model, gpu, gpus, precision);
  s.setup.global_batch = batch;
  s.setup.framework = Framework::kNemo;
  return s;
}

// Plans that between them use every switch the emitter has.
std::vector<std::pair<Specs, Plan>> Cases() {
  std::vector<std::pair<Specs, Plan>> cases;
  Specs dense = Setup("llama3-70b", "h100-sxm", 64, 128, "fp8");
  cases.emplace_back(dense, Complete(dense, {.tp = 4, .pp = 4, .cp = 2,
                                             .recompute = Recompute::kFull, .zero_stage = 1,
                                             .sequence_parallel = true, .virtual_stages = 5,
                                             .recompute_layers = 2}));
  // 80 layers + embedding + loss over 2 x 41: the two slots Megatron counts.
  cases.emplace_back(dense, Complete(dense, {.tp = 8, .pp = 2, .recompute = Recompute::kSelective,
                                             .zero_stage = 1, .first_stage_layers = 40,
                                             .last_stage_layers = 40}));
  cases.emplace_back(dense, Complete(dense, {.tp = 8, .pp = 2, .first_stage_layers = 38}));
  Specs offload = Setup("llama3-70b", "gb200", 64, 256, "fp8");
  offload.setup.cuda_graphs = false;
  cases.emplace_back(offload, Complete(offload, {.micro_batch = 1, .zero_stage = 3,
                                                 .offload_activation_layers = 40}));
  Specs graphs = Setup("llama3-8b", "b200", 8, 128, "fp8");
  graphs.setup.cuda_graphs = true;
  cases.emplace_back(graphs, Complete(graphs, {.micro_batch = 2, .zero_stage = 2}));
  Specs moe = Setup("mixtral-8x7b", "h100-sxm", 64, 256, "fp16");
  cases.emplace_back(moe, Complete(moe, {.tp = 2, .pp = 4, .ep = 8, .zero_stage = 1}));
  Specs fp32 = Setup("gemma-2-9b", "a100-80gb", 8, 64, "fp32");
  cases.emplace_back(fp32, Complete(fp32, {.tp = 2, .recompute = Recompute::kFull}));
  return cases;
}

TEST(EmitBridge, EveryOverrideIsAConfigContainerField) {
  ASSERT_GT(BridgeKeys().size(), 800u) << "tests/fixtures/megatron-bridge-config-keys.txt";
  for (const auto& [s, p] : Cases()) {
    for (const auto& [key, value] : BridgeOverrides(s, p)) {
      EXPECT_TRUE(BridgeKeys().contains(FixtureName(key))) << s.model.name << ": " << key;
    }
  }
}

TEST(EmitBridge, EveryKeyAndFlagOfTheScriptIsUpstreams) {
  // The data and tokenizer words of bridge.sh, run_recipe.py's flags and its --dataset choices.
  const std::regex key(R"(\b([a-z_]+\.[a-z_]+)=)");
  const std::regex flag(R"(\s(--[a-z_]+) )");
  const std::regex dataset(R"(--dataset ([a-z-]+))");
  for (const auto& [s, p] : Cases()) {
    const std::string script = BridgeScript(s, p);
    std::set<std::string> keys;
    for (std::sregex_iterator it(script.begin(), script.end(), key), end; it != end; ++it) {
      EXPECT_TRUE(BridgeKeys().contains((*it)[1].str())) << (*it)[1];
      keys.insert((*it)[1].str());
    }
    // The data and tokenizer words, and the two the header names as examples.
    EXPECT_EQ(keys, (std::set<std::string>{"checkpoint.save", "dataset.blend", "train.train_iters",
                                           "tokenizer.tokenizer_model",
                                           "tokenizer.tokenizer_type"}));
    const size_t run = script.find("run_recipe.py\"");
    ASSERT_NE(run, std::string::npos) << script;
    const std::string command = script.substr(run);
    for (std::sregex_iterator it(command.begin(), command.end(), flag), end; it != end; ++it) {
      EXPECT_TRUE(BridgeKeys().contains("run_recipe." + (*it)[1].str())) << (*it)[1];
    }
    for (std::sregex_iterator it(script.begin(), script.end(), dataset), end; it != end; ++it) {
      EXPECT_TRUE(BridgeKeys().contains("run_recipe_dataset." + (*it)[1].str())) << (*it)[1];
    }
  }
}

TEST(EmitBridge, RecipesAndPrecisionsAreRegisteredNames) {
  for (const std::string& recipe : BridgeRecipeNames()) {
    EXPECT_TRUE(BridgeKeys().contains("recipe." + recipe)) << recipe;
  }
  for (const auto& [s, p] : Cases()) {
    const std::string mp = OverrideMap(s, p).at("mixed_precision");
    if (mp != "null") {
      EXPECT_TRUE(BridgeKeys().contains("mixed_precision_recipe." + mp)) << mp;
    }
  }
}

TEST(EmitBridge, OverridesSayThePlan) {
  const std::vector<std::pair<Specs, Plan>> cases = Cases();
  // TP 4, PP 4 x 5 virtual stages, CP 2, SP, the first 2 layers of each chunk recomputed, fp8.
  std::map<std::string, std::string> o = OverrideMap(cases[0].first, cases[0].second);
  EXPECT_EQ(o.at("model.tensor_model_parallel_size"), "4");
  EXPECT_EQ(o.at("model.virtual_pipeline_model_parallel_size"), "5");
  EXPECT_EQ(o.at("model.context_parallel_size"), "2");
  EXPECT_EQ(o.at("model.sequence_parallel"), "true");
  EXPECT_EQ(o.at("model.recompute_method"), "block");
  EXPECT_EQ(o.at("model.recompute_num_layers"), "2");
  EXPECT_EQ(o.at("mixed_precision"), "bf16_with_fp8_current_scaling_mixed");
  EXPECT_EQ(o.at("ddp.use_megatron_fsdp"), "false");
  EXPECT_EQ(o.at("train.micro_batch_size"), "1");
  EXPECT_FALSE(o.contains("model.num_layers"));  // llama3_70b_pretrain_config knows its shape
  // 40 + 40 layers with the embedding and the loss each taking a slot.
  o = OverrideMap(cases[1].first, cases[1].second);
  EXPECT_EQ(o.at("model.account_for_embedding_in_pipeline_split"), "true");
  EXPECT_EQ(o.at("model.account_for_loss_in_pipeline_split"), "true");
  EXPECT_EQ(o.at("model.recompute_granularity"), "selective");
  EXPECT_EQ(o.at("model.virtual_pipeline_model_parallel_size"), "null");
  o = OverrideMap(cases[2].first, cases[2].second);
  EXPECT_EQ(o.at("model.num_layers_in_first_pipeline_stage"), "38");
  // NVIDIA's GB200 FSDP recipe: ZeRO-3 as Megatron FSDP, 40 layers offloaded, no recompute.
  o = OverrideMap(cases[3].first, cases[3].second);
  EXPECT_EQ(o.at("ddp.use_megatron_fsdp"), "true");
  EXPECT_EQ(o.at("ddp.data_parallel_sharding_strategy"), "optim_grads_params");
  EXPECT_EQ(o.at("model.cpu_offloading"), "true");
  EXPECT_EQ(o.at("model.cpu_offloading_num_layers"), "40");
  EXPECT_EQ(o.at("model.recompute_granularity"), "null");
  EXPECT_EQ(o.at("train.global_batch_size"), "256");
  o = OverrideMap(cases[4].first, cases[4].second);
  EXPECT_EQ(o.at("ddp.data_parallel_sharding_strategy"), "optim_grads");
  EXPECT_EQ(o.at("model.cuda_graph_impl"), "local");
  EXPECT_EQ(o.at("model.cuda_graph_scope"), "full_iteration");
  o = OverrideMap(cases[5].first, cases[5].second);
  EXPECT_EQ(o.at("model.expert_model_parallel_size"), "8");
  EXPECT_EQ(o.at("mixed_precision"), "fp16_mixed");
  EXPECT_EQ(o.at("model.num_layers"), "32");  // no Mixtral recipe: the shape goes over RECIPE
  EXPECT_EQ(o.at("model.num_query_groups"), "8");
  o = OverrideMap(cases[6].first, cases[6].second);
  EXPECT_EQ(o.at("mixed_precision"), "null");  // fp32
  EXPECT_EQ(o.at("model.recompute_method"), "uniform");
  EXPECT_EQ(o.at("model.recompute_num_layers"), "1");
}

TEST(EmitBridge, ScriptNamesTheRecipeOrAsksForOne) {
  const std::vector<std::pair<Specs, Plan>> cases = Cases();
  std::string script = BridgeScript(cases[0].first, cases[0].second);
  EXPECT_NE(script.find("RECIPE=${RECIPE:-llama3_70b_pretrain_config}"), std::string::npos);
  script = BridgeScript(cases[5].first, cases[5].second);
  EXPECT_NE(script.find("RECIPE=${RECIPE:?set RECIPE to a Megatron-Bridge recipe"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("# Megatron-Bridge has no recipe of mixtral-8x7b"), std::string::npos);
  // Megatron-core's TP overlap is a config object the recipe does not make: said, not dropped.
  Specs overlap = cases[0].first;
  overlap.setup.comm_overlap = true;
  script = BridgeScript(overlap, cases[0].second);
  EXPECT_NE(script.find("CommOverlapConfig(tp_comm_overlap=True)"), std::string::npos);
}

TEST(EmitBridge, EmitSetTakesBridge) {
  EXPECT_EQ(ParseEmitSet("bridge,launch", "--emit"), (EmitSet{.launch = true, .bridge = true}));
  EXPECT_TRUE(kEmitAll.bridge);
}

}  // namespace
}  // namespace planner
