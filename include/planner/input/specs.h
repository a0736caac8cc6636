// What the command line (or a sweep file) asks for, validated: model, cluster, setup, options.
#pragma once

#include <optional>
#include <string>

#include "planner/input/catalog.h"
#include "planner/model/hardware.h"
#include "planner/model/model.h"
#include "planner/model/plan.h"

namespace planner {

enum class Format { kTable, kJson, kCsv };

/// The largest clusters the planner answers for (sequence and batch limits: ModelLimits).
inline constexpr int64_t kMaxGpus = 1'000'000;
/// GPUs per node when --gpus-per-node is not given.
inline constexpr int64_t kDefaultGpusPerNode = 8;
inline constexpr int64_t kMaxGpusPerNode = 1024;  ///< also NICs per node

/// Raw values as typed; empty / 0 means "not given". Turned into specs by BuildSpecs.
struct SpecInput {
  std::string model;
  std::vector<std::string> catalogs;
  std::string gpu;
  int64_t gpus = 0;
  int64_t gpus_per_node = 0;
  std::string intra_link;
  std::string inter_link;
  int64_t nics_per_node = 0;
  int64_t scale_up_domain = 0;  ///< GPUs the intra link joins; 0: the GPU's default, else a node
  std::string host_memory;  ///< host memory per node as typed ("512Gi"); empty: the default
  int64_t seq_len = 0;
  int64_t global_batch = 0;
  int64_t tokens_per_batch = 0;
  std::string model_json;  ///< an inline model (planner schema) from a run file; wins over `model`
  /// GPU as a run file may adjust it (0: the catalog's): memory, bandwidth, and a scale of the
  /// peaks for a power-capped part.
  double gpu_hbm_gb = 0;
  double gpu_hbm_tb_per_s = 0;
  double gpu_peak_scale = 0;
  std::string precision = "bf16";
  std::string framework = "megatron";
  std::string grad_precision;  ///< fp32 or 16bit; empty: the framework's default
  std::string overlap_grad_reduce;  ///< on or off; empty: on (every framework's default)
  std::string optimizer = "adamw";
  std::string schedule = "1f1b";
  std::string attention = "flash";
  bool comm_overlap = false;  ///< TP collectives and pipeline sends overlapped (Transformer Engine)
  bool no_comm_overlap = false;  ///< turns off a framework's default overlap
  std::string offload;  ///< "optimizer" or "none"; empty: none
  double zero3_max_live_params = 0;  ///< stage3_max_live_parameters, elements; 0: default
  bool cuda_graphs = false;  ///< kernels replayed from CUDA graphs (Megatron --enable-cuda-graph)
  bool eager = false;  ///< PyTorch eager: element-wise operators unfused (torchtitan without compile)
  bool eager_loss = false;  ///< the loss left uncompiled under torch.compile (torchtitan, 2024)
  /// A calibration file (`planner calibrate --out`); empty: the GPU's built-in constants.
  std::string calibration;
};

struct Specs {
  Model model;
  Cluster cluster;
  TrainingSetup setup;
  /// One line for the output when the sequence length was not given and is not the model's
  /// maximum context ("trains at 4096 tokens, the model's default; its maximum context is
  /// 131072 (--seq-len to change)"); empty otherwise.
  std::string seq_len_note{};
};

/// Validates and resolves names against the catalog. Throws InputError naming the flag.
Specs BuildSpecs(const SpecInput& in, const Catalog& catalog);
/// The training setup the flags state (sequence, batch, precisions, optimizer, schedule, kernels,
/// framework rules), checked against `gpu` as the search checks it; `planner memory` uses it.
TrainingSetup BuildTrainingSetup(const SpecInput& in, const Model& model, const Gpu& gpu);
/// The GPU's built-in constants, or those of in.calibration (a `planner calibrate --out` file),
/// which must have been fitted on the same GPU; InputError("--calibration") otherwise.
Calibration ChooseCalibration(const SpecInput& in, const Gpu& gpu);
/// --host-memory as typed ("512Gi", "2Ti"), in bytes; InputError("--host-memory") unless a size
/// from 1 byte to 1 PB.
double HostMemoryBytes(const std::string& typed);

Precision ParsePrecision(const std::string& s, const std::string& where);
Recompute ParseRecompute(const std::string& s, const std::string& where);
Schedule ParseSchedule(const std::string& s, const std::string& where);
Optimizer ParseOptimizer(const std::string& s, const std::string& where);
Format ParseFormat(const std::string& s, const std::string& where);
Framework ParseFramework(const std::string& s, const std::string& where);

}  // namespace planner
