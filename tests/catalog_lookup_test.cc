// Looking up models, GPUs and links by name or alias, and extending the catalog from JSON.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "planner/input/catalog.h"
#include "planner/model/error.h"
#include "planner/model/units.h"
#include "test_util.h"

namespace planner {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(PLANNER_SOURCE_DIR) + "/tests/data/" + name;
}

// A file under the test's temporary directory holding `text`.
std::string TempFile(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::path(testing::TempDir()) / name).string();
  std::ofstream(path) << text;
  return path;
}


Model Shape(const std::string& name, int64_t layers, int64_t hidden) {
  return Model{.name = name,
               .layers = layers,
               .hidden = hidden,
               .heads = 8,
               .kv_heads = 8,
               .ffn_hidden = 4 * hidden,
               .vocab = 32000,
               .seq_len = 4096};
}

// Small hand-made catalog, independent of the compiled-in data.
Catalog TestCatalog() {
  Catalog c;
  c.models = {Shape("llama2-7b", 32, 4096), Shape("llama2-70b", 80, 8192), Shape("gpt2", 12, 768)};
  c.gpus = {Gpu{.name = "a100-40gb", .aliases = "a100, a100-40", .hbm_bytes = 40 * kGiB},
            Gpu{.name = "a100-80gb", .aliases = "a100,a100-80", .hbm_bytes = 80 * kGiB},
            Gpu{.name = "h100-sxm", .aliases = "h100, h100-sxm5", .hbm_bytes = 80 * kGiB},
            Gpu{.name = "rtx4090", .aliases = "4090", .hbm_bytes = 24 * kGiB}};
  c.links = {Link{.name = "nvlink4", .one_way_bytes_per_s = 450 * kGB},
             Link{.name = "pcie4", .one_way_bytes_per_s = 32 * kGB},
             Link{.name = "ib-ndr", .one_way_bytes_per_s = 50 * kGB}};
  return c;
}

TEST(CatalogLookup, GpuExactNameIgnoresCase) {
  EXPECT_EQ(FindGpu(TestCatalog(), "H100-SXM", "--gpu").name, "h100-sxm");
}

TEST(CatalogLookup, GpuUniqueAliasResolves) {
  EXPECT_EQ(FindGpu(TestCatalog(), "4090", "--gpu").name, "rtx4090");
  EXPECT_EQ(FindGpu(TestCatalog(), "H100", "--gpu").name, "h100-sxm");
  EXPECT_EQ(FindGpu(TestCatalog(), "a100-80", "--gpu").hbm_bytes, 80 * kGiB);
}

TEST(CatalogLookup, GpuAmbiguousAliasListsTheChoices) {
  const InputError e = ErrorOf([] { FindGpu(TestCatalog(), "a100", "--gpu"); });
  EXPECT_EQ(e.where(), "--gpu");
  EXPECT_STREQ(e.what(), "'a100' is ambiguous: a100-40gb, a100-80gb");
}

TEST(CatalogLookup, GpuUnknownSuggestsTheClosestName) {
  InputError e = ErrorOf([] { FindGpu(TestCatalog(), "h1000", "--gpu"); });
  EXPECT_EQ(e.where(), "--gpu");
  // Closest is the alias "h100", shown as the GPU it stands for.
  EXPECT_STREQ(e.what(), "unknown GPU 'h1000'; did you mean h100-sxm?");
  e = ErrorOf([] { FindGpu(TestCatalog(), "a1000", "--gpu"); });
  EXPECT_STREQ(e.what(), "unknown GPU 'a1000'; did you mean a100-40gb or a100-80gb?");
}

TEST(CatalogLookup, GpuUnknownWithNothingCloseListsTheNames) {
  const InputError e = ErrorOf([] { FindGpu(TestCatalog(), "zzzzzzzz", "--gpu"); });
  EXPECT_STREQ(e.what(),
               "unknown GPU 'zzzzzzzz'; available: a100-40gb, a100-80gb, h100-sxm, rtx4090");
}

TEST(CatalogLookup, LinkUnknownSuggestsTheClosestName) {
  EXPECT_EQ(FindLink(TestCatalog(), "PCIe4", "--intra").one_way_bytes_per_s, 32e9);
  const InputError e = ErrorOf([] { FindLink(TestCatalog(), "nvlnk4", "--intra"); });
  EXPECT_EQ(e.where(), "--intra");
  EXPECT_STREQ(e.what(), "unknown link 'nvlnk4'; did you mean nvlink4?");
}

TEST(CatalogLookup, ModelByNameIgnoresCase) {
  EXPECT_EQ(FindModel(TestCatalog(), "LLAMA2-7B", "--model").layers, 32);
}

TEST(CatalogLookup, ModelUnknownSuggestsTheNameItPrefixes) {
  // "llama2-70" is one edit from llama2-7b (listed first) too; the prefix match wins.
  InputError e = ErrorOf([] { FindModel(TestCatalog(), "llama2-70", "--model"); });
  EXPECT_EQ(e.where(), "--model");
  EXPECT_STREQ(e.what(), "unknown model 'llama2-70'; did you mean llama2-70b?");
  e = ErrorOf([] { FindModel(TestCatalog(), "qqqqqqqq", "--model"); });
  EXPECT_STREQ(e.what(),
               "unknown model 'qqqqqqqq'; available: llama2-7b, llama2-70b, gpt2; or give the path "
               "of a model .json file");
}

TEST(CatalogLookup, ModelPathLoadsTheFile) {
  const Model m = FindModel(TestCatalog(), Fixture("hf_gpt2.json"), "--model");
  EXPECT_EQ(m.hidden, 768);
  const InputError e = ErrorOf([] { FindModel(TestCatalog(), "missing-model.json", "--model"); });
  EXPECT_EQ(e.where(), "missing-model.json");
  EXPECT_STREQ(e.what(), "cannot read file 'missing-model.json'");
}

TEST(CatalogLookup, ExtendAddsGpuLinkAndModelInInternalUnits) {
  Catalog c = TestCatalog();
  ExtendCatalog(c, Fixture("catalog_extra.json"));
  EXPECT_EQ(c.gpus.size(), 5u);
  const Gpu gpu = FindGpu(c, "tg96", "--gpu");
  EXPECT_EQ(gpu.name, "test-gpu-96gb");
  EXPECT_DOUBLE_EQ(gpu.hbm_bytes, 96 * kGiB);
  EXPECT_DOUBLE_EQ(gpu.reserved_bytes, 1.5 * kGiB);
  EXPECT_DOUBLE_EQ(gpu.bf16_flops, 800e12);
  EXPECT_DOUBLE_EQ(gpu.fp8_flops, 1600e12);
  EXPECT_DOUBLE_EQ(gpu.hbm_bytes_per_s, 4000e9);
  EXPECT_EQ(gpu.intra_link, "nvlink-test");
  const Link link = FindLink(c, "nvlink-test", "--intra");
  EXPECT_DOUBLE_EQ(link.one_way_bytes_per_s, 450e9);
  EXPECT_DOUBLE_EQ(link.two_way_bytes_per_s, 900e9);  // default: twice one way
  EXPECT_DOUBLE_EQ(link.latency_s, 2.5e-6);
  EXPECT_EQ(FindModel(c, "tiny-extra", "--model").ffn_hidden, 512);
}

TEST(CatalogLookup, ExtendReplacesAnEntryOfTheSameName) {
  Catalog c = TestCatalog();
  // Only when the file says so: "replace" lists the names it means to override.
  ExtendCatalog(c, TempFile("replace.json", R"({"replace": ["pcie4"], "links": [{"name": "PCIE4",
      "one_way_gb_per_s": 25, "two_way_gb_per_s": 40, "latency_us": 1}]})"));
  EXPECT_EQ(c.links.size(), 3u);
  EXPECT_DOUBLE_EQ(FindLink(c, "pcie4", "--intra").two_way_bytes_per_s, 40e9);
}

TEST(CatalogLookup, ExtendRejectsBadGpuWithItsJsonPathAndKeepsTheCatalog) {
  Catalog c = TestCatalog();
  const std::string path = Fixture("catalog_bad_gpu.json");
  const InputError e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path + ": gpus[1].bf16_tflops");
  EXPECT_STREQ(e.what(), "expected a number, got \"fast\"");
  EXPECT_EQ(c.gpus.size(), 4u);  // gpus[0] was valid but is not added either
}

TEST(CatalogLookup, ExtendRejectsUnknownKeysAndNonPositiveNumbers) {
  Catalog c = TestCatalog();
  std::string path = TempFile("top.json", R"({"gpu": []})");
  InputError e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path + ": gpu");
  EXPECT_STREQ(e.what(), "unknown key; did you mean gpus?");

  path = TempFile("key.json", R"({"links": [{"name": "x", "one_way_gbps": 1, "latency_us": 1}]})");
  e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path + ": links[0].one_way_gbps");
  EXPECT_STREQ(e.what(), "unknown key; did you mean one_way_gb_per_s?");

  path = TempFile("zero.json",
                  R"({"links": [{"name": "x", "one_way_gb_per_s": 0, "latency_us": 1}]})");
  e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path + ": links[0].one_way_gb_per_s");
  EXPECT_STREQ(e.what(), "must be positive, got 0");

  path = TempFile("link.json", R"({"gpus": [{"name": "g", "hbm_gib": 80, "fp32_tflops": 60,
      "bf16_tflops": 900, "hbm_gb_per_s": 3000, "intra_link": "nvlink9",
      "inter_link": "ib-ndr"}]})");
  e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path + ": gpus[0].intra_link");
  EXPECT_STREQ(e.what(), "unknown link 'nvlink9'; did you mean nvlink4?");
}

TEST(CatalogLookup, ExtendModelErrorsNameTheEntry) {
  Catalog c = TestCatalog();
  const std::string path = TempFile("models.json", R"({"models": [{"name": "m", "layers": 2,
      "hidden": 100, "heads": 7, "ffn_hidden": 400, "vocab": 10, "seq_len": 8, "mlp": "gelu",
      "tied_embeddings": true}]})");
  const InputError e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path + ": models[0].heads");
  EXPECT_STREQ(e.what(), "hidden 100 is not divisible by heads 7");
}

TEST(CatalogLookup, MalformedCatalogFileIsReported) {
  Catalog c = TestCatalog();
  const std::string path = TempFile("broken.json", R"({"gpus": [})");
  const InputError e = ErrorOf([&] { ExtendCatalog(c, path); });
  EXPECT_EQ(e.where(), path);
  EXPECT_EQ(std::string(e.what()).rfind("malformed JSON: ", 0), 0u) << e.what();
}

// The compiled-in data: unique names, valid shapes, and every GPU's default links exist.
TEST(CatalogLookup, BuiltinEntriesAreUniqueValidAndLinked) {
  const Catalog c = BuiltinCatalog();
  std::set<std::string> names;
  for (const Model& m : c.models) {
    EXPECT_TRUE(names.insert(m.name).second) << "duplicate model " << m.name;
    EXPECT_NO_THROW(ValidateModel(m, m.name));
  }
  names.clear();
  for (const Gpu& g : c.gpus) {
    EXPECT_TRUE(names.insert(g.name).second) << "duplicate GPU " << g.name;
    EXPECT_EQ(FindGpu(c, g.name, "--gpu").name, g.name);
    EXPECT_NO_THROW(FindLink(c, g.intra_link, g.name + ".intra_link"));
    EXPECT_NO_THROW(FindLink(c, g.inter_link, g.name + ".inter_link"));
  }
  names.clear();
  for (const Link& l : c.links) {
    EXPECT_TRUE(names.insert(l.name).second) << "duplicate link " << l.name;
    EXPECT_GT(l.one_way_bytes_per_s, 0);
  }
}

}  // namespace
}  // namespace planner

namespace planner {
namespace {

// A catalog file of `n` links and `n` GPUs, GPU i on link i (links named before the GPUs that
// use them, as a file may), then `tail` appended to the GPU list.
std::string LargeCatalog(int n, const std::string& tail) {
  std::string links, gpus;
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    links += (i ? "," : "") + std::string(R"({"name": "Link-)") + k +
             R"(", "one_way_gb_per_s": 100, "latency_us": 2})";
    gpus += (i ? "," : "") + std::string(R"({"name": "gpu-)") + k +
            R"(", "hbm_gib": 80, "fp32_tflops": 60, "bf16_tflops": 900, "hbm_gb_per_s": 3000,
            "intra_link": "link-)" + k + R"(", "inter_link": "LINK-)" + std::to_string(n - 1 - i) +
            R"("})";
  }
  return R"({"links": [)" + links + R"(], "gpus": [)" + gpus + tail + "]}";
}

// Issue #15: 40,000 entries took 15 s when each was compared with every one before it; they
// load now, and the checks a scan made still hold at the far end of the file.
TEST(CatalogLookup, ALargeCatalogLoadsWithItsChecksIntact) {
  constexpr int kEntries = 20'000;  // 20,000 links + 20,000 GPUs
  Catalog c = BuiltinCatalog();
  const size_t gpus = c.gpus.size(), links = c.links.size();
  ExtendCatalogJson(c, LargeCatalog(kEntries, ""), "big.json");
  ASSERT_EQ(c.gpus.size(), gpus + kEntries);
  ASSERT_EQ(c.links.size(), links + kEntries);
  // Names match ignoring case, as FindLink does ("LINK-0" names "Link-0").
  EXPECT_EQ(FindGpu(c, "GPU-19999", "--gpu").inter_link, "LINK-0");

  // The last GPU repeats the first (in other case): refused at its own place.
  const std::string repeat = R"(, {"name": "GPU-0", "hbm_gib": 80, "fp32_tflops": 60,
      "bf16_tflops": 900, "hbm_gb_per_s": 3000, "intra_link": "link-0", "inter_link": "link-0"})";
  Catalog d = BuiltinCatalog();
  InputError e = ErrorOf([&] { ExtendCatalogJson(d, LargeCatalog(kEntries, repeat), "big.json"); });
  EXPECT_EQ(e.where(), "big.json: gpus[20000].name");
  EXPECT_EQ(d.gpus.size(), gpus);  // nothing of the file added

  // A GPU on a link no entry names: the lookup's error and suggestion, at that GPU.
  const std::string unknown = R"(, {"name": "gpu-x", "hbm_gib": 80, "fp32_tflops": 60,
      "bf16_tflops": 900, "hbm_gb_per_s": 3000, "intra_link": "link-20000", "inter_link": "link-0"})";
  e = ErrorOf([&] { ExtendCatalogJson(d, LargeCatalog(kEntries, unknown), "big.json"); });
  EXPECT_EQ(e.where(), "big.json: gpus[20000].intra_link");

  // Listed in "replace", the repeat replaces the first in place.
  std::string replaced = LargeCatalog(kEntries, repeat);
  replaced.insert(1, R"("replace": ["gpu-0"], )");
  ExtendCatalogJson(d, replaced, "big.json");
  EXPECT_EQ(d.gpus.size(), gpus + kEntries);
  EXPECT_EQ(d.gpus[gpus].name, "GPU-0");
  EXPECT_EQ(d.gpus[gpus].inter_link, "link-0");
}

}  // namespace
}  // namespace planner
