// The published B200 and GB200 runs of bench/validation/more-runs.jsonl (sources in
// bench/validation/SOURCES.md), each predicted through `planner evaluate --run FILE` like the
// shared runs, and the per-GPU summary the accuracy report prints for them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "accuracy_report.h"
#include "planner/model/files.h"
#include "test_util.h"

namespace planner {
namespace {

const char kMoreRuns[] = PLANNER_SOURCE_DIR "/bench/validation/more-runs.jsonl";

std::string RunDir(const std::string& name) {
  // ctest runs each test in its own process: one directory each.
  return testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
}

const AccuracyReport& Report() {
  static const AccuracyReport report =
      ComputeAccuracy(LoadPublishedRuns(kMoreRuns), RunDir("more-runs"));
  return report;
}

// The file's first line with its `gpu_type` replaced, as a one-line JSONL file.
std::string LineWithGpuType(const std::string& gpu_type) {
  std::istringstream in(ReadTextFile(kMoreRuns, kMoreRuns));
  std::string line;
  std::getline(in, line);
  nlohmann::json row = nlohmann::json::parse(line);
  row["gpu_type"] = gpu_type;
  const std::string path = RunDir("gpu-type") + ".jsonl";
  WriteFileAtomically(path, row.dump() + "\n", path);
  return path;
}

// SOURCES.md lists 8 B200 rows (6 NeMo 25.02, 2 Megatron-Bridge 25.11) and 12 GB200 rows
// (6 NeMo 25.04, 1 NeMo 25.07, 3 Megatron-Bridge 25.11, 2 Megatron-Bridge 26.04.01). "DGX-GB200"
// contains "B200": it must still become the GB200, in compute trays of 4 GPUs.
TEST(MoreRuns, EachSystemBecomesItsCatalogGpu) {
  std::map<std::string, int> count;
  for (const PublishedRun& run : LoadPublishedRuns(kMoreRuns)) {
    const nlohmann::json file = nlohmann::json::parse(run.run_file_json);
    const std::string gpu = file.at("gpu");
    ++count[gpu];
    const int64_t gpus = file.at("gpus");
    EXPECT_EQ(file.at("gpus_per_node"), std::min<int64_t>(gpu == "gb200" ? 4 : 8, gpus)) << run.id;
  }
  EXPECT_EQ(count, (std::map<std::string, int>{{"b200", 8}, {"gb200", 12}}));
}

// Every row has a published shape and a dense model, so none is skipped, and the report counts
// each under its GPU.
TEST(MoreRuns, EveryRunIsPredictedAndCountedUnderItsGpu) {
  const AccuracyReport& r = Report();
  EXPECT_EQ(r.all.runs, 20);
  EXPECT_EQ(r.by_gpu.at("b200").runs, 8);
  EXPECT_EQ(r.by_gpu.at("gb200").runs, 12);
  double signed_sum = 0;
  for (const RunAccuracy& a : r.rows) signed_sum += a.error;
  // The signed mean is the plain mean of the per-run errors, its sign their direction.
  EXPECT_NEAR(r.all.mean, signed_sum / 20, 1e-12);
  EXPECT_LE(std::fabs(r.all.mean), r.all.mean_abs);
}

// Other catalog GPUs a published row may name convert to them, not to the A100 the converter
// once fell back to.
TEST(MoreRuns, RowsOnOtherCatalogGpusConvert) {
  const std::map<std::string, std::string> expected = {{"AMD Instinct MI300X 192GB", "mi300x"},
                                                       {"H200 SXM 141GB", "h200"},
                                                       {"NVIDIA L40S 48GB", "l40s"},
                                                       {"GeForce RTX 4090", "rtx-4090"}};
  for (const auto& [gpu_type, gpu] : expected) {
    const std::vector<PublishedRun> runs = LoadPublishedRuns(LineWithGpuType(gpu_type));
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(runs[0].run_file_json).at("gpu"), gpu) << gpu_type;
  }
}

// A GPU the catalog lacks is an error naming it, not a silent A100.
TEST(MoreRuns, UnknownGpuIsAnError) {
  const std::vector<PublishedRun> runs = LoadPublishedRuns(LineWithGpuType("TPU v5p"));
  const InputError e = ErrorOf([&] { ComputeAccuracy(runs, RunDir("unknown-gpu")); });
  EXPECT_NE(std::string(e.what()).find("TPU v5p"), std::string::npos) << e.what();
}

// bench/validation/deepspeed-fsdp-runs.jsonl (sources in deepspeed-fsdp-SOURCES.md): each run's
// framework and sharding come from its own text. BLOOM's "ZeRO-1 equivalent" bf16 optimizer on
// Megatron-DeepSpeed over Omni-Path with 4 links a node; DeepSpeed ZeRO-3 on Azure; LLM
// Foundry's Composer FSDP FULL_SHARD and metaseq (PyTorch FSDP1: --framework fsdp); a batch the
// source leaves unstated is skipped with the field named, not replayed with a guess.
TEST(MoreRuns, DeepSpeedAndFsdpRunsKeepTheirFrameworkAndSharding) {
  std::map<std::string, nlohmann::json> files;
  std::map<std::string, std::string> skipped;
  for (const PublishedRun& run :
       LoadPublishedRuns(PLANNER_SOURCE_DIR "/bench/validation/deepspeed-fsdp-runs.jsonl")) {
    files[run.id] = nlohmann::json::parse(run.run_file_json);
    skipped[run.id] = run.skip_reason;
  }
  const nlohmann::json& bloom = files.at("bloom176b-mds-tp4pp12dp8");
  EXPECT_EQ(bloom.at("framework"), "deepspeed");
  EXPECT_EQ(bloom.at("plan").at("zero"), 1);
  EXPECT_EQ(bloom.at("inter_link"), "roce-100");
  EXPECT_EQ(bloom.at("nics_per_node"), 4);
  // Its source names no year but cites arXiv 2211.05100 (YYMM: 2022): before FlashAttention.
  EXPECT_EQ(bloom.at("attention"), "standard");
  const nlohmann::json& azure = files.at("dsazure-175b-zero3-256gpu-mb32-s512");
  EXPECT_EQ(azure.at("framework"), "deepspeed");
  EXPECT_EQ(azure.at("plan").at("zero"), 3);
  EXPECT_EQ(azure.at("attention"), "standard");  // a 2022 source: before FlashAttention
  const nlohmann::json& foundry = files.at("llmfoundry-h100-mpt70b-s2048-g64");
  EXPECT_EQ(foundry.at("framework"), "fsdp");
  EXPECT_EQ(foundry.at("eager"), true);
  EXPECT_EQ(foundry.at("plan").at("zero"), 3);
  const nlohmann::json& opt = files.at("opt175b-metaseq-fsdp-tp8");  // metaseq: FSDP1 + TP
  EXPECT_EQ(opt.at("framework"), "fsdp");
  EXPECT_EQ(opt.at("plan").at("zero"), 2);  // --no-reshard-after-forward keeps params whole
  // torchtitan of December 2024 left the loss eager; the June 2025 H200 runs compile it.
  EXPECT_EQ(files.at("tt-70b-fsdp32-tp8-f8").at("eager_loss"), true);
  // "BF16 + Float8 linears (torchao)": the matmuls run in fp8.
  EXPECT_EQ(files.at("tt-70b-fsdp32-tp8-f8").at("precision"), "fp8");
  EXPECT_FALSE(files.at("tt-h200-8b-fsdp32-f8").contains("eager_loss"));
  EXPECT_EQ(skipped.at("dsazure-530b-zero3-1024gpu-s1024"), "global_batch_seqs not published");
}

}  // namespace
}  // namespace planner
