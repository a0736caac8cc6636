#!/bin/bash
# Megatron-Bridge scripts/training/run_recipe.py for
# llama3-70b on 64 x gb200: TP 1, PP 1, DP 64, micro-batch 1 x 4 accumulation steps, recompute none, ZeRO-3.
# Set BRIDGE_DIR (a Megatron-Bridge checkout), DATA_PATH (an indexed dataset prefix) and
# TOKENIZER_MODEL, or MOCK_DATA=1 for a smoke test without data. Start it on every node with
# NODE_RANK and MASTER_ADDR set, or through launch.sh (FRAMEWORK=bridge), which sets
# TORCHRUN_ARGS. Iterations, learning-rate schedule and checkpoints are the recipe's: add
# overrides (train.train_iters=..., checkpoint.save=...) to change them.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
unset CUDA_DEVICE_MAX_CONNECTIONS  # Megatron-core's FSDP wants it unset
# Placeholders your site fills: InfiniBand/RoCE HCAs (ibv_devinfo) and the interface
# NCCL bootstraps on (ip -br addr).
export NCCL_IB_HCA=${NCCL_IB_HCA:?placeholder: set NCCL_IB_HCA, e.g. mlx5_0,mlx5_1}
export NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:?placeholder: set NCCL_SOCKET_IFNAME, e.g. eth0}
RECIPE=${RECIPE:-llama3_70b_pretrain_config}
OVERRIDES=()  # bridge.overrides: the plan, one override a line
while read -r line; do OVERRIDES+=("$line"); done < "$HERE/bridge.overrides"

if [[ "${MOCK_DATA:-0}" == 1 ]]; then
  DATA_ARGS=(--dataset llm-pretrain-mock)
else
  DATA_ARGS=(--dataset llm-pretrain
    "dataset.blend=[[${DATA_PATH:?set DATA_PATH to an indexed dataset prefix}],null]"
    tokenizer.tokenizer_type=HuggingFaceTokenizer
    "tokenizer.tokenizer_model=${TOKENIZER_MODEL:?set TOKENIZER_MODEL to a tokenizer}")
fi

# torchrun's own flags (not run_recipe.py's).
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"--nnodes 16 --nproc_per_node 4 --node_rank ${NODE_RANK:?set NODE_RANK} --master_addr ${MASTER_ADDR:?set MASTER_ADDR} --master_port ${MASTER_PORT:-29500}"}
RUNNER="${BRIDGE_DIR:?set BRIDGE_DIR to a Megatron-Bridge checkout}/scripts/training/run_recipe.py"
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "$RUNNER" --recipe "$RECIPE" "${DATA_ARGS[@]}" "${OVERRIDES[@]}"
