#!/bin/bash
# Slurm launch of
# llama3-70b on 64 x gb200: TP 1, PP 1, DP 64, micro-batch 1 x 4 accumulation steps, recompute none, ZeRO-3.
# sbatch launch.sh from this directory: every node runs bridge.sh, or with FRAMEWORK=megatron
# megatron.sh (Megatron-LM), FRAMEWORK=deepspeed deepspeed.sh (Megatron-DeepSpeed and
# ds_config.json), FRAMEWORK=bridge bridge.sh (Megatron-Bridge and bridge.overrides).
# Batch: global batch = micro-batch x data-parallel size x accumulation steps
#   256 = 1 x 64 x 4
#   data-parallel size 64 = 64 GPUs / (TP 1 x PP 1 x CP 1)
# With TP = PP = 1: global batch = gradient_accumulation_steps x nnodes x nproc_per_node x micro_batch_size
#   256 = 4 x 16 x 4 x 1
#SBATCH --job-name=llama3-70b
#SBATCH --nodes=16
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=32  # placeholder: cores for the node's 4 processes
#SBATCH --exclusive
#SBATCH --time=24:00:00  # placeholder: your time limit
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
FRAMEWORK=${FRAMEWORK:-bridge}
if [[ ! -f "$FRAMEWORK.sh" ]]; then
  echo "launch.sh: no $FRAMEWORK.sh in $PWD; have the planner emit it, or set FRAMEWORK" >&2
  exit 2
fi
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)

# torchrun's own flags: one process per GPU, rendezvous on the first node.
export TORCHRUN_ARGS="--nnodes 16 --nproc_per_node 4 --rdzv_id $SLURM_JOB_ID --rdzv_backend c10d --rdzv_endpoint $MASTER_ADDR:29500"
# Each node runs: torchrun $TORCHRUN_ARGS <the training script of $FRAMEWORK.sh>
srun bash "$FRAMEWORK.sh"
