// The sizes the issue names, at their extremes: 1 and 1,000,000 GPUs, a prime GPU count,
// sequences of 1M tokens, global batches of 10M sequences, models of 10T parameters. Each is
// answered with finite figures and plans that use every GPU, or refused naming its flag.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "planner/model/error.h"
#include "planner/model/model.h"

namespace planner {
namespace {

using nlohmann::json;

struct Answer {
  int rc = -1;
  json doc;
  std::string err;
};

// `planner ARGS --format json --threads 1`, parsed.
Answer Ask(std::vector<std::string> args) {
  args.insert(args.end(), {"--format", "json"});
  if (args[0] != "memory" && args[0] != "evaluate") args.insert(args.end(), {"--threads", "1"});
  std::ostringstream out, err;
  Answer a;
  a.rc = RunCli(args, out, err);
  a.err = err.str();
  if (a.rc == 0 || a.rc == 1) a.doc = json::parse(out.str());
  return a;
}

// Every number in the output is finite: JSON has no NaN or infinity, nlohmann writes them as
// null, so a null where a figure belongs shows as a non-number here.
void ExpectFiniteFigures(const json& j, const std::string& path = "") {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) ExpectFiniteFigures(value, path + "." + key);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      ExpectFiniteFigures(j[i], path + "[" + std::to_string(i) + "]");
  } else if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << path;
  } else if (j.is_null() && path.find("min_shortfall") == std::string::npos) {
    ADD_FAILURE() << path << " is null";
  }
}

void ExpectPlansUse(const json& doc, int64_t gpus) {
  for (const json& p : doc["plans"]) {
    EXPECT_EQ(p["tp"].get<int64_t>() * p["cp"].get<int64_t>() * p["pp"].get<int64_t>() *
                  p["dp"].get<int64_t>(),
              gpus);
    EXPECT_LE(p["memory_bytes"]["total"].get<double>(), p["capacity_bytes"].get<double>());
  }
}

TEST(Limits, OneGpu) {
  const Answer a = Ask({"--model", "llama3-8b", "--gpus", "1", "--gpu", "h200", "--seq-len", "2048",
                        "--global-batch", "8"});
  ASSERT_EQ(a.rc, 0) << a.err;
  ExpectFiniteFigures(a.doc);
  ExpectPlansUse(a.doc, 1);
}

TEST(Limits, AMillionGpus) {
  // 10^6 = 2^6 5^6: tp 8 x pp 5 x dp 25000 and others split it; 4M sequences give dp ranks
  // whole micro-batches.
  const Answer a = Ask({"--model", "gpt3-175b", "--gpus", "1000000", "--gpu", "h100-sxm",
                        "--global-batch", "4000000"});
  ASSERT_EQ(a.rc, 0) << a.err;
  ASSERT_FALSE(a.doc["plans"].empty());
  ExpectFiniteFigures(a.doc);
  ExpectPlansUse(a.doc, 1'000'000);
}

TEST(Limits, APrimeGpuCountSplitsOnlyIntoDataParallelRanks) {
  // 2039 is prime: the only split is tp = cp = pp = 1, dp = 2039, which a global batch of 2039
  // sequences allows; ZeRO-3 shards Llama 2 70B's 16 bytes per parameter over the 2039 ranks.
  const Answer a = Ask(
      {"--model", "llama2-70b", "--gpus", "2039", "--gpu", "h100-sxm", "--global-batch", "2039",
       "--gpus-per-node", "1"});  // 2039 is not whole nodes of 8
  ASSERT_TRUE(a.rc == 0 || a.rc == 1) << a.err;
  ExpectFiniteFigures(a.doc);
  for (const json& p : a.doc["plans"]) {
    EXPECT_EQ(p["tp"], 1);
    EXPECT_EQ(p["pp"], 1);
    EXPECT_EQ(p["cp"], 1);
    EXPECT_EQ(p["dp"], 2039);
  }
}

TEST(Limits, SequencesOfAMillionTokens) {
  const Answer a = Ask({"--model", "llama3-8b", "--gpus", "4096", "--gpu", "h200", "--seq-len",
                        "1048576", "--global-batch", "64"});
  ASSERT_TRUE(a.rc == 0 || a.rc == 1) << a.err;
  ExpectFiniteFigures(a.doc);
  ExpectPlansUse(a.doc, 4096);
}

TEST(Limits, GlobalBatchOfTenMillionSequences) {
  const Answer a = Ask({"--model", "llama2-7b", "--gpus", "65536", "--gpu", "h100-sxm",
                        "--global-batch", "10000000", "--seq-len", "1024"});
  ASSERT_TRUE(a.rc == 0 || a.rc == 1) << a.err;
  ExpectFiniteFigures(a.doc);
  ExpectPlansUse(a.doc, 65536);
}

TEST(Limits, MemoryOfTheLargestModelsIsFinite) {
  // 160 layers of 6.1e10 parameters (attention 2h(q + kv), SwiGLU 3hf) and embeddings: 9.8e12,
  // under the 10^13 limit, so this model is answered.
  Model m{.name = "ten-t",
          .layers = 160,
          .hidden = 65536,
          .heads = 512,
          .kv_heads = 64,
          .ffn_hidden = 262144,
          .vocab = 256000,
          .seq_len = 1 << 20,
          .mlp = MlpKind::kSwiglu};
  ValidateModel(m, "ten-t");
  EXPECT_GT(CountParameters(m).total, 9e12);
  EXPECT_LE(CountParameters(m).total, ModelLimits::kParameters);
  // 170 layers pass 10^13 and are refused, naming the model.
  m.layers = 170;
  try {
    ValidateModel(m, "ten-t");
    ADD_FAILURE() << "a model over 10T parameters was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "ten-t");
    // Every digit: rounded, it read "1.04e+13 parameters; at most 1e+13".
    EXPECT_NE(std::string(e.what()).find(
                  "10438157402112 parameters (1.044e+13); at most 10000000000000 (10T)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Limits, SizesJustOverTheLimitsAreRefusedNamingTheFlag) {
  struct Row {
    std::vector<std::string> args;
    const char* flag;
  };
  const Row rows[] = {
      {{"--gpus", "1000001"}, "--gpus"},
      {{"--gpus", "8", "--seq-len", "16777217"}, "--seq-len"},
      {{"--gpus", "8", "--global-batch", "10000001"}, "--global-batch"},
      {{"--gpus", "8", "--tokens-per-batch", "41943044096"}, "--tokens-per-batch"},
  };
  for (const Row& row : rows) {
    std::vector<std::string> args = {"--model", "llama2-7b", "--gpu", "h100-sxm"};
    args.insert(args.end(), row.args.begin(), row.args.end());
    const Answer a = Ask(args);
    EXPECT_EQ(a.rc, 2);
    EXPECT_EQ(a.err.rfind(std::string("planner: ") + row.flag + ": ", 0), 0u) << a.err;
    EXPECT_NE(a.err.find("at most"), std::string::npos) << a.err;
  }
}

}  // namespace
}  // namespace planner
