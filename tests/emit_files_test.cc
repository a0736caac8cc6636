// Writing the snippets as files, and the command line's --emit, --out and JSON snippets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "emit_fixtures.h"
#include "planner/cli/cli.h"
#include "planner/model/error.h"

namespace planner {
namespace {

namespace fs = std::filesystem;

fs::path FreshDir(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  return dir;
}

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

struct CliRun {
  int code;
  std::string out, err;
};
CliRun RunPlanner(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

const std::vector<std::string> kSearch = {"--model", "llama2-7b", "--gpu", "a100-80gb",
                                          "--gpus",  "64",        "--top", "3"};

std::vector<std::string> With(std::vector<std::string> args, std::vector<std::string> more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(EmitFiles, WritesEachPlansFilesInRankOrder) {
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  const std::vector<Evaluation> plans = {Evaluation{.plan = Complete(s, {.zero_stage = 1})},
                                         Evaluation{.plan = Complete(s, {.tp = 2})}};
  const fs::path dir = FreshDir("emit-rank");
  WritePlanFiles(dir.string(), s, plans, EmitSet{.megatron = true});
  EXPECT_EQ(Names(dir), (std::vector<std::string>{"plan-1", "plan-2"}));
  EXPECT_EQ(Names(dir / "plan-2"),
            (std::vector<std::string>{"megatron.args", "megatron.sh", "plan.json"}));
  EXPECT_EQ(ReadText((dir / "plan-2" / "megatron.args").string()),
            MegatronArgsFile(s, plans[1].plan));
  const auto perms = fs::status(dir / "plan-1" / "megatron.sh").permissions();
  EXPECT_NE(perms & fs::perms::owner_exec, fs::perms::none);
}

TEST(EmitFiles, AFileThatCannotBeWrittenLeavesNothingHalfWritten) {
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  const fs::path dir = FreshDir("emit-blocked");
  fs::create_directories(dir / "plan-1" / "ds_config.json");  // a directory where the file goes
  try {
    WritePlanFiles(dir.string(), s, {Evaluation{.plan = Complete(s, {})}}, kEmitAll);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "--out");
    EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos);
  }
  // Refused before anything is written: DIR is left as it was, with no temporary file.
  EXPECT_EQ(Names(dir / "plan-1"), (std::vector<std::string>{"ds_config.json"}));
  EXPECT_EQ(Names(dir), (std::vector<std::string>{"plan-1"}));
}

TEST(EmitFiles, OutBesideARegularFileIsAnInputError) {
  const fs::path dir = FreshDir("emit-file");
  fs::create_directories(dir);
  std::ofstream(dir / "taken") << "x";
  const CliRun r = RunPlanner(With(kSearch, {"--out", (dir / "taken").string()}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("planner: --out: cannot write", 0), 0u) << r.err;
}

TEST(EmitFiles, EmitNeedsOutAndKnownNames) {
  CliRun r = RunPlanner(With(kSearch, {"--emit", "megatron"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "planner: --out: is required with --emit\n");
  r = RunPlanner(With(kSearch, {"--emit", "megatron,torchrun", "--out", "x"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("planner: --emit: unknown snippet 'torchrun'", 0), 0u) << r.err;
}

TEST(EmitFiles, OutAloneWritesEverySnippetForEveryPlan) {
  const fs::path dir = FreshDir("emit-cli");
  const CliRun r = RunPlanner(With(kSearch, {"--out", dir.string()}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Names(dir), (std::vector<std::string>{"plan-1", "plan-2", "plan-3"}));
  EXPECT_EQ(Names(dir / "plan-3"),
            (std::vector<std::string>{"bridge.overrides", "bridge.sh", "deepspeed.sh",
                                      "ds_config.json", "launch.sh", "megatron.args",
                                      "megatron.sh", "plan.json"}));
  const CliRun e =
      RunPlanner({"evaluate", "--model", "llama2-7b", "--gpu", "a100-80gb", "--gpus", "64",
                  "--zero", "1", "--emit", "deepspeed", "--out", (dir / "evaluate").string()});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(Names(dir / "evaluate" / "plan-1"),
            (std::vector<std::string>{"deepspeed.sh", "ds_config.json", "plan.json"}));
}

TEST(EmitFiles, JsonPlansCarryTheSnippets) {
  const CliRun r = RunPlanner(With(kSearch, {"--format", "json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  for (const nlohmann::json& plan : j["plans"]) {
    const nlohmann::json& snippets = plan["snippets"];
    const Plan p = Complete(s, {.tp = plan["tp"],
                                .pp = plan["pp"],
                                .cp = plan["cp"],
                                .ep = plan["ep"],
                                .micro_batch = plan["micro_batch"],
                                .recompute = ParseRecompute(plan["recompute"], "recompute"),
                                .zero_stage = plan["zero_stage"],
                                .sequence_parallel = plan["sequence_parallel"],
                                .virtual_stages = plan["virtual_stages"]});
    EXPECT_EQ(snippets["megatron_args"].get<std::vector<std::string>>(), MegatronArgv(s, p));
    EXPECT_EQ(snippets["ds_config"], nlohmann::json::parse(DeepSpeedConfig(s, p)));
    EXPECT_EQ(snippets["launch"].get<std::string>(), LaunchScript(s, p));
  }
}

TEST(EmitFiles, TableShowsTheBestPlansMegatronArguments) {
  const CliRun r = RunPlanner(kSearch);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Megatron-LM arguments of plan 1"), std::string::npos);
  EXPECT_NE(r.out.find("  --tensor-model-parallel-size "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace planner
