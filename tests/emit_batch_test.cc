// The batch identity holds in everything emitted for every plan of a search:
// global batch = micro-batch x data-parallel size x accumulation steps, with the data-parallel
// size GPUs / (TP x PP x CP) in Megatron-LM's arguments, DeepSpeed's config and launch.sh.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <string>

#include "emit_fixtures.h"
#include "planner/search/search.h"

namespace planner {
namespace {

// Megatron-LM derives the data-parallel size and the accumulation steps from its arguments
// (megatron/training/arguments.py: world / (tp x pp x cp); global / (micro x dp)).
void CheckMegatron(const Specs& s, const Plan& p) {
  std::map<std::string, int64_t> value{{"--context-parallel-size", 1}};
  const std::vector<std::string> argv = MegatronArgv(s, p);
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i].rfind("--", 0) == 0 && argv[i + 1].rfind("--", 0) != 0 &&
        std::isdigit(static_cast<unsigned char>(argv[i + 1][0]))) {
      value[argv[i]] = std::stoll(argv[i + 1]);
    }
  }
  const int64_t model_parallel = value["--tensor-model-parallel-size"] *
                                 value["--pipeline-model-parallel-size"] *
                                 value["--context-parallel-size"];
  ASSERT_EQ(s.cluster.gpus % model_parallel, 0);
  const int64_t dp = s.cluster.gpus / model_parallel;
  const int64_t per_step = value["--micro-batch-size"] * dp;
  ASSERT_EQ(value["--global-batch-size"] % per_step, 0);
  EXPECT_EQ(value["--global-batch-size"] / per_step, p.grad_accum);
  EXPECT_EQ(value["--global-batch-size"], s.setup.global_batch);
}

// DeepSpeed asserts train_batch_size = micro x accumulation x its data-parallel world.
void CheckDeepSpeed(const Specs& s, const Plan& p) {
  const nlohmann::json c = nlohmann::json::parse(DeepSpeedConfig(s, p));
  const int64_t dp = s.cluster.gpus / (static_cast<int64_t>(p.tp) * p.pp * p.cp);
  EXPECT_EQ(c["train_batch_size"].get<int64_t>(),
            c["train_micro_batch_size_per_gpu"].get<int64_t>() *
                c["gradient_accumulation_steps"].get<int64_t>() * dp);
  EXPECT_EQ(c["train_batch_size"].get<int64_t>(), s.setup.global_batch);
}

// launch.sh's comment: "#   G = micro x dp x accum" and, with TP = PP = 1,
// "#   G = accum x nnodes x nproc_per_node x micro".
void CheckLaunch(const Specs& s, const Plan& p) {
  const std::string text = LaunchScript(s, p);
  const std::regex three(R"(#   (\d+) = (\d+) x (\d+) x (\d+)\n)");
  const std::regex four(R"(#   (\d+) = (\d+) x (\d+) x (\d+) x (\d+)\n)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, three)) << text;
  EXPECT_EQ(std::stoll(m[1]), s.setup.global_batch);
  EXPECT_EQ(std::stoll(m[1]), std::stoll(m[2]) * std::stoll(m[3]) * std::stoll(m[4]));
  EXPECT_EQ(std::stoll(m[2]), p.micro_batch);
  EXPECT_EQ(std::stoll(m[3]), s.cluster.gpus / (static_cast<int64_t>(p.tp) * p.pp * p.cp));
  const bool data_parallel_only = p.tp == 1 && p.pp == 1 && p.cp == 1;
  EXPECT_EQ(std::regex_search(text, m, four), data_parallel_only) << text;
  if (data_parallel_only) {
    const NodeLayout n = NodesFor(s.cluster);
    EXPECT_EQ(std::stoll(m[1]), s.setup.global_batch);
    EXPECT_EQ(std::stoll(m[2]), p.grad_accum);
    EXPECT_EQ(std::stoll(m[3]), n.nnodes);
    EXPECT_EQ(std::stoll(m[4]), n.nproc_per_node);
    EXPECT_EQ(std::stoll(m[5]), p.micro_batch);
    EXPECT_EQ(std::stoll(m[1]),
              std::stoll(m[2]) * std::stoll(m[3]) * std::stoll(m[4]) * std::stoll(m[5]));
  }
}

void CheckSearch(const Specs& s, SearchOptions options = {.top = 50}) {
  const SearchResult r = Search(s.model, s.cluster, s.setup, options);
  ASSERT_FALSE(r.plans.empty()) << s.model.name;
  for (const Evaluation& e : r.plans) {
    SCOPED_TRACE(s.model.name + ": " + MegatronArgsFile(s, e.plan));
    CheckMegatron(s, e.plan);
    CheckDeepSpeed(s, e.plan);
    CheckLaunch(s, e.plan);
  }
}

TEST(EmitBatch, IdentityHoldsForLlama2_70bOn2048Rtx4090) {
  CheckSearch(MakeSpecs("llama2-70b", "rtx-4090", 2048));
}

TEST(EmitBatch, IdentityHoldsForGpt3_175bOn1024A100) {
  CheckSearch(MakeSpecs("gpt3-175b", "a100-80gb", 1024));
}

TEST(EmitBatch, IdentityHoldsForDataParallelOnlyLlama2_7bOn64A100) {
  // Llama 2 7B fits one A100 80GB with ZeRO: the search keeps TP = PP = 1 plans among its best.
  CheckSearch(MakeSpecs("llama2-7b", "a100-80gb", 64));
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  CheckLaunch(s, Complete(s, {.micro_batch = 2, .zero_stage = 3}));
}

TEST(EmitBatch, IdentityHoldsForExpertAndContextParallelMixtral) {
  CheckSearch(MakeSpecs("mixtral-8x7b", "h100-sxm", 256), {.top = 50, .max_context_parallel = 4});
}

}  // namespace
}  // namespace planner
