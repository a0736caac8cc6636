// The compiled-in catalog: published parameter counts, and the invariants lookups rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/model/model.h"

namespace planner {
namespace {

Model Builtin(const std::string& name) {
  for (const Model& m : BuiltinModels()) {
    if (m.name == name) return m;
  }
  ADD_FAILURE() << "no built-in model " << name;
  return {};
}

double RelativeError(double got, double want) { return std::abs(got - want) / want; }

std::vector<std::string> SplitAliases(const std::string& aliases) {
  std::vector<std::string> out;
  std::stringstream in(aliases);
  for (std::string a; std::getline(in, a, ',');) {
    if (!a.empty()) out.push_back(a);
  }
  return out;
}

TEST(CatalogModels, EveryModelCountsWithinOnePercentOfPublished) {
  // Published figures rounded more coarsely than 1 %, with the tolerance of their rounding:
  // Llama 4 Scout's 109B includes the vision encoder the text shape leaves out; Kimi K2's 1.04T
  // and Mistral NeMo's 12B are rounded (tests/data/hf/SOURCES.md).
  const std::map<std::string, double> rounded = {
      {"llama4-scout", 0.02}, {"kimi-k2", 0.02}, {"mistral-nemo", 0.04}};
  for (const Model& m : BuiltinModels()) {
    ASSERT_GT(m.published_params, 0) << m.name;
    const double total = CountParameters(m).total;
    const auto wide = rounded.find(m.name);
    EXPECT_LT(RelativeError(total, m.published_params),
              wide == rounded.end() ? 0.01 : wide->second)
        << m.name << ": counted " << total / 1e9 << "B, published " << m.published_params / 1e9
        << "B";
  }
}

TEST(CatalogModels, Llama2_70bMatchesReleasedCheckpoint) {
  // 68,976,648,192 parameters in meta-llama/Llama-2-70b-hf; the paper rounds to 70B.
  EXPECT_LT(RelativeError(CountParameters(Builtin("llama2-70b")).total, 68.98e9), 0.01);
}

TEST(CatalogModels, Llama3_70bMatchesFormulasReference) {
  // formulas.md sec. 2: Llama 3 70B = 70.6e9 (70,553,706,496 in the released checkpoint).
  EXPECT_LT(RelativeError(CountParameters(Builtin("llama3-70b")).total, 70.6e9), 0.01);
}

TEST(CatalogModels, Mixtral8x22bTotalAndActiveMatchMistral) {
  // Mistral AI release post: 141B total, 39B active. We count 140.6e9 and 39.16e9.
  const ParamCounts c = CountParameters(Builtin("mixtral-8x22b"));
  EXPECT_LT(RelativeError(c.total, 141e9), 0.01);
  EXPECT_LT(RelativeError(c.active, 39e9), 0.01);
}

TEST(CatalogModels, Mixtral8x7bTotalAndActiveMatchMistral) {
  // Mistral AI release post: 46.7B total, 12.9B active per token.
  const ParamCounts c = CountParameters(Builtin("mixtral-8x7b"));
  EXPECT_LT(RelativeError(c.total, 46.7e9), 0.01);
  EXPECT_LT(RelativeError(c.active, 12.9e9), 0.01);
}

TEST(CatalogModels, DenseModelsActivateEveryParameter) {
  const ParamCounts c = CountParameters(Builtin("llama3.1-405b"));
  EXPECT_EQ(c.active, c.total);
}

TEST(CatalogModels, Gpt3_175bIs175Billion) {
  // Brown et al. 2020 Table 2.1: 175.0B (we count 174.6e9 with the 51200 Megatron vocabulary).
  EXPECT_LT(RelativeError(CountParameters(Builtin("gpt3-175b")).total, 175e9), 0.01);
}

TEST(CatalogModels, Megatron1tMatchesNarayanan) {
  // Narayanan et al. 2021 Table 1: 1008B for h = 25600, L = 128.
  EXPECT_LT(RelativeError(CountParameters(Builtin("megatron-1t")).total, 1008e9), 0.001);
}

TEST(CatalogModels, Llama3_405bBatchIs16MTokens) {
  // Llama 3 paper sec. 3.4.1: the final batch is 16M tokens of 8192.
  const Model m = Builtin("llama3.1-405b");
  EXPECT_EQ(m.default_global_batch * m.seq_len, 2048 * 8192);
}

TEST(CatalogModels, EveryModelValidatesAndCitesASource) {
  for (const Model& m : BuiltinModels()) {
    EXPECT_NO_THROW(ValidateModel(m, "models." + m.name)) << m.name;
    EXPECT_FALSE(m.source.empty()) << m.name;
    EXPECT_GE(m.default_global_batch, 0) << m.name;
  }
}

TEST(CatalogGpus, EveryGpuHasUsableMemoryPeakAndSource) {
  for (const Gpu& g : BuiltinGpus()) {
    EXPECT_GT(g.reserved_bytes, 0) << g.name;
    EXPECT_GT(g.hbm_bytes, g.reserved_bytes) << g.name;
    EXPECT_GT(g.bf16_flops, 0) << g.name;
    EXPECT_GT(g.fp32_flops, 0) << g.name;
    EXPECT_GT(g.hbm_bytes_per_s, 0) << g.name;
    EXPECT_FALSE(g.source.empty()) << g.name;
    EXPECT_NE(g.arch, Arch::kUnstated) << g.name;
  }
}

TEST(CatalogGpus, DefaultLinksExistInTheCatalog) {
  std::set<std::string> links;
  for (const Link& l : BuiltinLinks()) links.insert(l.name);
  for (const Gpu& g : BuiltinGpus()) {
    EXPECT_TRUE(links.count(g.intra_link)) << g.name << ": intra_link " << g.intra_link;
    EXPECT_TRUE(links.count(g.inter_link)) << g.name << ": inter_link " << g.inter_link;
  }
}

TEST(CatalogGpus, H100SxmPeaksMatchWhitepaper) {
  // H100 whitepaper, SXM5 dense: BF16 989.4 TFLOPS, FP8 1978.9 TFLOPS; nvidia-smi 81559 MiB.
  for (const Gpu& g : BuiltinGpus()) {
    if (g.name != "h100-sxm") continue;
    EXPECT_DOUBLE_EQ(g.bf16_flops, 989.4e12);
    EXPECT_DOUBLE_EQ(g.fp8_flops, 1978.9e12);
    EXPECT_DOUBLE_EQ(g.hbm_bytes, 81559.0 * 1024 * 1024);
    return;
  }
  ADD_FAILURE() << "no h100-sxm";
}

TEST(CatalogGpus, A100AndH100AliasesAreAmbiguousOthersAreNot) {
  std::map<std::string, int> carriers;  // alias -> how many GPUs carry it
  for (const Gpu& g : BuiltinGpus()) {
    for (const std::string& a : SplitAliases(g.aliases)) ++carriers[a];
  }
  EXPECT_EQ(carriers["a100"], 2);
  EXPECT_EQ(carriers["h100"], 2);
  for (const char* unique : {"4090", "rtx4090", "3090", "rtx3090", "v100", "l40s", "mi300x"}) {
    EXPECT_EQ(carriers[unique], 1) << unique;
  }
}

TEST(CatalogLinks, TwoWayIsTwiceOneWay) {
  for (const Link& l : BuiltinLinks()) {
    EXPECT_GT(l.one_way_bytes_per_s, 0) << l.name;
    EXPECT_DOUBLE_EQ(l.one_way_bytes_per_s * 2, l.two_way_bytes_per_s) << l.name;
    EXPECT_GT(l.latency_s, 0) << l.name;
    EXPECT_FALSE(l.source.empty()) << l.name;
  }
}

TEST(CatalogLinks, ReferenceBandwidthsMatchFormulas) {
  // formulas.md sec. 6: PCIe Gen4 x16 32 GB/s one way; NVLink 4 450 GB/s one way; and a
  // 200 Gbit/s HDR port moves 25 GB/s each way.
  std::map<std::string, double> one_way;
  for (const Link& l : BuiltinLinks()) one_way[l.name] = l.one_way_bytes_per_s;
  EXPECT_DOUBLE_EQ(one_way["pcie4"], 32e9);
  EXPECT_DOUBLE_EQ(one_way["nvlink4"], 450e9);
  EXPECT_DOUBLE_EQ(one_way["ib-hdr"], 25e9);
}

template <typename T>
void ExpectUniqueNames(const std::vector<T>& entries, const char* kind) {
  std::set<std::string> seen;
  for (const T& e : entries) {
    EXPECT_FALSE(e.name.empty()) << kind;
    EXPECT_TRUE(seen.insert(e.name).second) << kind << " " << e.name << " appears twice";
  }
}

TEST(CatalogNames, NamesAreUniqueInEachList) {
  ExpectUniqueNames(BuiltinModels(), "model");
  ExpectUniqueNames(BuiltinGpus(), "gpu");
  ExpectUniqueNames(BuiltinLinks(), "link");
}

TEST(CatalogNames, NoAliasIsAnotherGpusName) {
  const std::vector<Gpu> gpus = BuiltinGpus();
  for (const Gpu& g : gpus) {
    for (const std::string& a : SplitAliases(g.aliases)) {
      for (const Gpu& other : gpus) {
        if (&other == &g) continue;
        EXPECT_NE(a, other.name) << g.name << " has alias " << a;
      }
    }
  }
}

TEST(CatalogNames, NamesAreLowerCase) {
  auto lower = [](const std::string& s) {
    for (char c : s) {
      if (c >= 'A' && c <= 'Z') return false;
    }
    return true;
  };
  for (const Model& m : BuiltinModels()) EXPECT_TRUE(lower(m.name)) << m.name;
  for (const Gpu& g : BuiltinGpus()) EXPECT_TRUE(lower(g.name + g.aliases)) << g.name;
  for (const Link& l : BuiltinLinks()) EXPECT_TRUE(lower(l.name)) << l.name;
}

}  // namespace
}  // namespace planner
