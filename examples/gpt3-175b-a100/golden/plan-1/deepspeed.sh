#!/bin/bash
# Megatron-DeepSpeed (github.com/deepspeedai/Megatron-DeepSpeed) pretrain_gpt.py for
# gpt3-175b on 1024 x a100-80gb: TP 8, PP 8 x 3 virtual stages, DP 16, micro-batch 1 x 96 accumulation steps, recompute selective, ZeRO-1, sequence parallel.
# These are Megatron-DeepSpeed's flags, not today's Megatron-LM's (see megatron.sh).
# DeepSpeed has no tensor or pipeline parallelism of its own for this model: it runs
# through Megatron-DeepSpeed, which takes the parallel sizes below and reads batch,
# ZeRO and precision from ds_config.json.
# NOTE: DeepSpeed's pipeline engine has no interleaved schedule: each stage holds one
# chunk of layers instead of the plan's 3, so the pipeline bubble is larger than planned.
# Set MEGATRON_DEEPSPEED_DIR, DATA_PATH and TOKENIZER_MODEL; start it on every node with
# NODE_RANK and MASTER_ADDR set, or through launch.sh (FRAMEWORK=deepspeed).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CUDA_DEVICE_MAX_CONNECTIONS=1
# Placeholders your site fills: InfiniBand/RoCE HCAs (ibv_devinfo) and the interface
# NCCL bootstraps on (ip -br addr).
export NCCL_IB_HCA=${NCCL_IB_HCA:?placeholder: set NCCL_IB_HCA, e.g. mlx5_0,mlx5_1}
export NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:?placeholder: set NCCL_SOCKET_IFNAME, e.g. eth0}
ARGS=(
  --tensor-model-parallel-size 8 --pipeline-model-parallel-size 8
  --sequence-parallel
  --micro-batch-size 1 --global-batch-size 1536
  --recompute-granularity selective
  --bf16
  --num-layers 96 --hidden-size 12288 --ffn-hidden-size 49152 --num-attention-heads 96
  --seq-length 2048 --max-position-embeddings 2048
  --use-flash-attn-v2
  --deepspeed --deepspeed_config "$HERE/ds_config.json" --zero-stage 1
)
# Placeholders: your data, tokenizer and schedule.
DATA_ARGS=(
  --data-path "${DATA_PATH:?set DATA_PATH to an indexed dataset prefix}"
  --tokenizer-type HFTokenizer
  --tokenizer-model "${TOKENIZER_MODEL:?set TOKENIZER_MODEL to a tokenizer}"
  --split "99,1,0"
  # Placeholders: checkpoints go to and resume from CHECKPOINT_DIR every SAVE_INTERVAL steps.
  --save "${CHECKPOINT_DIR:?set CHECKPOINT_DIR to a directory every node shares}"
  --load "$CHECKPOINT_DIR" --save-interval "${SAVE_INTERVAL:-1000}"
  --train-iters "${TRAIN_ITERS:-1000}" --lr "${LR:-3.0e-4}" --min-lr "${MIN_LR:-3.0e-5}"
  --lr-decay-style cosine --lr-warmup-iters "${WARMUP_ITERS:-100}"
  --weight-decay 0.1 --adam-beta1 0.9 --adam-beta2 0.95 --clip-grad 1.0
  --log-interval 1 --eval-interval 1000 --eval-iters 10
)

# torchrun's own flags (not pretrain_gpt.py's).
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"--nnodes 128 --nproc_per_node 8 --node_rank ${NODE_RANK:?set NODE_RANK} --master_addr ${MASTER_ADDR:?set MASTER_ADDR} --master_port ${MASTER_PORT:-29500}"}
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "${MEGATRON_DEEPSPEED_DIR:?set MEGATRON_DEEPSPEED_DIR to a checkout}/pretrain_gpt.py" \
  "${ARGS[@]}" "${DATA_ARGS[@]}"
