#!/bin/bash
# Slurm launch of
# gpt3-175b on 1024 x a100-80gb: TP 8, PP 8 x 3 virtual stages, DP 16, micro-batch 1 x 96 accumulation steps, recompute selective, ZeRO-1, sequence parallel.
# sbatch launch.sh from this directory: every node runs megatron.sh, or with FRAMEWORK=megatron
# megatron.sh (Megatron-LM), FRAMEWORK=deepspeed deepspeed.sh (Megatron-DeepSpeed and
# ds_config.json), FRAMEWORK=bridge bridge.sh (Megatron-Bridge and bridge.overrides).
# Batch: global batch = micro-batch x data-parallel size x accumulation steps
#   1536 = 1 x 16 x 96
#   data-parallel size 16 = 1024 GPUs / (TP 8 x PP 8 x CP 1)
#SBATCH --job-name=gpt3-175b
#SBATCH --nodes=128
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
export TORCHRUN_ARGS="--nnodes 128 --nproc_per_node 8 --rdzv_id $SLURM_JOB_ID --rdzv_backend c10d --rdzv_endpoint $MASTER_ADDR:29500"
# Each node runs: torchrun $TORCHRUN_ARGS <the training script of $FRAMEWORK.sh>
srun bash "$FRAMEWORK.sh"
