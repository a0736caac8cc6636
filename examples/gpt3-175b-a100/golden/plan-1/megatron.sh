#!/bin/bash
# Megatron-LM pretrain_gpt.py for
# gpt3-175b on 1024 x a100-80gb: TP 8, PP 8 x 3 virtual stages, DP 16, micro-batch 1 x 96 accumulation steps, recompute selective, ZeRO-1, sequence parallel.
# Set MEGATRON_DIR (a Megatron-LM checkout), DATA_PATH and TOKENIZER_MODEL, or MOCK_DATA=1 for a
# smoke test without data. Start it on every node with NODE_RANK and MASTER_ADDR set, or through
# launch.sh (Slurm), which sets TORCHRUN_ARGS.
# Vocabulary: 51200 tokens from the tokenizer, padded by Megatron-LM to a multiple of 128 x TP: 51200 rows.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CUDA_DEVICE_MAX_CONNECTIONS=1  # Megatron-core requires it with TP or CP > 1
# Placeholders your site fills: InfiniBand/RoCE HCAs (ibv_devinfo) and the interface
# NCCL bootstraps on (ip -br addr).
export NCCL_IB_HCA=${NCCL_IB_HCA:?placeholder: set NCCL_IB_HCA, e.g. mlx5_0,mlx5_1}
export NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:?placeholder: set NCCL_SOCKET_IFNAME, e.g. eth0}

ARGS=()  # megatron.args: the plan and the model, one flag a line
while read -r -a words; do ARGS+=("${words[@]}"); done < "$HERE/megatron.args"

# Placeholders: your data, tokenizer and schedule.
if [[ "${MOCK_DATA:-0}" == 1 ]]; then
  DATA_ARGS=(--mock-data --tokenizer-type NullTokenizer --vocab-size 51200)
else
  DATA_ARGS=(
    --data-path "${DATA_PATH:?set DATA_PATH to a Megatron-LM indexed dataset prefix}"
    --tokenizer-type HuggingFaceTokenizer
    --tokenizer-model "${TOKENIZER_MODEL:?set TOKENIZER_MODEL to a tokenizer}"
    --split "99,1,0"
    # Placeholders: checkpoints go to and resume from CHECKPOINT_DIR every SAVE_INTERVAL steps.
    --save "${CHECKPOINT_DIR:?set CHECKPOINT_DIR to a directory every node shares}"
    --load "$CHECKPOINT_DIR" --save-interval "${SAVE_INTERVAL:-1000}"
  )
fi
TRAIN_ARGS=(
  --train-iters "${TRAIN_ITERS:-1000}" --lr "${LR:-3.0e-4}" --min-lr "${MIN_LR:-3.0e-5}"
  --lr-decay-style cosine --lr-warmup-iters "${WARMUP_ITERS:-100}"
  --weight-decay 0.1 --adam-beta1 0.9 --adam-beta2 0.95 --clip-grad 1.0
  --log-interval 1 --eval-interval 1000 --eval-iters 10
)

# torchrun's own flags (not pretrain_gpt.py's).
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"--nnodes 128 --nproc_per_node 8 --node_rank ${NODE_RANK:?set NODE_RANK} --master_addr ${MASTER_ADDR:?set MASTER_ADDR} --master_port ${MASTER_PORT:-29500}"}
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "${MEGATRON_DIR:?set MEGATRON_DIR to a Megatron-LM checkout}/pretrain_gpt.py" \
  "${ARGS[@]}" "${DATA_ARGS[@]}" "${TRAIN_ARGS[@]}"
