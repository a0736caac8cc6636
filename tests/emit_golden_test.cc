// Golden files: the configuration the two examples' commands write, pinned byte for byte.
//
// Each examples/<name>/command is one `planner evaluate ... --out golden` line for a fixed plan
// (its parallel sizes spelt out, so recalibrating the step-time model does not move it). The test
// runs that command in-process into a temporary directory and compares every file with
// examples/<name>/golden/plan-1/. plan.json is compared without its predictions (memory, time,
// throughput, feasibility), which change whenever the cost models are recalibrated; the plan and
// the inputs in it are compared.
//
// To regenerate after an intended change: PLANNER_UPDATE_GOLDEN=1 ./planner_tests
// --gtest_filter='EmitGolden.*', then review the diff of examples/*/golden.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "emit_fixtures.h"
#include "planner/cli/cli.h"

namespace planner {
namespace {

namespace fs = std::filesystem;

fs::path ExampleDir(const std::string& name) {
  return fs::path(PLANNER_SOURCE_DIR) / "examples" / name;
}

// The words of examples/<name>/command without the leading "planner", --out pointed at `out`.
std::vector<std::string> CommandArgs(const std::string& name, const fs::path& out) {
  std::istringstream words(ReadText((ExampleDir(name) / "command").string()));
  std::vector<std::string> args;
  for (std::string word; words >> word;) {
    if (word == "\\") continue;  // a line continuation
    args.push_back(word);
  }
  EXPECT_FALSE(args.empty());
  EXPECT_EQ(args.front(), "planner");
  args.erase(args.begin());
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--out") args[i + 1] = out.string();
  }
  return args;
}

// plan.json less what the cost models predict.
nlohmann::json WithoutPredictions(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text);
  for (const char* key : {"feasible", "reason", "memory_bytes", "capacity_bytes", "step_s",
                          "time_s", "tokens_per_s", "tokens_per_s_per_gpu", "mfu", "calibration",
                          "range"}) {
    j["plan"].erase(key);
  }
  return j;
}

void CheckGolden(const std::string& name) {
  const fs::path golden = ExampleDir(name) / "golden";
  const bool update = std::getenv("PLANNER_UPDATE_GOLDEN") != nullptr;
  const fs::path out = update ? golden : fs::path(testing::TempDir()) / ("golden-" + name);
  if (!update) fs::remove_all(out);
  std::ostringstream stdout_text, stderr_text;
  ASSERT_EQ(RunCli(CommandArgs(name, out), stdout_text, stderr_text), 0) << stderr_text.str();

  // The files the command's --emit names, as the golden directory holds them.
  const auto names = [](const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
      found.push_back(entry.path().filename().string());
    }
    std::sort(found.begin(), found.end());
    return found;
  };
  const std::vector<std::string> files = names(golden / "plan-1");
  EXPECT_EQ(names(out / "plan-1"), files) << "extra or missing files in " << (out / "plan-1");
  for (const std::string& file : files) {
    const std::string want = ReadText((golden / "plan-1" / file).string());
    const std::string got = ReadText((out / "plan-1" / file).string());
    ASSERT_FALSE(want.empty()) << "no golden " << file << "; run with PLANNER_UPDATE_GOLDEN=1";
    if (file == "plan.json") {
      EXPECT_EQ(WithoutPredictions(got), WithoutPredictions(want)) << name << "/" << file;
    } else {
      EXPECT_EQ(got, want) << name << "/" << file;
    }
  }
}

TEST(EmitGolden, Llama2_70bOn2048Rtx4090) { CheckGolden("llama2-70b-4090"); }

TEST(EmitGolden, Gpt3_175bOn1024A100) { CheckGolden("gpt3-175b-a100"); }

TEST(EmitGolden, Llama3_70bOn64Gb200WithMegatronBridge) { CheckGolden("llama3-70b-gb200-bridge"); }

}  // namespace
}  // namespace planner
