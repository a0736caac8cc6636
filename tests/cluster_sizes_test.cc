// --max-gpus: the cluster sizes searched, their order, and the size the command line chooses.
#include <gtest/gtest.h>

#include <sstream>

#include "planner/cli/cli.h"
#include "test_util.h"
#include "planner/input/catalog.h"
#include "planner/input/specs.h"
#include "planner/search/cluster_sizes.h"

namespace planner {
namespace {

TEST(ClusterSizes, EveryCountInOneNodeThenWholeNodes) {
  EXPECT_EQ(ClusterSizes(20, 8), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 16}));
  EXPECT_EQ(ClusterSizes(3, 8), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ClusterSizes(12, 4), (std::vector<int64_t>{1, 2, 3, 4, 8, 12}));
}

TEST(ClusterSizes, SizesRankByTokensPerGpuAndInfeasibleLast) {
  // llama2-7b with Adam in bf16 keeps 16 bytes per parameter (2 weights + 2 gradients + 12 fp32
  // master and moments, formulas.md section 2): 6.7e9 x 16 B = 100 GiB > 80 GiB of one H100,
  // so 1 GPU has no plan and ranks last; 2 or more do.
  const Specs s =
      BuildSpecs(SpecInput{.model = "llama2-7b", .gpu = "h100-sxm", .gpus = 8}, BuiltinCatalog());
  const std::vector<SizedSearch> sizes =
      SearchClusterSizes(s.model, s.cluster, s.setup, SearchOptions{.top = 1}, 16);
  ASSERT_EQ(sizes.size(), 9u);  // 1..8 and 16
  EXPECT_EQ(sizes.back().gpus, 1);
  EXPECT_TRUE(sizes.back().result.plans.empty());
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    ASSERT_FALSE(sizes[i].result.plans.empty()) << sizes[i].gpus << " GPUs";
    EXPECT_GE(sizes[i].tokens_per_s_per_gpu(), sizes[i + 1].tokens_per_s_per_gpu());
  }
  // Each size's answer is the plain search's at that count.
  Cluster c = s.cluster;
  c.gpus = sizes.front().gpus;
  const SearchResult plain = Search(s.model, c, s.setup, SearchOptions{.top = 1});
  ASSERT_FALSE(plain.plans.empty());
  EXPECT_EQ(plain.plans.front().plan, sizes.front().result.plans.front().plan);
  EXPECT_DOUBLE_EQ(plain.plans.front().tokens_per_s,
                   sizes.front().result.plans.front().tokens_per_s);
}


TEST(ClusterSizes, CommandLineShowsTheChosenSizeAndSearchesIt) {
  const Outcome r = Cli({"--model", "llama2-7b", "--gpu", "h100-sxm", "--max-gpus", "16",
                         "--gpu-hour-cost", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Cluster sizes up to 16 GPUs: 9 searched"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Chosen: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cost/1M tok"), std::string::npos) << r.out;
  // The sizes' section (up to the first blank line) fits 80 columns.
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line) && !line.empty();) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

TEST(ClusterSizes, MaxGpusWithGpusOrPastTheLimitIsAUsageError) {
  Outcome r = Cli({"--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--max-gpus", "16"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--max-gpus"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
  r = Cli({"--model", "llama2-7b", "--gpu", "h100-sxm", "--max-gpus", "0"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--max-gpus"), std::string::npos) << r.err;
  // 8 GPUs a node up to 100,000: 12,507 sizes, more than a search answers in a minute.
  r = Cli({"--model", "llama2-7b", "--gpu", "h100-sxm", "--max-gpus", "100000"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("12507 cluster sizes"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace planner
