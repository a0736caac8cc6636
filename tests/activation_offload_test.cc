// Megatron-core's activation offload (--offload-activations N, TransformerConfig
// cpu_offloading_num_layers): memory moved to the host, the copies a step waits on, the run
// file, the emitted script's warning, and the published-run converter.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <sstream>

#include "emit_fixtures.h"
#include "planner/cli/cli.h"
#include "planner/cost/activation_offload.h"
#include "planner/cost/finetune.h"
#include "planner/cost/memory_model.h"
#include "planner/cost/recompute_layers.h"
#include "planner/cost/step_time.h"
#include "planner/input/catalog.h"
#include "planner/input/published_runs.h"
#include "planner/model/units.h"
#include "planner/search/evaluate.h"
#include "planner/search/search.h"

namespace planner {
namespace {

// Llama 3 70B (h = 8192, 8 KV heads of 128, SwiGLU f = 28672) at s = 8192, b = 1, TP 1, fp8,
// flash attention, no dropout. A layer keeps (memory_model.cc, Korthikanti et al. 2022 Table 2
// with fp8 matmul inputs): two norm inputs 4sbh + QKV and fc1 inputs in fp8 2sbh = 6sbh;
// Q 2sbh + K and V 2 x 2sbh / 8 + the attention output 2sbh + the projection's fp8 input sbh
// = 3.5sbh; SwiGLU's gate and up outputs 4sbf + fc2's fp8 input sbf = 5sbf.
// = 9.5 x 67,108,864 + 5 x 8192 x 28672 = 637,534,208 + 1,174,405,120 = 1,811,939,328 bytes.
constexpr double kLayerBytes = 1811939328.0;

Specs Llama70bFp8(const char* gpu) {
  Specs s = MakeSpecs("llama3-70b", gpu, 64);
  s.setup.seq_len = 8192;
  s.setup.global_batch = 64;
  s.setup.precision = Precision::kFp8;
  s.setup.framework = Framework::kNemo;
  return s;
}

TEST(ActivationOffload, LayerBytesAreTheHandWorkedOnes) {
  const Specs s = Llama70bFp8("gb200");
  const Plan p = Complete(s, {.zero_stage = 3});
  EXPECT_DOUBLE_EQ(PlanLayerActivationBytes(s.model, p, s.setup), kLayerBytes);
}

TEST(ActivationOffload, FortyLayersLeaveTheGpuLessTheOneInFlight) {
  // 40 of 80 layers go to host memory: 40 x 1,811,939,328 = 72,477,573,120 bytes there; the
  // GPU keeps the one whose copy is in flight, so 39 layers leave it, and the allocator's 10 %
  // allowance on them (planner/cost/framework.h) goes too.
  const Specs s = Llama70bFp8("gb200");
  const Plan kept = Complete(s, {.zero_stage = 3});
  Plan offloaded = kept;
  offloaded.offload_activation_layers = 40;
  const MemoryBreakdown a = TrainingMemory(s.model, kept, s.setup);
  const MemoryBreakdown b = TrainingMemory(s.model, offloaded, s.setup);
  EXPECT_DOUBLE_EQ(b.host, 40 * kLayerBytes);
  EXPECT_NEAR(a.activations - b.activations, 39 * kLayerBytes, 1.0);
  EXPECT_NEAR(a.overhead - b.overhead, 0.10 * 39 * kLayerBytes, 1.0);
}

TEST(ActivationOffload, CopiesHideBehindComputeUntilTheLinkIsTooSlow) {
  // GB200's NVLink-C2C: 900 GB/s both ways for a Grace and two GPUs = 225 GB/s one way a GPU,
  // at 80 % for pinned copies: 180 GB/s. A layer's copy: 1,811,939,328 / 180e9 = 10.066 ms.
  // With a 6 ms forward per layer the copy down shows 4.066 ms and the copy back (behind a
  // 12 ms backward) none: 40 layers x 4.066 ms = 162.65 ms a micro-batch.
  const Specs gb200 = Llama70bFp8("gb200");
  const Plan p{.offload_activation_layers = 40};
  EXPECT_NEAR(ActivationOffloadSeconds(gb200.cluster.gpu, p, 80, kLayerBytes, 0.006),
              40 * (kLayerBytes / 180e9 - 0.006), 1e-9);
  // An H100 over PCIe gen5 x16: 63 GB/s at 80 % = 50.4 GB/s, 35.951 ms a copy: down 29.951 ms
  // and back 23.951 ms exposed, x 40 = 2.156 s.
  const Specs h100 = Llama70bFp8("h100-sxm");
  const double copy = kLayerBytes / 50.4e9;
  EXPECT_NEAR(ActivationOffloadSeconds(h100.cluster.gpu, p, 80, kLayerBytes, 0.006),
              40 * ((copy - 0.006) + (copy - 0.012)), 1e-9);
  // A layer's compute longer than both copies hides them.
  EXPECT_DOUBLE_EQ(ActivationOffloadSeconds(gb200.cluster.gpu, p, 80, kLayerBytes, 0.011), 0.0);
}

TEST(ActivationOffload, StepTimeCountsTheExposedCopiesPerMicroBatch) {
  const Specs s = Llama70bFp8("h100-sxm");
  const Plan kept = Complete(s, {.zero_stage = 3});
  Plan offloaded = kept;
  offloaded.offload_activation_layers = 40;
  const TimeBreakdown a = StepTime(s.model, s.cluster, kept, s.setup);
  const TimeBreakdown b = StepTime(s.model, s.cluster, offloaded, s.setup);
  EXPECT_EQ(a.offload, 0.0);
  EXPECT_GT(b.offload, 0.0);
  EXPECT_DOUBLE_EQ(b.step() - a.step(), b.offload);
}

TEST(ActivationOffload, EvaluateReportsItAndTheScriptWarnsMegatronLmCannotSayIt) {
  const std::vector<std::string> args = {
      "evaluate", "--model", "llama3-70b", "--gpu", "gb200", "--gpus", "64", "--seq-len",
      "8192", "--global-batch", "128", "--precision", "fp8", "--framework", "nemo", "--zero",
      "3", "--recompute", "none", "--offload-activations", "40", "--format", "json"};
  std::string out;
  ASSERT_EQ(RunPlanner(args, out), 0) << out;
  const nlohmann::json plan = nlohmann::json::parse(out).at("plan");
  EXPECT_EQ(plan.at("offload_activation_layers"), 40);
  EXPECT_DOUBLE_EQ(plan.at("memory_bytes").at("host").get<double>(), 40 * kLayerBytes);
  EXPECT_GT(plan.at("time_s").at("offload").get<double>(), 0.0);
  const std::string script = plan.at("snippets").at("megatron_sh");
  EXPECT_NE(script.find("cpu_offloading_num_layers=40"), std::string::npos) << script;
}

TEST(ActivationOffload, PublishedRunStatingOffloadedLayersBecomesThem) {
  // Two rows state "offloads N layers' activations": Megatron-Bridge 25.11's Llama 3 70B GB200
  // FSDP run (its recipe: cpu_offloading_num_layers = 40), and NeMo 25.07's 405B GB200 FSDP
  // run, assumed from the v0.2.0 recipe of its layout (92). Each becomes the run file's field.
  std::map<std::string, int> offloaded;
  for (const PublishedRun& run :
       LoadPublishedRuns(PLANNER_SOURCE_DIR "/bench/validation/more-runs.jsonl")) {
    const nlohmann::json plan = nlohmann::json::parse(run.run_file_json).at("plan");
    if (!plan.contains("offload_activation_layers")) continue;
    offloaded[run.id] = plan.at("offload_activation_layers");
    EXPECT_EQ(plan.at("recompute"), "none");
    EXPECT_EQ(plan.at("pp"), 1);
  }
  EXPECT_EQ(offloaded, (std::map<std::string, int>{
                           {"mbridge2511-gb200-llama3-70b-fsdp", 40},
                           {"nemo2507-gb200-LLAMA3.1-405B-128gpu-fsdp", 92}}));
}

TEST(ActivationOffload, CatalogFileStatesAGpusHostLink) {
  // A Grace Hopper-like part added by a user: 450 GB/s one way over NVLink-C2C, copies at 80 %
  // (360 GB/s), where an H100 without the key copies over PCIe gen5 (63 GB/s at 80 %).
  Catalog c = BuiltinCatalog();
  AddGraceHopperLike(c, "gh", R"("host_link_gb_per_s": 450)");
  EXPECT_DOUBLE_EQ(HostLinkBytesPerS(FindGpu(c, "gh", "--gpu")), 360e9);
  EXPECT_DOUBLE_EQ(HostLinkBytesPerS(FindGpu(c, "h100-sxm", "--gpu")), 50.4e9);
}


TEST(ActivationOffloadSearch, FewestLayersThatFit) {
  // 10 GiB over, 3.375 GiB a layer and micro-batch, 1 in flight, 10 % fragmentation: a layer
  // past the first frees 3.7125 GiB, so ceil(10 / 3.7125) = 3 layers past the first: 4.
  EXPECT_EQ(FewestOffloadedLayers(80, 10 * kGiB, 3.375 * kGiB, 1, 0.10), 4);
  EXPECT_EQ(FewestOffloadedLayers(80, 0, 3.375 * kGiB, 1, 0.10), 0);  // nothing over
  // 300 GiB would need 82 layers of 80: Megatron-core allows fewer than the model's.
  EXPECT_EQ(FewestOffloadedLayers(80, 300 * kGiB, 3.375 * kGiB, 1, 0.10), 0);
}

// NVIDIA's GB200 FSDP layout (TP 1, DP 64, micro-batch 2, 256 x 8192 tokens, fp8) keeps 187 GiB
// per GPU without offload. With nemo the search offloads the fewest layers that fit with a
// margin; with megatron, whose command line cannot say it, never.
SearchResult SearchGb200Fsdp(Framework framework) {
  Specs s = Llama70bFp8("gb200");
  s.cluster.gpus_per_node = 4;
  s.setup.global_batch = 256;
  s.setup.framework = framework;
  SearchOptions o{.top = 1000};
  o.tp.least = o.tp.most = 1;
  o.cp.least = o.cp.most = 1;
  o.micro_batch.least = o.micro_batch.most = 2;
  return Search(s.model, s.cluster, s.setup, o);
}

TEST(ActivationOffloadSearch, NemoPlansOffloadTheFewestLayersThatFit) {
  const SearchResult r = SearchGb200Fsdp(Framework::kNemo);
  const auto offloads = [](const Evaluation& e) { return e.plan.offload_activation_layers > 0; };
  const auto it = std::find_if(r.plans.begin(), r.plans.end(), offloads);
  ASSERT_NE(it, r.plans.end());
  EXPECT_EQ(it, r.plans.begin()) << "offloading beats recomputing every layer on NVLink-C2C";
  EXPECT_EQ(it->plan.zero_stage, 3);
  Specs s = Llama70bFp8("gb200");
  s.cluster.gpus_per_node = 4;
  s.setup.global_batch = 256;
  // The fewest that keep 5 % of the GPU free (kFittedRecomputeMargin): one layer fewer would
  // not.
  const double within = (1.0 - kFittedRecomputeMargin) * s.cluster.gpu.usable_bytes();
  EXPECT_LE(it->memory.total(), within);
  Plan fewer = it->plan;
  --fewer.offload_activation_layers;
  EXPECT_GT(Evaluate(s.model, s.cluster, fewer, s.setup, SearchLimits{}).memory.total(), within)
      << "one layer fewer (" << fewer.offload_activation_layers << ") would have fit";
}

TEST(ActivationOffloadSearch, MegatronPlansNeverOffload) {
  const SearchResult r = SearchGb200Fsdp(Framework::kMegatron);
  for (const Evaluation& e : r.plans) EXPECT_EQ(e.plan.offload_activation_layers, 0);
}

}  // namespace
}  // namespace planner
