// Fine-tuning's adapter settings as lists the search ranks side by side, pure-bf16 training on
// the Hugging Face path, the physical floor measurements are held against, and the answer of
// `planner evaluate --method` for its one plan.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "planner/cost/finetune.h"
#include "planner/input/catalog.h"
#include "planner/model/model.h"
#include "planner/render/emit_finetune.h"
#include "planner/search/finetune_search.h"
#include "test_util.h"

namespace planner {
namespace {

std::string Text(const FinetuneFiles& f, const std::string& name) {
  for (const EmittedFile& file : f.files) {
    if (file.name == name) return file.text;
  }
  return "";
}

TEST(FinetuneAdapters, TargetsCountTheirProjectionsByHand) {
  // Llama 3 8B: hidden 4096, 32 query and 8 KV heads of 128: q and o 4096 wide, k and v 1024.
  // LoRA puts r x (in + out) beside each matrix (Hu et al. 2021): per layer
  // q 8192 r + k 5120 r + v 5120 r + o 8192 r = 26624 r; q+v alone 13312 r; 32 layers.
  const Model m = CatalogModel("llama3-8b");
  FinetunePlan p{.method = FinetuneMethod::kLora, .lora_rank = 8};
  EXPECT_DOUBLE_EQ(FinetuneParamsOf(m, p).adapters, 26624.0 * 8 * 32);  // 6,815,744
  p.targets = AdapterTargets{.q = true, .k = false, .v = true, .o = false, .mlp = false};
  EXPECT_DOUBLE_EQ(FinetuneParamsOf(m, p).adapters, 13312.0 * 8 * 32);  // 3,407,872
  EXPECT_EQ(AdapterTargetsName(p.targets), "q+v");
  EXPECT_EQ(AdapterTargetsName(kAllTargets), "all");
}

TEST(FinetuneAdapters, ARankListRanksOnePlanPerRank) {
  const Model m = CatalogModel("llama3-8b");
  FinetuneQuery q;
  q.setup = {.global_batch = 64, .seq_len = 2048};
  q.gpus = 1, q.exact_gpus = true, q.micro_batch = 4, q.offload = 0;
  q.shardings = {Sharding::kNone};
  q.checkpointing = {Checkpointing::kFull};
  q.lora_ranks = {64, 8};
  const FinetuneResult r = SearchFinetune(m, CatalogCluster("a100-80gb", 1), q);
  ASSERT_EQ(r.plans.size(), 2u);
  // Rank 8 does less adapter work, so it ranks first; each keeps alpha = 2 x rank.
  EXPECT_EQ(r.plans[0].plan.lora_rank, 8);
  EXPECT_EQ(r.plans[1].plan.lora_rank, 64);
  EXPECT_EQ(r.plans[1].plan.lora_alpha, 128);
  EXPECT_LT(r.plans[0].time.step(), r.plans[1].time.step());
  // PEFT keeps adapters in fp32 (4 bytes): 26624 x 32 x r x 4 bytes per plan.
  EXPECT_DOUBLE_EQ(r.plans[0].memory.adapters, 26624.0 * 32 * 8 * 4);
  EXPECT_DOUBLE_EQ(r.plans[1].memory.adapters, 26624.0 * 32 * 64 * 4);
}

TEST(FinetuneAdapters, ListsShowEveryAdapterAndOneValueFixesIt) {
  const Outcome r = Cli({"finetune", "--model", "llama3-8b", "--gpu", "a100-80gb", "--gpus", "1",
                         "--lora-rank", "8,64", "--lora-targets", "attention,q+v"});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const char* label : {"r8 attn", "r64 attn", "r8 q+v", "r64 q+v"}) {
    EXPECT_NE(r.out.find(label), std::string::npos) << label << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("the choice is yours"), std::string::npos);
  const Outcome one = Cli({"finetune", "--model", "llama3-8b", "--gpu", "a100-80gb", "--lora-rank",
                           "8", "--lora-targets", "q+v", "--format", "json"});
  ASSERT_EQ(one.rc, 0) << one.err;
  const nlohmann::json j = nlohmann::json::parse(one.out);
  EXPECT_EQ(j["plans"][0]["lora_rank"], 8);
  EXPECT_EQ(j["plans"][0]["lora_alpha"], 16);
  EXPECT_EQ(j["plans"][0]["lora_targets"], "q+v");
  const Outcome bad = Cli({"finetune", "--model", "llama3-8b", "--lora-targets", "q+x"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("--lora-targets: unknown value 'q+x'"), std::string::npos) << bad.err;
  // Empty pieces are refused, not read as fewer targets or ranks.
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--lora-targets", "q+"}, {"--lora-targets", ","}, {"--lora-rank", "8,"},
           {"--lora-rank", "0"}}) {
    const Outcome r = Cli({"finetune", "--model", "llama3-8b", flag, value});
    EXPECT_EQ(r.rc, 2) << flag << " " << value;
    EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  }
}

TEST(FinetuneAdapters, EmittersAdaptOnlyTheChosenProjections) {
  // torchtune's Llama 2 7B LoRA recipe (llama2/7B_lora.yaml at 0217d44c): q_proj and v_proj.
  const Model m = CatalogModel("llama3-8b");
  const Cluster c = CatalogCluster("a100-80gb", 1);
  const FinetunePlan p{.method = FinetuneMethod::kLora, .micro_batch = 1, .grad_accum = 8,
                       .lora_rank = 8, .lora_alpha = 16,
                       .targets = {.q = true, .k = false, .v = true, .o = false, .mlp = false}};
  FinetuneSetup s{.global_batch = 8, .seq_len = 2048};
  const std::string py = Text(EmitFinetune(m, c, p, s), "train.py");
  EXPECT_NE(py.find("target_modules=['q_proj', 'v_proj']"), std::string::npos) << py;
  s.framework = FinetuneFramework::kTorchtune;
  const std::string yaml = Text(EmitFinetune(m, c, p, s), "torchtune.yaml");
  EXPECT_NE(yaml.find("lora_attn_modules: ['q_proj', 'v_proj']"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("lora_rank: 8"), std::string::npos) << yaml;
}

TEST(FinetuneAdapters, PureBf16KeepsTwoBytesPerValue) {
  // Full fine-tuning of Llama 3 8B on one GPU. Mixed precision (ZeRO's accounting, Rajbhandari
  // et al. 2020): bf16 weights 2 + bf16 gradients 2 + fp32 master 4 + two fp32 moments 8 = 16
  // bytes per parameter. Pure bf16 (bf16 model, bf16=True; AdamW's moments take the
  // parameter's dtype): 2 + 2 + two bf16 moments 4 = 8.
  const Model m = CatalogModel("llama3-8b");
  const double params = CountParameters(m).total;
  const FinetunePlan p{.method = FinetuneMethod::kFull, .checkpointing = Checkpointing::kFull};
  FinetuneSetup s{.global_batch = 1, .seq_len = 2048};
  const Cluster c = CatalogCluster("h100-sxm", 1);
  const FinetuneMemory mixed = FinetuneMemoryOf(m, c, p, s);
  EXPECT_DOUBLE_EQ(TrainableStateBytes(m, p, s), 12.0);
  EXPECT_NEAR((mixed.base_weights + mixed.gradients + mixed.optimizer) / params, 16.0, 1e-9);
  s.master = MasterWeights::kNone;
  const FinetuneMemory pure = FinetuneMemoryOf(m, c, p, s);
  EXPECT_DOUBLE_EQ(TrainableStateBytes(m, p, s), 4.0);
  EXPECT_NEAR((pure.base_weights + pure.gradients + pure.optimizer) / params, 8.0, 1e-9);
}

TEST(FinetuneAdapters, PureBf16IsEmittedAndRefusedUnderZero) {
  const Model m = CatalogModel("llama3-8b");
  const Cluster c = CatalogCluster("a100-80gb", 2);
  FinetunePlan p{.method = FinetuneMethod::kFull,
                 .gpus = 2,
                 .dp = 2,
                 .sharding = Sharding::kFsdp,
                 .micro_batch = 1,
                 .grad_accum = 8};
  const FinetuneSetup s{.global_batch = 16, .seq_len = 2048, .master = MasterWeights::kNone};
  const std::string py = Text(EmitFinetune(m, c, p, s), "train.py");
  EXPECT_NE(py.find("dtype=torch.bfloat16"), std::string::npos) << py;
  EXPECT_EQ(py.find("torch.float32"), std::string::npos) << py;
  EXPECT_NE(py.find("bf16=True"), std::string::npos);
  // DeepSpeed's bf16 mode keeps fp32 master partitions: pure bf16 is not a ZeRO plan.
  FinetuneQuery q{.setup = s};
  p.sharding = Sharding::kZero3;
  EXPECT_EQ(EvaluateFinetunePlan(m, c, p, q).reason, FinetuneReason::kUnsupported);
  p.method = FinetuneMethod::kLora, p.sharding = Sharding::kNone;
  const std::string lora = Text(EmitFinetune(m, c, p, s), "train.py");
  EXPECT_NE(lora.find("autocast_adapter_dtype=False"), std::string::npos) << lora;
}

TEST(FinetuneAdapters, FloorOfASyntheticRowBreaksBothBounds) {
  // A row stating Llama 2 70B LoRA, FSDP over 8 A100s, batch 4 x 4096 (torchtune's README
  // setting). The floor: 4 P FLOPs per token (forward and input gradients; P the matmul
  // weights); 16-bit weights / 8; every layer's input 80 x 4 x 4096 x 8192 x 2 B = 20 GiB.
  const Model m = CatalogModel("llama2-70b");
  const FinetunePlan p{.method = FinetuneMethod::kLora,
                       .gpus = 8,
                       .dp = 8,
                       .sharding = Sharding::kFsdp,
                       .micro_batch = 4};
  const FinetuneSetup s{.seq_len = 4096};
  const FinetuneFloor f = FinetuneFloorOf(m, p, s);
  const ParamCounts n = CountParameters(m);
  EXPECT_DOUBLE_EQ(f.flops_per_token, 4.0 * n.active_matmul);
  EXPECT_NEAR(f.weights_bytes, 2.0 * n.total / 8, 1.0);
  EXPECT_DOUBLE_EQ(f.inputs_bytes, 80.0 * 4 * 4096 * 8192 * 2);
  // Measured 3384 tokens/s per GPU and 26.4 GiB: 3384 x 4 x 68.7e9 = 9.3e14 FLOP/s exceeds the
  // A100's 312e12, and 16.1 + 20 GiB exceeds 26.4 GiB. 1000 tokens/s and 40 GiB would not.
  const double peak = CatalogCluster("a100-80gb", 8).gpu.bf16_flops;
  EXPECT_GT(3384 * f.flops_per_token, peak);
  EXPECT_GT(f.memory_bytes, 26.4 * 1073741824.0);
  EXPECT_LT(1000 * f.flops_per_token, peak);
  EXPECT_LT(f.memory_bytes, 40.0 * 1073741824.0);
}

TEST(FinetuneAdapters, FloorOfOffloadedWeightsIsOneMatrix) {
  // FSDP / ZeRO-3 CPU offload keeps the weights on the host: only the matrix in use need be on
  // the GPU. Llama 2 70B's largest is the MLP's 8192 x 28672 (gate and up each), 16-bit.
  const Model m = CatalogModel("llama2-70b");
  const FinetunePlan p{.method = FinetuneMethod::kFull, .gpus = 8, .dp = 8,
                       .sharding = Sharding::kFsdp, .offload_params = true, .micro_batch = 2};
  const FinetuneSetup s{.seq_len = 2048};
  EXPECT_DOUBLE_EQ(FinetuneFloorOf(m, p, s).weights_bytes, 8192.0 * 28672 * 2);
}

TEST(FinetuneAdapters, EvaluateNamesItsOnePlan) {
  const std::vector<std::string> plan = {
      "evaluate",  "--method",        "full", "--model",       "llama3-70b", "--gpu",
      "a100-80gb", "--gpus",          "2",    "--sharding",    "fsdp",       "--offload",
      "none",      "--checkpointing", "full", "--micro-batch", "4"};
  const Outcome r = Cli(plan);
  EXPECT_EQ(r.rc, 1);
  // Exactly its GPUs, not "up to"; its own verdict, not a search's "No plan fits".
  EXPECT_NE(r.out.find("on 2 x a100-80gb"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("up to"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("The plan does not fit in GPU memory."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Scored 1 plan:"), std::string::npos) << r.out;
  std::vector<std::string> zero = plan;
  zero[10] = "zero-3";
  zero.insert(zero.end(), {"--master-weights", "none"});
  const Outcome pure = Cli(zero);
  EXPECT_NE(pure.out.find("pure bf16 (--master-weights\nnone) runs without ZeRO"),
            std::string::npos)
      << pure.out;
}

}  // namespace
}  // namespace planner
