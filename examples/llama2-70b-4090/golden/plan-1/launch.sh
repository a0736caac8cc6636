#!/bin/bash
# Slurm launch of
# llama2-70b on 2048 x rtx-4090: TP 2, PP 16 x 5 virtual stages, DP 64, micro-batch 1 x 16 accumulation steps, recompute full, ZeRO-1, sequence parallel.
# sbatch launch.sh from this directory: every node runs megatron.sh, or with FRAMEWORK=megatron
# megatron.sh (Megatron-LM), FRAMEWORK=deepspeed deepspeed.sh (Megatron-DeepSpeed and
# ds_config.json), FRAMEWORK=bridge bridge.sh (Megatron-Bridge and bridge.overrides).
# Batch: global batch = micro-batch x data-parallel size x accumulation steps
#   1024 = 1 x 64 x 16
#   data-parallel size 64 = 2048 GPUs / (TP 2 x PP 16 x CP 1)
#SBATCH --job-name=llama2-70b
#SBATCH --nodes=256
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=64  # placeholder: cores for the node's 8 processes
#SBATCH --exclusive
#SBATCH --time=24:00:00  # placeholder: your time limit
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
FRAMEWORK=${FRAMEWORK:-megatron}
if [[ ! -f "$FRAMEWORK.sh" ]]; then
  echo "launch.sh: no $FRAMEWORK.sh in $PWD; have the planner emit it, or set FRAMEWORK" >&2
  exit 2
fi
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)

# torchrun's own flags: one process per GPU, rendezvous on the first node.
export TORCHRUN_ARGS="--nnodes 256 --nproc_per_node 8 --rdzv_id $SLURM_JOB_ID --rdzv_backend c10d --rdzv_endpoint $MASTER_ADDR:29500"
# Each node runs: torchrun $TORCHRUN_ARGS <the training script of $FRAMEWORK.sh>
srun bash "$FRAMEWORK.sh"
