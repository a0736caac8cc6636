// Launch files that run as written on a real cluster (issue #15): checkpoint flags and the NCCL
// settings a site fills as marked placeholders, the NCCL settings the plan implies, and the
// sbatch resources.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>

#include "emit_fixtures.h"

namespace planner {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Plans as `planner evaluate` states them, on 2048 RTX 4090s (256 nodes, no peer-to-peer), on one
// node of H100s, and on 4 nodes of H100s.
Snippets Consumer2048() {
  const Specs s = MakeSpecs("llama2-70b", "rtx-4090", 2048);
  return Emit(s, {.plan = Complete(s, {.tp = 2, .pp = 8, .zero_stage = 1})});
}
Snippets OneNodeH100() {
  const Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  return Emit(s, {.plan = Complete(s, {.tp = 2})});
}
Snippets FourNodesH100() {
  const Specs s = MakeSpecs("llama3-8b", "h100-sxm", 32);
  return Emit(s, {.plan = Complete(s, {.tp = 2})});
}

TEST(LaunchFiles, CheckpointsSaveAndResumeFromAMarkedPlaceholder) {
  const std::set<std::string> megatron = LoadNameList("megatron-lm-flags.txt");
  const Snippets n = FourNodesH100();
  for (const std::string* script : {&n.megatron_sh, &n.deepspeed_sh}) {
    // The run stops until CHECKPOINT_DIR is set; a restart resumes from the same directory.
    EXPECT_TRUE(Contains(*script, "--save \"${CHECKPOINT_DIR:?set CHECKPOINT_DIR")) << *script;
    EXPECT_TRUE(Contains(*script, "--load \"$CHECKPOINT_DIR\"")) << *script;
    EXPECT_TRUE(Contains(*script, "--save-interval \"${SAVE_INTERVAL:-1000}\"")) << *script;
  }
  // Megatron-LM's parser (../shared/fixtures/megatron-lm-flags.txt) knows all three.
  for (const char* flag : {"--save", "--load", "--save-interval"}) {
    EXPECT_TRUE(megatron.contains(flag)) << flag;
  }
}

TEST(LaunchFiles, AcrossNodesTheScriptsStopUntilTheSiteSetsNcclsInterfaces) {
  for (const Snippets& n : {FourNodesH100(), Consumer2048()}) {
    for (const std::string* script : {&n.megatron_sh, &n.deepspeed_sh}) {
      EXPECT_TRUE(Contains(*script, "export NCCL_IB_HCA=${NCCL_IB_HCA:?placeholder")) << *script;
      EXPECT_TRUE(Contains(*script, "export NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:?placeholder"))
          << *script;
    }
  }
  // One node: NCCL needs neither, so the smoke test (MOCK_DATA=1) runs with nothing set.
  const Snippets one = OneNodeH100();
  EXPECT_FALSE(Contains(one.megatron_sh, "NCCL_IB_HCA")) << one.megatron_sh;
  EXPECT_FALSE(Contains(one.megatron_sh, "NCCL_SOCKET_IFNAME")) << one.megatron_sh;
}

TEST(LaunchFiles, CardsWithoutPeerToPeerDisableNcclP2p) {
  // The RTX 4090 has no peer-to-peer between cards (catalog: p2p false); the H100 has NVLink.
  ASSERT_FALSE(FindGpu(BuiltinCatalog(), "rtx-4090", "gpu").p2p);
  const Snippets consumer = Consumer2048();
  EXPECT_TRUE(Contains(consumer.megatron_sh, "export NCCL_P2P_DISABLE=1")) << consumer.megatron_sh;
  EXPECT_TRUE(Contains(consumer.deepspeed_sh, "export NCCL_P2P_DISABLE=1"));
  EXPECT_TRUE(Contains(consumer.bridge_sh, "export NCCL_P2P_DISABLE=1"));
  EXPECT_FALSE(Contains(FourNodesH100().megatron_sh, "NCCL_P2P_DISABLE"));
}

TEST(LaunchFiles, SbatchAsksForCoresAndWholeNodes) {
  // 8 GPUs a node, 8 cores each (kCpusPerGpu): one task per node holds all 8 processes.
  const Snippets n = FourNodesH100();
  EXPECT_TRUE(Contains(n.launch_sh, "\n#SBATCH --nodes=4\n")) << n.launch_sh;
  EXPECT_TRUE(Contains(n.launch_sh, "\n#SBATCH --cpus-per-task=64  # placeholder")) << n.launch_sh;
  EXPECT_TRUE(Contains(n.launch_sh, "\n#SBATCH --exclusive\n")) << n.launch_sh;
}

TEST(LaunchFiles, RunsTheFrameworksOwnScriptAndStopsWhenItIsMissing) {
  // NeMo's files are Megatron-Bridge's, DeepSpeed's deepspeed.sh, the rest Megatron-LM's.
  Specs s = MakeSpecs("llama3-8b", "h100-sxm", 8);
  const Plan p = Complete(s, {.tp = 2});
  EXPECT_TRUE(Contains(LaunchScript(s, p), "FRAMEWORK=${FRAMEWORK:-megatron}\n"));
  s.setup.framework = Framework::kNemo;
  EXPECT_TRUE(Contains(LaunchScript(s, p), "FRAMEWORK=${FRAMEWORK:-bridge}\n"));
  s.setup.framework = Framework::kDeepSpeed;
  EXPECT_TRUE(Contains(LaunchScript(s, p), "FRAMEWORK=${FRAMEWORK:-deepspeed}\n"));
  // Alone in a directory (no deepspeed.sh), it says so and exits 2 before asking Slurm anything.
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "launch_alone";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "launch.sh") << LaunchScript(s, p);
  const std::string run = "cd " + dir.string() + " && bash launch.sh 2> err.txt";
  EXPECT_EQ(WEXITSTATUS(std::system(run.c_str())), 2);
  EXPECT_TRUE(Contains(ReadText((dir / "err.txt").string()), "launch.sh: no deepspeed.sh in "));
}

TEST(LaunchFiles, EveryScriptParsesAsBash) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "launch_files_bash";
  fs::create_directories(dir);
  for (const Snippets& n : {Consumer2048(), OneNodeH100(), FourNodesH100()}) {
    for (const std::string* script :
         {&n.megatron_sh, &n.deepspeed_sh, &n.launch_sh, &n.bridge_sh}) {
      const fs::path path = dir / "script.sh";
      std::ofstream(path) << *script;
      // bash -n reads the whole script (the arrays with comments inside) without running it.
      EXPECT_EQ(std::system(("bash -n " + path.string()).c_str()), 0) << *script;
    }
  }
}

}  // namespace
}  // namespace planner
