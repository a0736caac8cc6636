#include "planner/input/specs.h"

#include "planner/cost/calibration.h"
#include "planner/cost/framework.h"
#include "planner/input/calibration_file.h"
#include "planner/input/model_loader.h"
#include "planner/input/sizes.h"
#include "planner/model/error.h"
#include "planner/model/text.h"

namespace planner {
namespace {

template <typename Enum>
Enum ParseChoice(const std::string& s, const std::string& where,
                 std::initializer_list<std::pair<const char*, Enum>> choices) {
  std::vector<std::string> names;
  for (const auto& [name, value] : choices) {
    if (s == name) return value;
    names.push_back(name);
  }
  throw InputError(where, "unknown value '" + s + "'; expected one of: " + Join(names, ", "));
}

void RequirePositive(int64_t v, const char* flag) {
  if (v <= 0) throw InputError(flag, "must be a positive integer, got " + std::to_string(v));
}

void AtMost(int64_t v, int64_t most, const char* flag) {
  if (v > most) {
    throw InputError(flag, "must be at most " + std::to_string(most) + ", got " + std::to_string(v));
  }
}

}  // namespace

Precision ParsePrecision(const std::string& s, const std::string& where) {
  return ParseChoice<Precision>(s, where,
                                {{"bf16", Precision::kBf16}, {"fp16", Precision::kFp16},
                                 {"fp8", Precision::kFp8}, {"fp32", Precision::kFp32},
                                 {"tf32", Precision::kTf32}});
}

Recompute ParseRecompute(const std::string& s, const std::string& where) {
  return ParseChoice<Recompute>(
      s, where,
      {{"none", Recompute::kNone}, {"selective", Recompute::kSelective}, {"full", Recompute::kFull}});
}

Schedule ParseSchedule(const std::string& s, const std::string& where) {
  return ParseChoice<Schedule>(s, where,
                               {{"1f1b", Schedule::k1F1B}, {"interleaved", Schedule::kInterleaved},
                                {"gpipe", Schedule::kGPipe}, {"naive", Schedule::kNaive}});
}

Optimizer ParseOptimizer(const std::string& s, const std::string& where) {
  return ParseChoice<Optimizer>(s, where,
                                {{"adamw", Optimizer::kAdamW}, {"adamw-8bit", Optimizer::kAdamW8bit},
                                 {"sgd", Optimizer::kSgdMomentum}});
}

Format ParseFormat(const std::string& s, const std::string& where) {
  return ParseChoice<Format>(s, where,
                             {{"table", Format::kTable}, {"json", Format::kJson}, {"csv", Format::kCsv}});
}

Framework ParseFramework(const std::string& s, const std::string& where) {
  Framework f = Framework::kMegatron;
  if (!FrameworkFromName(s, f)) {
    throw InputError(where, "unknown value '" + s + "'; expected one of: " + FrameworkNames());
  }
  return f;
}

// The built-in constants of the GPU, or the calibration file's, which must be the same GPU's.
Calibration ChooseCalibration(const SpecInput& in, const Gpu& gpu) {
  if (in.calibration.empty()) return BuiltinCalibration(gpu);
  const CalibrationFile file = LoadCalibrationFile(in.calibration);
  if (file.gpu != gpu.name) {
    throw InputError("--calibration", in.calibration + " was fitted on " + file.gpu +
                                          " runs; this cluster's GPU is " + gpu.name);
  }
  return CalibrationOf(file, in.calibration);
}

namespace {

// The cluster is whole nodes (or one node, partly used) with at most one NIC per GPU; anything
// else was a typo that the cost model would silently price.
void CheckNodes(const Cluster& c, bool per_node_given) {
  const int64_t n = c.gpus_per_node;
  if (per_node_given && n > c.gpus) {
    throw InputError("--gpus-per-node", std::to_string(n) + " GPUs per node is more than the " +
                                            std::to_string(c.gpus) + " GPUs of --gpus");
  }
  if (c.gpus > n && c.gpus % n != 0) {
    const int64_t below = c.gpus / n * n;
    throw InputError("--gpus", std::to_string(c.gpus) + " GPUs are not whole nodes of " +
                                   std::to_string(n) + "; use " + std::to_string(below) + " or " +
                                   std::to_string(below + n) + " (or set --gpus-per-node)");
  }
  if (c.nics_per_node > n) {
    throw InputError("--nics-per-node", std::to_string(c.nics_per_node) +
                                            " NICs is more than one per GPU on a node of " +
                                            std::to_string(n) + " GPUs");
  }
}

// A run file's adjustments of a catalog GPU (a 96 GB, power-capped H100, say).
void AdjustGpu(const SpecInput& in, Gpu& gpu) {
  if (in.gpu_hbm_gb > 0) gpu.hbm_bytes = in.gpu_hbm_gb * 1e9;
  if (in.gpu_hbm_tb_per_s > 0) gpu.hbm_bytes_per_s = in.gpu_hbm_tb_per_s * 1e12;
  if (in.gpu_peak_scale > 0) {
    for (double* peak : {&gpu.fp32_flops, &gpu.tf32_flops, &gpu.bf16_flops, &gpu.fp8_flops}) {
      *peak *= in.gpu_peak_scale;
    }
  }
}

// The GPU, its count and the links between them; the links default to the GPU's own.
Cluster BuildCluster(const SpecInput& in, const Catalog& catalog) {
  if (in.gpu.empty()) throw InputError("--gpu", "is required (see: planner list gpus)");
  Cluster c;
  c.gpu = FindGpu(catalog, in.gpu, "--gpu");
  AdjustGpu(in, c.gpu);
  c.calibration = ChooseCalibration(in, c.gpu);
  RequirePositive(in.gpus, "--gpus");
  AtMost(in.gpus, kMaxGpus, "--gpus");
  c.gpus = in.gpus;
  c.gpus_per_node = in.gpus_per_node == 0 ? kDefaultGpusPerNode : in.gpus_per_node;
  RequirePositive(c.gpus_per_node, "--gpus-per-node");
  AtMost(c.gpus_per_node, kMaxGpusPerNode, "--gpus-per-node");
  c.intra = FindLink(catalog, in.intra_link.empty() ? c.gpu.intra_link : in.intra_link,
                     "--intra-link");
  // Consumer cards (no peer-to-peer) sit in workstation-class servers with one Ethernet NIC, not
  // one InfiniBand port per GPU: default to 1 x 100 GbE per node (an assumption stated in the
  // output header; 8-GPU 4090 servers such as Supermicro SYS-4029GP-TRT2 ship with 10 GbE and
  // take one add-in 100 GbE card).
  const bool consumer = !c.gpu.p2p;
  const std::string inter_default = consumer ? "roce-100" : c.gpu.inter_link;
  c.inter = FindLink(catalog, in.inter_link.empty() ? inter_default : in.inter_link,
                     "--inter-link");
  c.nics_per_node =
      in.nics_per_node != 0 ? in.nics_per_node : (consumer ? 1 : c.gpus_per_node);
  RequirePositive(c.nics_per_node, "--nics-per-node");
  AtMost(c.nics_per_node, kMaxGpusPerNode, "--nics-per-node");
  CheckNodes(c, in.gpus_per_node != 0);
  if (!in.host_memory.empty()) c.host_bytes_per_node = HostMemoryBytes(in.host_memory);
  // The intra link's reach: the flag, else the GPU's own domain (GB200 NVL72), else a node.
  c.scale_up_gpus = in.scale_up_domain != 0 ? in.scale_up_domain : c.gpu.scale_up_gpus;
  if (c.scale_up_gpus != 0) {
    RequirePositive(c.scale_up_gpus, "--scale-up-domain");
    AtMost(c.scale_up_gpus, kMaxGpus, "--scale-up-domain");
    if (c.scale_up_gpus < c.gpus_per_node || c.scale_up_gpus % c.gpus_per_node != 0) {
      throw InputError("--scale-up-domain", "must be a multiple of --gpus-per-node (" +
                                                std::to_string(c.gpus_per_node) + ")");
    }
  }
  return c;
}

// Sequences per step: given, or from tokens per batch, or the model's published batch, or 4M
// tokens.
int64_t GlobalBatch(const SpecInput& in, const Model& model, int64_t seq_len) {
  if (in.global_batch != 0 && in.tokens_per_batch != 0) {
    throw InputError("--global-batch", "give --global-batch or --tokens-per-batch, not both");
  }
  int64_t batch = 0;
  if (in.tokens_per_batch != 0) {
    RequirePositive(in.tokens_per_batch, "--tokens-per-batch");
    if (in.tokens_per_batch % seq_len != 0) {
      throw InputError("--tokens-per-batch", std::to_string(in.tokens_per_batch) +
                                                 " is not a multiple of the sequence length " +
                                                 std::to_string(seq_len));
    }
    batch = in.tokens_per_batch / seq_len;
    if (batch > ModelLimits::kGlobalBatch) {
      throw InputError("--tokens-per-batch",
                       std::to_string(in.tokens_per_batch) + " tokens are " +
                           std::to_string(batch) + " sequences of " + std::to_string(seq_len) +
                           " tokens; at most " + std::to_string(ModelLimits::kGlobalBatch) +
                           " sequences a step are supported");
    }
  } else if (in.global_batch != 0) {
    batch = in.global_batch;
  } else if (model.default_global_batch > 0) {
    // The published batch is in tokens; keep the tokens when the sequence length changes.
    const int64_t tokens = model.default_global_batch * model.seq_len;
    batch = std::max<int64_t>(1, tokens / seq_len);
  } else {
    batch = std::max<int64_t>(1, (4 << 20) / seq_len);  // 4M tokens
  }
  RequirePositive(batch, "--global-batch");
  AtMost(batch, ModelLimits::kGlobalBatch, "--global-batch");
  return batch;
}


// A default sequence length below the model's reach is a choice the user should see made.
std::string SeqLenNote(const SpecInput& in, const Model& model, int64_t seq_len) {
  if (in.seq_len != 0 || model.max_context <= 0 || seq_len == model.max_context) return "";
  return "trains at " + std::to_string(seq_len) + " tokens, the model's default; its maximum "
         "context is " + std::to_string(model.max_context) + " (--seq-len to change)";
}

}  // namespace

// Sequence length, batch, precisions, optimizer, schedule and kernels.
TrainingSetup BuildTrainingSetup(const SpecInput& in, const Model& model, const Gpu& gpu) {
  TrainingSetup s;
  s.seq_len = in.seq_len == 0 ? model.seq_len : in.seq_len;
  RequirePositive(s.seq_len, "--seq-len");
  AtMost(s.seq_len, ModelLimits::kSeqLen, "--seq-len");
  s.global_batch = GlobalBatch(in, model, s.seq_len);
  s.precision = ParsePrecision(in.precision, "--precision");
  if (s.precision == Precision::kFp8 && gpu.fp8_flops <= 0) {
    throw InputError("--precision", gpu.name + " has no fp8 tensor cores");
  }
  s.framework = ParseFramework(in.framework, "--framework");
  const FrameworkFacts& facts = FactsOf(s.framework);
  s.fp32_grads = in.grad_precision.empty()
                     ? facts.fp32_grads_default
                     : ParseChoice<bool>(in.grad_precision, "--grad-precision",
                                         {{"fp32", true}, {"16bit", false}, {"bf16", false}});
  s.overlap_grad_reduce =
      in.overlap_grad_reduce.empty() ||
      ParseChoice<bool>(in.overlap_grad_reduce, "--overlap-grad-reduce", {{"on", true}, {"off", false}});
  s.optimizer = ParseOptimizer(in.optimizer, "--optimizer");
  s.schedule = ParseSchedule(in.schedule, "--schedule");
  s.flash_attention =
      ParseChoice<bool>(in.attention, "--attention", {{"flash", true}, {"standard", false}});
  s.fused_elementwise = !in.eager;
  s.compiled_loss = !in.eager_loss;
  if (in.cuda_graphs && !facts.megatron_core) {
    throw InputError("--cuda-graphs", std::string(facts.name) +
                                          " has no CUDA-graph capture of training in the planner; "
                                          "megatron and nemo do");
  }
  s.cuda_graphs = in.cuda_graphs;
  // Without peer-to-peer, Transformer Engine's userbuffers (which map peers' memory) cannot run.
  if (in.comm_overlap && !gpu.p2p) {
    throw InputError("--comm-overlap", gpu.name + " has no peer-to-peer access between GPUs; "
                                                  "TP communication overlap needs it");
  }
  s.comm_overlap =
      in.comm_overlap || (facts.comm_overlap_default && !in.no_comm_overlap && gpu.p2p);
  s.offload_optimizer =
      !in.offload.empty() &&
      ParseChoice<bool>(in.offload, "--offload", {{"optimizer", true}, {"none", false}});
  if (s.offload_optimizer && !facts.optimizer_offload) {
    throw InputError("--offload", std::string(facts.name) +
                                      " has no optimizer offload in the planner; deepspeed does");
  }
  if (in.zero3_max_live_params < 0) {
    throw InputError("--zero3-max-live-params", "must be positive");
  }
  if (in.zero3_max_live_params > 0 && !facts.zero3_gathers_submodules) {
    throw InputError("--zero3-max-live-params",
                     std::string(facts.name) + " has no live-parameter cap; deepspeed does");
  }
  s.zero3_max_live_params = in.zero3_max_live_params;
  return s;
}

double HostMemoryBytes(const std::string& typed) {
  const double bytes = ParseSize(typed, "--host-memory", SiBase::kBinary);
  if (!(bytes >= 1 && bytes <= 1e15)) {
    throw InputError("--host-memory", "expected a size such as 512Gi, got " + typed);
  }
  return bytes;
}

Specs BuildSpecs(const SpecInput& in, const Catalog& catalog) {
  if (in.model.empty() && in.model_json.empty()) throw InputError("--model", "is required (a catalog name or a JSON file)");
  Specs specs;
  specs.model = in.model_json.empty() ? FindModel(catalog, in.model, "--model")
                                      : ParseModelJson(in.model_json, "model");
  specs.cluster = BuildCluster(in, catalog);
  specs.setup = BuildTrainingSetup(in, specs.model, specs.cluster.gpu);
  specs.seq_len_note = SeqLenNote(in, specs.model, specs.setup.seq_len);
  return specs;
}

}  // namespace planner
