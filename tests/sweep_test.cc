// Sweep files: expansion counts, error places, shards, resume after a torn line, merge checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "planner/model/error.h"
#include "planner/sweep/sweep.h"
#include "planner/sweep/sweep_store.h"
#include "test_util.h"

namespace planner {
namespace {


std::vector<Scenario> Expand(const SweepSpec& spec) {
  return ExpandScenarios(spec, LoadSweepCatalog(spec));
}

// 2 models x 3 GPUs x 2 counts x 2 networks = 24 from the grid, then 2 listed: 26. Small models
// and counts so that a whole run takes a fraction of a second.
const char* const kSmallSweep = R"({
  "models": ["llama2-7b", "llama3-8b"],
  "gpus": ["a100-80gb", "h100-sxm", "4090"],
  "gpu_counts": [16, 32],
  "inter_links": ["ib-hdr", "ib-ndr"],
  "prices": {"h100-sxm": 2.5},
  "train_tokens": 1e11,
  "scenarios": [
    {"model": "llama2-13b", "gpu": "h200", "gpus": 16, "global_batch": 256},
    {"model": "gpt3-175b", "gpu": "rtx-4090", "gpus": 8, "price_per_gpu_hour": 0.4}
  ]
})";

TEST(SweepInput, GridIsTheCartesianProductThenTheListedScenarios) {
  const std::vector<Scenario> s = Expand(ParseSweepJson(kSmallSweep, "t.json"));
  ASSERT_EQ(s.size(), 2u * 3 * 2 * 2 + 2);
  // Models outermost, the last axis turning fastest.
  EXPECT_EQ(s[0].source, "models[0] gpus[0] gpu_counts[0] inter_links[0]");
  EXPECT_EQ(s[1].source, "models[0] gpus[0] gpu_counts[0] inter_links[1]");
  EXPECT_EQ(s[1].specs.cluster.inter.name, "ib-ndr");
  EXPECT_EQ(s[12].specs.model.name, "llama3-8b");
  EXPECT_EQ(s[24].source, "scenarios[0]");
  EXPECT_EQ(s[24].specs.setup.global_batch, 256);
  std::set<std::string> ids;
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].index, static_cast<int64_t>(i));
    ids.insert(s[i].id);
  }
  EXPECT_EQ(ids.size(), s.size());
  // Prices by GPU from "prices", or the scenario's own.
  EXPECT_EQ(s[4].specs.cluster.gpu.name, "h100-sxm");
  EXPECT_EQ(s[4].price_per_gpu_hour, 2.5);
  EXPECT_EQ(s[0].price_per_gpu_hour, 0);
  EXPECT_EQ(s[25].price_per_gpu_hour, 0.4);
}

TEST(SweepInput, ExampleHas288DistinctScenarios) {
  // 4 models x 6 GPU types x 6 GPU counts x 2 networks, as examples/sweep-288/README.md says.
  const SweepSpec spec = ParseSweepFile(PLANNER_SOURCE_DIR "/examples/sweep-288/sweep.json");
  const std::vector<Scenario> s = Expand(spec);
  EXPECT_EQ(s.size(), 288u);
  std::set<std::string> ids;
  for (const Scenario& one : s) ids.insert(one.id);
  EXPECT_EQ(ids.size(), 288u);
}

TEST(SweepInput, HashIgnoresLayoutButNotContent) {
  const SweepSpec a =
      ParseSweepJson(R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [8]})", "a");
  const SweepSpec b =
      ParseSweepJson("{\"gpu_counts\":[8],\n \"gpus\":[\"h200\"],\"models\":[\"llama3-8b\"]}", "b");
  const SweepSpec c =
      ParseSweepJson(R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [16]})", "c");
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_NE(a.hash, c.hash);
}

TEST(SweepInput, BadEntriesNameTheirJsonPath) {
  struct Case {
    const char* json;
    const char* where;
    const char* message;  // a part of it
  };
  const Case cases[] = {
      {R"({"models": ["llama3-8b"], "gpus": ["a100-80gb", "h1000"], "gpu_counts": [64]})",
       "t.json: gpus[1]", "unknown GPU 'h1000'; did you mean"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [64, 0]})",
       "t.json: gpu_counts[1]", "expected a positive integer, got 0"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_count": [64]})", "t.json: gpu_count",
       "unknown key; did you mean gpu_counts?"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"]})", "t.json: gpu_counts",
       "a grid needs models, gpus and gpu_counts"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [64, 64]})",
       "t.json: gpu_counts[1]", "repeats gpu_counts[0]"},
      {R"({"models": ["llama3-8b"], "gpus": ["4090", "rtx-4090"], "gpu_counts": [64]})",
       "t.json: gpus[1]", "is gpus[0] again"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [64],
           "inter_links": ["ib-ndr", "ib-qdr"]})",
       "t.json: inter_links[1]", "unknown link 'ib-qdr'"},
      {R"({"models": ["llama3-8b"], "gpus": ["a100-80gb"], "gpu_counts": [64],
           "precision": "fp8"})",
       "t.json: precision", "has no fp8"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [64],
           "gpus_per_node": [8, 2048]})",
       "t.json: gpus_per_node[1]", "at most 1024"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [64], "prices": {"h1000": 2}})",
       "t.json: prices.h1000", "unknown GPU"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpus": 64}]})", "t.json: scenarios[0].gpu",
       "missing required key 'gpu'"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 8, "gpus_per_nod": 4}]})",
       "t.json: scenarios[0].gpus_per_nod", "did you mean gpus_per_node?"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 8},
                         {"model": "llama3-8b", "gpu": "h200", "gpus": 8,
                          "inter_link": "ib-xdrr"}]})",
       "t.json: scenarios[1].inter_link", "unknown link 'ib-xdrr'"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 8, "optimizer": "adam"}]})",
       "t.json: scenarios[0].optimizer", "unknown value 'adam'"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 8},
                         {"model": "llama3-8b", "gpu": "h200", "gpus": 8, "gpus_per_node": 8}]})",
       "t.json: scenarios[1]", "same inputs as scenarios[0]"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [64], "top": 0})",
       "t.json: top", "expected a positive integer"},
      {R"({"models": "llama3-8b", "gpus": "h200", "gpu_counts": 8, "scenarios": []})",
       "t.json: scenarios", "non-empty array"},
      {R"({"models": ["llama\n3"], "gpus": ["h200"], "gpu_counts": [8]})", "t.json: models[0]",
       "control characters"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [8], "pri\nces": 1})",
       "t.json: \"pri\\nces\"", "unknown key"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [8], "train_tokens": 1e300})",
       "t.json: train_tokens", "expected a positive number up to 1e+18"},
      {R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [8], "prices": {"h200": 1e300}})",
       "t.json: prices.h200", "expected a positive number up to 1e+06"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 8,
                          "price_per_gpu_hour": 1e300}]})",
       "t.json: scenarios[0].price_per_gpu_hour", "up to 1e+06"},
      {R"({"models": ["llama3-8b"], "gpus": ["gb200"], "gpu_counts": [64],
           "host_memory": "lots"})",
       "t.json: host_memory", "lots"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "gb200", "gpus": 64, "gpus_per_node": 4,
                          "scale_up_domain": 6}]})",
       "t.json: scenarios[0].scale_up_domain", "multiple of --gpus-per-node (4)"},
      {R"({"scenarios": [{"model": "llama3-8b", "gpu": "gb200", "gpus": 64,
                          "host_memory": 960}]})",
       "t.json: scenarios[0].host_memory", "expected"},
      {R"({"description": "nothing to do"})", "t.json", "no scenarios"},
      {R"({"models": ["llama3-8b"],)", "t.json", "malformed JSON"},
  };
  for (const Case& c : cases) {
    const InputError e = ErrorOf([&] { Expand(ParseSweepJson(c.json, "t.json")); });
    EXPECT_EQ(e.where(), c.where) << c.json;
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
  }
}

// A JSON array of `n` distinct positive integers from `first`.
std::string Counts(int64_t first, int64_t n) {
  std::string a = "[";
  for (int64_t i = 0; i < n; ++i) a += (i ? "," : "") + std::to_string(first + i);
  return a + "]";
}

// The cap is grid points plus listed scenarios (it was their product: 0 for a grid alone, so an
// 11M grid ran out of memory, and a 4M grid with 3 listed scenarios was refused).
TEST(SweepInput, ScenarioCapCountsGridPlusListedBeforeExpanding) {
  const std::string grid_11m = R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": )" +
                               Counts(1, 1100) + R"(, "seq_lens": )" + Counts(1, 100) +
                               R"(, "global_batches": )" + Counts(1, 100) + "}";
  const SweepSpec big = ParseSweepJson(grid_11m, "big.json");
  EXPECT_GT(CountScenarios(big), kMaxScenarios);
  const InputError e = ErrorOf([&] { Expand(big); });
  EXPECT_EQ(e.where(), "big.json");
  EXPECT_NE(std::string(e.what()).find("11000000 scenarios (11000000 from the grid + 0 listed)"),
            std::string::npos) << e.what();

  const std::string grid_4m_and_3 =
      R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": )" + Counts(1, 400) +
      R"(, "seq_lens": )" + Counts(1, 100) + R"(, "global_batches": )" + Counts(1, 100) +
      R"(, "scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 1000},
                         {"model": "llama3-8b", "gpu": "h200", "gpus": 1001},
                         {"model": "llama3-8b", "gpu": "h200", "gpus": 1002}]})";
  EXPECT_EQ(CountScenarios(ParseSweepJson(grid_4m_and_3, "ok.json")), 4'000'003);
  const SweepSpec listed = ParseSweepJson(
      R"({"scenarios": [{"model": "llama3-8b", "gpu": "h200", "gpus": 8}]})", "l.json");
  EXPECT_EQ(CountScenarios(listed), 1);
}

// Duplicates on a long axis are found by sorting, not by comparing every pair.
TEST(SweepInput, RepeatOnALongAxisNamesBothEntries) {
  const std::string text = R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": )" +
                           Counts(1, 40'000).insert(1, "39999,") + "}";
  const InputError e = ErrorOf([&] { ParseSweepJson(text, "t.json"); });
  // 39999 first, then 1, 2, ..., 39999 again at the end.
  EXPECT_EQ(e.where(), "t.json: gpu_counts[39999]");
  EXPECT_NE(std::string(e.what()).find("repeats gpu_counts[0]"), std::string::npos) << e.what();
}

TEST(SweepShard, ThreePartsAreDisjointAndCoverEveryScenario) {
  const Shard parts[] = {ParseShard("1/3"), ParseShard("2/3"), ParseShard("3/3")};
  for (int64_t i = 0; i < 1000; ++i) {
    int owners = 0;
    for (const Shard& p : parts) owners += InShard(p, i) ? 1 : 0;
    EXPECT_EQ(owners, 1) << "scenario " << i;
  }
  EXPECT_TRUE(InShard(parts[0], 0));  // scenario i is in part i % N + 1
  EXPECT_TRUE(InShard(parts[2], 5));
  for (const char* bad : {"0/3", "4/3", "3", "1/0", "a/b", "1/3x", "-1/3", ""}) {
    EXPECT_EQ(ErrorOf([&] { ParseShard(bad); }).where(), "--shard") << bad;
  }
}

// Host memory and the NVLink domain, which no grid axis states, are settings of the file or of
// a listed scenario: they reach the cluster, tell two scenarios apart and are in the results.
TEST(SweepInput, HostMemoryAndScaleUpDomainReachTheCluster) {
  const SweepSpec spec = ParseSweepJson(R"({
    "host_memory": "480Gi",
    "scenarios": [
      {"model": "llama3-70b", "gpu": "gb200", "gpus": 64, "gpus_per_node": 4},
      {"model": "llama3-70b", "gpu": "gb200", "gpus": 64, "gpus_per_node": 4,
       "host_memory": "960Gi", "scale_up_domain": 8}]})",
                                        "t.json");
  const std::vector<Scenario> s = Expand(spec);
  ASSERT_EQ(s.size(), 2u);
  constexpr double kGi = 1073741824.0;
  EXPECT_DOUBLE_EQ(s[0].specs.cluster.HostBytesPerNode(), 480 * kGi);
  EXPECT_EQ(s[0].specs.cluster.ScaleUpDomain(), 72);  // the GB200's own NVL72 domain
  EXPECT_DOUBLE_EQ(s[1].specs.cluster.HostBytesPerNode(), 960 * kGi);
  EXPECT_EQ(s[1].specs.cluster.ScaleUpDomain(), 8);
  const auto line = nlohmann::json::parse(ScenarioLine(
      spec, s[1], Search(s[1].specs.model, s[1].specs.cluster, s[1].specs.setup, spec.options)));
  EXPECT_EQ(line["inputs"]["scale_up_gpus"], 8);
  EXPECT_EQ(line["inputs"]["host_bytes_per_node"], 960 * kGi);
  const std::string csv = SummaryCsv({ResultLine{.text = line.dump()}});
  EXPECT_NE(csv.find("nics_per_node,scale_up_gpus,host_bytes_per_node,"), std::string::npos);
  EXPECT_NE(csv.find(",4,8,1030792151040.0,"), std::string::npos) << csv;
}

TEST(SweepLine, CarriesInputsAndBestOrReasonButNoTimings) {
  const SweepSpec spec = ParseSweepJson(kSmallSweep, "t.json");
  const std::vector<Scenario> s = Expand(spec);
  // gpt3-175b on 8 RTX 4090 cards (24 GiB each) cannot hold its 175e9 parameters' AdamW states.
  const Scenario& too_small = s[25];
  const auto line = nlohmann::json::parse(ScenarioLine(
      spec, too_small,
      Search(too_small.specs.model, too_small.specs.cluster, too_small.specs.setup, spec.options)));
  EXPECT_EQ(line["scenario"], 25);
  EXPECT_EQ(line["inputs"]["gpu"], "rtx-4090");
  EXPECT_EQ(line["inputs"]["price_per_gpu_hour"], 0.4);
  EXPECT_TRUE(line["best"].is_null());
  EXPECT_EQ(line["reason"].get<std::string>().rfind("No feasible plan", 0), 0u);
  EXPECT_FALSE(line["search"].contains("seconds"));
  EXPECT_FALSE(line["search"].contains("threads"));

  const Scenario& fits = s[4];  // llama2-7b on 16 H100s
  const auto ok = nlohmann::json::parse(ScenarioLine(
      spec, fits, Search(fits.specs.model, fits.specs.cluster, fits.specs.setup, spec.options)));
  EXPECT_TRUE(ok["best"].is_object());
  EXPECT_FALSE(ok.contains("reason"));
  EXPECT_EQ(ok["runners_up"].size(), 2u);  // top 3 by default
  EXPECT_GT(ok["best"]["train_cost"].get<double>(), 0);
}

}  // namespace
}  // namespace planner

namespace planner {
namespace {

// The set keeps ids, not scenarios: each one computed again on demand is the scenario a kept
// expansion holds, field for field, grid points and listed scenarios alike.
TEST(SweepSet, ScenarioComputedOnDemandEqualsTheExpandedOne) {
  const SweepSpec spec = ParseSweepJson(kSmallSweep, "small.json");
  const ScenarioSet set(spec, LoadSweepCatalog(spec));
  const std::vector<Scenario> kept = Expand(spec);
  ASSERT_EQ(set.size(), 26);
  ASSERT_EQ(kept.size(), 26u);
  const std::vector<std::string> ids = set.Ids();
  for (int64_t i = 0; i < set.size(); ++i) {
    const Scenario s = set.At(i);
    const Scenario& k = kept[static_cast<size_t>(i)];
    EXPECT_EQ(s.index, i);
    EXPECT_EQ(s.source, k.source);
    EXPECT_EQ(s.id, k.id);
    EXPECT_EQ(s.id, ids[static_cast<size_t>(i)]);
    EXPECT_EQ(s.price_per_gpu_hour, k.price_per_gpu_hour);
    EXPECT_EQ(s.specs.cluster.gpus, k.specs.cluster.gpus);
  }
  // Grid order: models outermost, inter_links innermost (2 x 3 x 2 x 2): scenario 13 is
  // models[1] gpus[0] gpu_counts[0] inter_links[1]; the listed ones follow the 24 grid points.
  EXPECT_EQ(set.At(13).source, "models[1] gpus[0] gpu_counts[0] inter_links[1]");
  EXPECT_EQ(set.At(24).source, "scenarios[0]");
  // h100-sxm is priced by the file's "prices"; the second listed scenario by its own price.
  EXPECT_EQ(set.At(4).source, "models[0] gpus[1] gpu_counts[0] inter_links[0]");
  EXPECT_DOUBLE_EQ(set.At(4).price_per_gpu_hour, 2.5);
  EXPECT_DOUBLE_EQ(set.At(25).price_per_gpu_hour, 0.4);
}

// Repeats are found by sorting the ids; the error is still at the first scenario that repeats an
// earlier one, naming that one, as a scan in order found it.
TEST(SweepSet, FirstRepeatInOrderIsReported) {
  const SweepSpec spec = ParseSweepJson(R"({"scenarios": [
      {"model": "llama3-8b", "gpu": "h200", "gpus": 16},
      {"model": "llama2-7b", "gpu": "h200", "gpus": 16},
      {"model": "llama2-7b", "gpu": "h200", "gpus": 8},
      {"model": "LLAMA2-7B", "gpu": "h200", "gpus": 16},
      {"model": "llama3-8b", "gpu": "h200", "gpus": 16}]})", "r.json");
  const InputError e = ErrorOf([&] { ScenarioSet(spec, LoadSweepCatalog(spec)); });
  EXPECT_EQ(e.where(), "r.json: scenarios[3]");
  EXPECT_NE(std::string(e.what()).find("same inputs as scenarios[1]"), std::string::npos)
      << e.what();
}

}  // namespace
}  // namespace planner

namespace planner {
namespace {

// Scenarios are checked in parallel; the error is still the first bad one in order. 12 and 20
// GPUs are not whole nodes of 8 (input/specs.cc), at gpu_counts[1500] and [2500], far apart.
TEST(SweepSet, ParallelCheckReportsTheFirstBadScenarioInOrder) {
  std::string counts = "[";
  for (int i = 0; i < 3000; ++i) {
    const int gpus = i == 1500 ? 12 : i == 2500 ? 20 : 8 * (i + 3);
    counts += (i ? "," : "") + std::to_string(gpus);
  }
  const SweepSpec spec = ParseSweepJson(
      R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": )" + counts + "]}", "p.json");
  for (int run = 0; run < 3; ++run) {
    const InputError e = ErrorOf([&] { ScenarioSet(spec, LoadSweepCatalog(spec)); });
    EXPECT_EQ(e.where(), "p.json: gpu_counts[1500]") << e.what();
  }
}

}  // namespace
}  // namespace planner
