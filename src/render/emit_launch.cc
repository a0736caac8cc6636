// The launcher: a Slurm sbatch script that starts torchrun on every node (launch.sh).
#include <cctype>
#include <numeric>
#include <string>

#include "emit_common.h"
#include "planner/render/emit.h"

namespace planner {

NodeLayout NodesFor(const Cluster& c) {
  // Whole nodes when the GPUs fill them; else the largest equal share per node that adds up.
  const int64_t per_node = std::gcd(c.gpus, c.gpus_per_node);
  return NodeLayout{.nnodes = c.gpus / per_node, .nproc_per_node = per_node};
}

std::string ManualTorchrunArgs(const Cluster& c) {
  const NodeLayout n = NodesFor(c);
  if (n.nnodes == 1) return "--standalone --nproc_per_node " + std::to_string(n.nproc_per_node);
  return "--nnodes " + std::to_string(n.nnodes) + " --nproc_per_node " +
         std::to_string(n.nproc_per_node) +
         " --node_rank ${NODE_RANK:?set NODE_RANK} --master_addr ${MASTER_ADDR:?set MASTER_ADDR}"
         " --master_port ${MASTER_PORT:-29500}";
}

std::string CudaConnectionsEnv(const Plan& p) {
  if (UsesMegatronFsdp(p)) {
    return "unset CUDA_DEVICE_MAX_CONNECTIONS  # Megatron-core's FSDP wants it unset\n";
  }
  if (p.tp > 1 || p.cp > 1) {
    return "export CUDA_DEVICE_MAX_CONNECTIONS=1  # Megatron-core requires it with TP or CP > 1\n";
  }
  return "";
}

std::string NcclEnv(const Cluster& c) {
  std::string env;
  if (NodesFor(c).nnodes > 1) {
    // Site facts no catalog has: which HCAs carry NCCL's traffic and which interface its
    // bootstrap uses. Left unset, NCCL may pick a management NIC; so the script stops instead.
    env +=
        "# Placeholders your site fills: InfiniBand/RoCE HCAs (ibv_devinfo) and the interface\n"
        "# NCCL bootstraps on (ip -br addr).\n"
        "export NCCL_IB_HCA=${NCCL_IB_HCA:?placeholder: set NCCL_IB_HCA, e.g. mlx5_0,mlx5_1}\n"
        "export NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:?placeholder: set NCCL_SOCKET_IFNAME, "
        "e.g. eth0}\n";
  }
  if (!c.gpu.p2p && NodesFor(c).nproc_per_node > 1) {
    // The plan's intra-node collectives were costed through host memory (catalog p2p: false).
    env += "export NCCL_P2P_DISABLE=1  # " + c.gpu.name +
           " has no peer-to-peer between cards: NCCL goes through host memory\n";
  }
  return env;
}

namespace {

// The identity every emitted config keeps (tests/emit_batch_test.cc checks it for whole searches).
std::string BatchIdentity(const Specs& s, const Plan& p, const NodeLayout& n) {
  const std::string gb = std::to_string(s.setup.global_batch);
  std::string text =
      "Batch: global batch = micro-batch x data-parallel size x accumulation steps\n"
      "  " +
      gb + " = " + std::to_string(p.micro_batch) + " x " + std::to_string(p.dp) + " x " +
      std::to_string(p.grad_accum) +
      "\n"
      "  data-parallel size " +
      std::to_string(p.dp) + " = " + std::to_string(s.cluster.gpus) + " GPUs / (TP " +
      std::to_string(p.tp) + " x PP " + std::to_string(p.pp) + " x CP " + std::to_string(p.cp) +
      ")\n";
  if (static_cast<int64_t>(p.tp) * p.pp * p.cp == 1) {
    text +=
        "With TP = PP = 1: global batch = gradient_accumulation_steps x nnodes x "
        "nproc_per_node x micro_batch_size\n"
        "  " +
        gb + " = " + std::to_string(p.grad_accum) + " x " + std::to_string(n.nnodes) + " x " +
        std::to_string(n.nproc_per_node) + " x " + std::to_string(p.micro_batch) + "\n";
  }
  return text;
}

std::string JobName(const std::string& model) {
  std::string name;
  for (char ch : model) {
    const bool plain =
        std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
    name += plain ? ch : '_';
  }
  return name.empty() ? "planner" : name;
}

}  // namespace

// Cores asked per GPU: one task per node runs every process of the node, and Slurm's default of
// one CPU per task would pin them all to one core. Eight fit the GPU servers of the catalog
// (DGX A100: 128 cores for 8 GPUs; DGX H100: 112); a placeholder a site may raise.
constexpr int64_t kCpusPerGpu = 8;

// Slurm starts one task per node; torchrun there starts one process per GPU.
constexpr const char* kLaunchScript = R"sh(#!/bin/bash
# Slurm launch of
# @summary@.
# sbatch launch.sh from this directory: every node runs @framework@.sh, or with FRAMEWORK=megatron
# megatron.sh (Megatron-LM), FRAMEWORK=deepspeed deepspeed.sh (Megatron-DeepSpeed and
# ds_config.json), FRAMEWORK=bridge bridge.sh (Megatron-Bridge and bridge.overrides).
@batch@#SBATCH --job-name=@job@
#SBATCH --nodes=@nnodes@
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=@nproc@
#SBATCH --cpus-per-task=@cpus@  # placeholder: cores for the node's @nproc@ processes
#SBATCH --exclusive
#SBATCH --time=24:00:00  # placeholder: your time limit
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
FRAMEWORK=${FRAMEWORK:-@framework@}
if [[ ! -f "$FRAMEWORK.sh" ]]; then
  echo "launch.sh: no $FRAMEWORK.sh in $PWD; have the planner emit it, or set FRAMEWORK" >&2
  exit 2
fi
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)

# torchrun's own flags: one process per GPU, rendezvous on the first node.
export TORCHRUN_ARGS="--nnodes @nnodes@ --nproc_per_node @nproc@ --rdzv_id $SLURM_JOB_ID --rdzv_backend c10d --rdzv_endpoint $MASTER_ADDR:29500"
# Each node runs: torchrun $TORCHRUN_ARGS <the training script of $FRAMEWORK.sh>
srun bash "$FRAMEWORK.sh"
)sh";

std::string LaunchScript(const Specs& s, const Plan& p) {
  const NodeLayout n = NodesFor(s.cluster);
  std::string batch = BatchIdentity(s, p, n);
  if (n.nproc_per_node != s.cluster.gpus_per_node) {
    batch += std::to_string(s.cluster.gpus) + " GPUs do not fill nodes of " +
             std::to_string(s.cluster.gpus_per_node) + ": " + std::to_string(n.nproc_per_node) +
             " processes on each of " + std::to_string(n.nnodes) + " nodes.\n";
  }
  // NeMo's own files are Megatron-Bridge's; DeepSpeed plans run deepspeed.sh.
  const char* framework = s.setup.framework == Framework::kNemo        ? "bridge"
                          : s.setup.framework == Framework::kDeepSpeed ? "deepspeed"
                                                                       : "megatron";
  return Fill(kLaunchScript, {{"summary", PlanSummary(s, p)},
                              {"framework", framework},
                              {"batch", Commented(batch)},
                              {"job", JobName(s.model.name)},
                              {"nnodes", std::to_string(n.nnodes)},
                              {"nproc", std::to_string(n.nproc_per_node)},
                              {"cpus", std::to_string(kCpusPerGpu * n.nproc_per_node)}});
}

}  // namespace planner
