// Output directories made whole or not at all: --emit's plan set and a merge's --out are built
// beside and swapped in, a full disk leaves no temporary file, and a reused DIR holds no stale file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "emit_fixtures.h"
#include "planner/model/error.h"
#include "planner/sweep/sweep.h"
#include "test_util.h"

namespace planner {
namespace {

namespace fs = std::filesystem;

fs::path Scratch() {
  return fs::path(testing::TempDir()) / ("planner_out_test_" + std::to_string(::getpid()));
}
class RemoveScratch : public testing::Environment {
 public:
  void TearDown() override { fs::remove_all(Scratch()); }
};
const testing::Environment* const kRemoveScratch =
    testing::AddGlobalTestEnvironment(new RemoveScratch);

fs::path FreshDir(const std::string& name) {
  const fs::path dir = Scratch() / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

// Every path under `dir`, relative, sorted (directories included).
std::vector<std::string> Tree(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    names.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A disk that fills after `bytes` more in any one file: write() fails with EFBIG (SIGXFSZ
// ignored), as it fails with ENOSPC on a full disk. Lifted when the scope ends.
class FullDisk {
 public:
  explicit FullDisk(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit small = old_;
    small.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &small);
  }
  ~FullDisk() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_{};
};


std::vector<Evaluation> SomePlans(const Specs& s, int n) {
  std::vector<Evaluation> plans;
  for (int tp = 1; static_cast<int>(plans.size()) < n; tp *= 2) {
    plans.push_back(Evaluation{.plan = Complete(s, {.tp = tp})});
  }
  return plans;
}

// Reusing DIR for another model and fewer plans: every file is the new model's, and no
// plan-N of the earlier, longer list stays behind.
TEST(EmitOut, ReusedDirectoryHoldsOnlyTheNewSet) {
  const fs::path dir = FreshDir("reuse");
  const Specs big = MakeSpecs("llama2-70b", "a100-80gb", 64);
  WritePlanFiles(dir.string(), big, SomePlans(big, 5), kEmitAll);
  const Specs small = MakeSpecs("llama2-7b", "a100-80gb", 64);
  const std::vector<Evaluation> plans = SomePlans(small, 2);
  WritePlanFiles(dir.string(), small, plans, EmitSet{.megatron = true});
  EXPECT_EQ(Tree(dir), (std::vector<std::string>{
                           "plan-1", "plan-1/megatron.args", "plan-1/megatron.sh",
                           "plan-1/plan.json", "plan-2", "plan-2/megatron.args",
                           "plan-2/megatron.sh", "plan-2/plan.json"}));
  EXPECT_EQ(ReadText((dir / "plan-1" / "megatron.args").string()),
            MegatronArgsFile(small, plans[0].plan));
  for (const std::string& name : Tree(dir.parent_path())) {
    EXPECT_EQ(name.rfind("reuse", 0), 0u) << name << " left beside DIR";
  }
}

TEST(EmitOut, DirectoryWithOtherFilesIsRefusedAndLeftAlone) {
  const fs::path dir = FreshDir("foreign");
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "mine";
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  const InputError e = ErrorOf([&] { WritePlanFiles(dir.string(), s, SomePlans(s, 1), kEmitAll); });
  EXPECT_EQ(e.where(), "--out");
  EXPECT_NE(std::string(e.what()).find("notes.txt"), std::string::npos) << e.what();
  EXPECT_EQ(Tree(dir), (std::vector<std::string>{"notes.txt"}));
}

// A full disk part-way through the set leaves the earlier set whole and nothing beside it (it
// left a plan directory with 2 of its 6 files).
TEST(EmitOut, FullDiskLeavesTheEarlierSetWholeAndNoTemporaryFiles) {
  const fs::path dir = FreshDir("full");
  const Specs s = MakeSpecs("llama2-7b", "a100-80gb", 64);
  WritePlanFiles(dir.string(), s, SomePlans(s, 1), EmitSet{.megatron = true});
  const std::vector<std::string> before = Tree(dir);
  const std::string args = ReadText((dir / "plan-1" / "megatron.args").string());
  const Specs other = MakeSpecs("llama2-13b", "a100-80gb", 64);
  const std::vector<Evaluation> plans = SomePlans(other, 2);
  const Snippets n = Emit(other, plans[0]);
  // megatron.args, written first, fits; a later, longer file of plan-1 does not.
  const size_t fits = n.megatron_args.size();
  ASSERT_GT(std::max({n.megatron_sh.size(), n.ds_config_json.size(), n.deepspeed_sh.size(),
                      n.launch_sh.size(), n.plan_json.size()}),
            fits);
  {
    const FullDisk full(fits);
    const InputError e =
        ErrorOf([&] { WritePlanFiles(dir.string(), other, plans, kEmitAll); });
    EXPECT_EQ(e.where(), "--out");
  }
  EXPECT_EQ(Tree(dir), before);
  EXPECT_EQ(ReadText((dir / "plan-1" / "megatron.args").string()), args);
  for (const auto& e : fs::directory_iterator(dir.parent_path())) {
    EXPECT_EQ(e.path().filename().string().find(".full"), std::string::npos) << "left beside DIR";
  }
}

// 2 models x 2 GPUs x 2 counts: small and quick.
struct Small {
  SweepSpec spec = ParseSweepJson(R"({
    "models": ["llama2-7b", "llama3-8b"],
    "gpus": ["a100-80gb", "h100-sxm"],
    "gpu_counts": [16, 32]
  })", "small.json");
  ScenarioSet scenarios{spec, LoadSweepCatalog(spec)};
};

bool HasTemporary(const fs::path& dir) {
  for (const std::string& name : Tree(dir)) {
    if (name.find(".tmp") != std::string::npos || name.find(".new-") != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(SweepOut, FullDiskLeavesNoTemporaryFilesAndMergeOutAsItWas) {
  const Small small;
  std::vector<std::string> parts;
  for (int k = 1; k <= 2; ++k) {
    parts.push_back(FreshDir("part" + std::to_string(k)).string());
    RunSweep(small.spec, small.scenarios, {.out_dir = parts.back(), .shard = {.k = k, .n = 2}});
  }
  const fs::path merged = FreshDir("merged");
  {
    const FullDisk full(400);  // the manifest fits; results.jsonl does not
    EXPECT_EQ(ErrorOf([&] { MergeSweeps(parts, merged.string()); }).where(), "--out");
  }
  // Nothing half made: --out holds no manifest without its results (the lock file aside).
  EXPECT_FALSE(fs::exists(merged / "manifest.json"));
  EXPECT_FALSE(HasTemporary(merged.parent_path()));
  MergeSweeps(parts, merged.string());
  EXPECT_TRUE(fs::exists(merged / "summary.csv"));

  const fs::path run = FreshDir("run");
  {
    const FullDisk full(400);
    EXPECT_EQ(ErrorOf([&] {
                RunSweep(small.spec, small.scenarios, {.out_dir = run.string(), .threads = 1});
              }).where(),
              "--out");
  }
  EXPECT_FALSE(HasTemporary(run));
}

}  // namespace
}  // namespace planner
