// The emitted Megatron-LM arguments and DeepSpeed configs use only real flags and keys, and map
// each plan option to them as Megatron-LM and DeepSpeed document.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "emit_fixtures.h"
#include "planner/model/error.h"
#include "planner/search/evaluate.h"

namespace planner {
namespace {

struct Case {
  Specs specs;
  Plan plan;
};

// Plans that between them use every option the emitters map: each recompute kind, ZeRO 0-3
// (with and without PP), SP, VP (even and uneven stages), CP, EP and MoE shapes, GQA, untied
// and tied embeddings, learned and rotary positions, every precision, 8-bit AdamW, GPipe,
// unfused attention.
std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto add = [&](const Specs& s, const Plan& p) { cases.push_back({s, Complete(s, p)}); };
  const Specs llama70 = MakeSpecs("llama2-70b", "rtx-4090", 2048);
  add(llama70, {.tp = 2,
                .pp = 8,
                .recompute = Recompute::kFull,
                .zero_stage = 1,
                .sequence_parallel = true,
                .virtual_stages = 5});
  add(llama70, {.tp = 2,
                .pp = 8,
                .recompute = Recompute::kFull,
                .zero_stage = 2,
                .sequence_parallel = true,
                .virtual_stages = 2});
  // Uneven stages, each way the search splits layers: 126 + 2 = 8 x 8 x 2 (embedding and loss
  // each take a slot), 32 + 1 = 3 x 11 (the loss takes one), and a first stage of 8 of 32.
  const Specs llama405 = MakeSpecs("llama3.1-405b", "h100-sxm", 1024);
  add(llama405, {.tp = 8, .pp = 8, .cp = 2, .zero_stage = 1, .sequence_parallel = true,
                 .virtual_stages = 8, .first_stage_layers = 15, .last_stage_layers = 15});
  const Specs llama8 = MakeSpecs("llama3-8b", "h100-sxm", 96);
  add(llama8, {.pp = 3, .zero_stage = 1, .last_stage_layers = 10});
  add(llama8, {.pp = 3, .zero_stage = 1, .first_stage_layers = 8});
  const Specs gpt3 = MakeSpecs("gpt3-175b", "a100-80gb", 1024);
  add(gpt3, {.tp = 8,
             .pp = 8,
             .recompute = Recompute::kSelective,
             .zero_stage = 1,
             .sequence_parallel = true,
             .virtual_stages = 3});
  add(gpt3, {.tp = 8, .pp = 16, .zero_stage = 3});
  const Specs llama7 = MakeSpecs("llama2-7b", "a100-80gb", 64);
  add(llama7, {.zero_stage = 3});
  add(llama7, {.tp = 2, .micro_batch = 2, .recompute = Recompute::kSelective, .zero_stage = 2});
  add(llama7, {.micro_batch = 4});
  const Specs mixtral = MakeSpecs("mixtral-8x7b", "h100-sxm", 256, "fp8");
  add(mixtral, {.tp = 2,
                .pp = 4,
                .cp = 2,
                .ep = 8,
                .recompute = Recompute::kFull,
                .zero_stage = 1,
                .sequence_parallel = true});
  Specs overlapped = llama405;
  overlapped.setup.comm_overlap = true;  // --comm-overlap: TE's TP userbuffer overlap
  add(overlapped, {.tp = 8, .pp = 8, .zero_stage = 1, .sequence_parallel = true});
  Specs offloaded = gpt3;
  offloaded.setup.framework = Framework::kDeepSpeed;
  offloaded.setup.offload_optimizer = true;  // --offload optimizer: offload_optimizer {cpu}
  offloaded.setup.zero3_max_live_params = 3e9;
  add(offloaded, {.dp = 1024, .zero_stage = 3});
  const Specs deepseek = BuildSpecs(
      SpecInput{.model = std::string(PLANNER_SOURCE_DIR) + "/tests/data/hf_deepseek_v2_lite.json",
                .gpu = "h100-sxm",
                .gpus = 64,
                .seq_len = 4096},
      BuiltinCatalog());
  add(deepseek, {.ep = 8, .zero_stage = 1});
  Specs fp16 = MakeSpecs("gpt3-175b", "v100-32gb", 1024, "fp16");
  fp16.setup.fp32_grads = false;
  fp16.setup.optimizer = Optimizer::kAdamW8bit;
  fp16.setup.schedule = Schedule::kGPipe;
  fp16.setup.flash_attention = false;
  add(fp16, {.tp = 8, .pp = 16, .recompute = Recompute::kFull});
  Specs fp32 = MakeSpecs("llama2-7b", "a100-80gb", 8, "fp32");
  fp32.setup.optimizer = Optimizer::kSgdMomentum;
  add(fp32, {.tp = 8});
  Specs bf16_grads = llama7;
  bf16_grads.setup.fp32_grads = false;
  add(bf16_grads, {.tp = 4, .pp = 2, .zero_stage = 1});
  return cases;
}

bool Has(const std::vector<FlagValue>& args, const std::string& flag, const std::string& value) {
  return std::find(args.begin(), args.end(), FlagValue{flag, value}) != args.end();
}
bool HasFlag(const std::vector<FlagValue>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(), [&](const FlagValue& f) { return f.first == flag; });
}

TEST(Emit, EveryMegatronFlagIsInMegatronLmsParser) {
  const std::set<std::string> known = LoadNameList("megatron-lm-flags.txt");
  ASSERT_GT(known.size(), 400u);
  std::set<std::string> used;
  for (const Case& c : Cases()) {
    const Snippets n = Emit(c.specs, Evaluation{.plan = c.plan});
    // megatron.args and the pretrain_gpt.py lines of megatron.sh and launch.sh. deepspeed.sh is
    // not checked here: its flags are Megatron-DeepSpeed's, a 2023 fork with its own spelling.
    for (const std::string& text : {n.megatron_args, n.megatron_sh, n.launch_sh}) {
      for (const std::string& flag : ScriptFlags(text)) {
        EXPECT_TRUE(known.contains(flag)) << flag << " in\n" << text;
        used.insert(flag);
      }
    }
  }
  for (const char* flag :
       {"--recompute-granularity", "--recompute-method", "--use-custom-fsdp",
        "--use-distributed-optimizer", "--sequence-parallel",
        "--num-layers-per-virtual-pipeline-stage", "--num-virtual-stages-per-pipeline-rank",
        "--group-query-attention", "--untie-embeddings-and-output-weights",
        "--context-parallel-size", "--expert-model-parallel-size", "--moe-layer-freq", "--fp16",
        "--bf16", "--fp8-format", "--decoder-first-pipeline-num-layers",
        "--account-for-embedding-in-pipeline-split", "--account-for-loss-in-pipeline-split",
        "--tp-comm-overlap"}) {
    EXPECT_TRUE(used.contains(flag)) << "no case covers " << flag;
  }
}

TEST(Emit, EveryDeepSpeedKeyIsInDeepSpeedsConfig) {
  const std::set<std::string> known = LoadNameList("deepspeed-config-keys.txt");
  ASSERT_TRUE(known.contains("bfloat16"));  // the trailing comment is stripped
  std::set<int> stages;
  for (const Case& c : Cases()) {
    const nlohmann::json config = nlohmann::json::parse(DeepSpeedConfig(c.specs, c.plan));
    for (const std::string& key : ConfigKeys(config)) {
      EXPECT_TRUE(known.contains(key)) << key << " in\n" << config.dump(2);
    }
    stages.insert(config["zero_optimization"]["stage"].get<int>());
    EXPECT_EQ(config.contains("activation_checkpointing"), c.plan.recompute != Recompute::kNone);
  }
  EXPECT_EQ(stages, (std::set<int>{0, 1, 2, 3}));
}

TEST(Emit, RecomputeKindsMapToMegatronsGranularity) {
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  const auto full = MegatronArgs(s, Complete(s, {.recompute = Recompute::kFull}));
  EXPECT_TRUE(Has(full, "--recompute-granularity", "full"));
  EXPECT_TRUE(Has(full, "--recompute-method", "uniform"));
  EXPECT_TRUE(Has(full, "--recompute-num-layers", "1"));
  // Megatron-LM asserts that selective recompute comes without a method.
  const auto selective = MegatronArgs(s, Complete(s, {.recompute = Recompute::kSelective}));
  EXPECT_TRUE(Has(selective, "--recompute-granularity", "selective"));
  EXPECT_FALSE(HasFlag(selective, "--recompute-method"));
  EXPECT_FALSE(HasFlag(MegatronArgs(s, Complete(s, {})), "--recompute-granularity"));
}

TEST(Emit, ZeroStagesMapToDistributedOptimizerAndCustomFsdp) {
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  const auto zero1 = MegatronArgs(s, Complete(s, {.zero_stage = 1}));
  EXPECT_TRUE(HasFlag(zero1, "--use-distributed-optimizer"));
  EXPECT_FALSE(HasFlag(zero1, "--use-custom-fsdp"));
  EXPECT_TRUE(Has(MegatronArgs(s, Complete(s, {.zero_stage = 2})),
                  "--data-parallel-sharding-strategy", "optim_grads"));
  EXPECT_TRUE(Has(MegatronArgs(s, Complete(s, {.zero_stage = 3})),
                  "--data-parallel-sharding-strategy", "optim_grads_params"));
  // With PP, Megatron-LM's FSDP does not run: ZeRO-1 plus a warning in both scripts.
  const Plan piped = Complete(s, {.pp = 4, .zero_stage = 3});
  EXPECT_FALSE(HasFlag(MegatronArgs(s, piped), "--use-custom-fsdp"));
  EXPECT_TRUE(HasFlag(MegatronArgs(s, piped), "--use-distributed-optimizer"));
  EXPECT_NE(MegatronScript(s, piped).find("# WARNING"), std::string::npos);
  EXPECT_NE(DeepSpeedScript(s, piped).find("# WARNING"), std::string::npos);
}

// --offload optimizer and --zero3-max-live-params reach ds_config.json as the planner counted
// them (cost_models/zero3.cc), and Megatron-DeepSpeed builds its CPU Adam (--cpu-optimizer, as
// in Megatron-DeepSpeed's examples_deepspeed/azure/run-1t.sh).
TEST(Emit, OffloadAndLiveParameterCapReachDeepSpeedConfig) {
  Specs s = MakeSpecs("gpt3-175b", "a100-80gb", 256);
  s.setup.framework = Framework::kDeepSpeed;
  s.setup.offload_optimizer = true;
  s.setup.zero3_max_live_params = 3e9;
  const Plan p = Complete(s, {.zero_stage = 3});
  const nlohmann::json z = nlohmann::json::parse(DeepSpeedConfig(s, p))["zero_optimization"];
  EXPECT_EQ(z["offload_optimizer"]["device"], "cpu");
  EXPECT_EQ(z["stage3_max_live_parameters"], 3000000000LL);
  EXPECT_EQ(z["stage3_prefetch_bucket_size"], 50000000LL);  // DeepSpeed's default, 5e7
  EXPECT_NE(DeepSpeedScript(s, p).find("--cpu-optimizer"), std::string::npos);
  s.setup.offload_optimizer = false;
  EXPECT_FALSE(nlohmann::json::parse(DeepSpeedConfig(s, p))["zero_optimization"].contains(
      "offload_optimizer"));
  EXPECT_EQ(DeepSpeedScript(s, p).find("--cpu-optimizer"), std::string::npos);
}

TEST(Emit, VirtualStagesBecomeLayersPerChunk) {
  // llama2-70b: 80 layers / (PP 8 x 5 chunks) = 2 layers a chunk.
  const Specs s = MakeSpecs("llama2-70b", "rtx-4090", 2048);
  const auto args = MegatronArgs(s, Complete(s, {.tp = 2, .pp = 8, .virtual_stages = 5}));
  EXPECT_TRUE(Has(args, "--num-layers-per-virtual-pipeline-stage", "2"));
  EXPECT_TRUE(Has(args, "--group-query-attention", ""));
  EXPECT_TRUE(Has(args, "--num-query-groups", "8"));
}

TEST(Emit, TensorAndPipelineParallelRunThroughMegatronDeepSpeed) {
  const Specs s = MakeSpecs("llama2-70b", "rtx-4090", 2048);
  const std::string script = DeepSpeedScript(s, Complete(s, {.tp = 2, .pp = 8, .zero_stage = 1}));
  EXPECT_NE(script.find("--deepspeed --deepspeed_config \"$HERE/ds_config.json\" --zero-stage 1"),
            std::string::npos);
  EXPECT_NE(script.find("--num-key-value-heads 8"), std::string::npos);
  EXPECT_EQ(script.find("--no-pipeline-parallel"), std::string::npos);
  const nlohmann::json config =
      nlohmann::json::parse(DeepSpeedConfig(s, Complete(s, {.tp = 2, .pp = 8, .zero_stage = 1})));
  EXPECT_FALSE(config.contains("tensor_parallel"));  // DeepSpeed would ignore it here
}

TEST(Emit, ParsesTheEmitList) {
  EXPECT_EQ(ParseEmitSet("megatron,deepspeed,launch,bridge", "--emit"), kEmitAll);
  EXPECT_EQ(ParseEmitSet("launch", "--emit"), (EmitSet{.launch = true}));
  try {
    ParseEmitSet("megatron,slurm", "--emit");
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "--emit");
    EXPECT_NE(std::string(e.what()).find("'slurm'"), std::string::npos);
  }
}

}  // namespace
}  // namespace planner
