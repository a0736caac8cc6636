#!/bin/bash
# Megatron-DeepSpeed (github.com/deepspeedai/Megatron-DeepSpeed) pretrain_gpt.py for
# llama2-70b on 2048 x rtx-4090: TP 2, PP 16 x 5 virtual stages, DP 64, micro-batch 1 x 16 accumulation steps, recompute full, ZeRO-1, sequence parallel.
# These are Megatron-DeepSpeed's flags, not today's Megatron-LM's (see megatron.sh).
# DeepSpeed has no tensor or pipeline parallelism of its own for this model: it runs
# through Megatron-DeepSpeed, which takes the parallel sizes below and reads batch,
# ZeRO and precision from ds_config.json.
# NOTE: DeepSpeed's pipeline engine has no interleaved schedule: each stage holds one
# chunk of layers instead of the plan's 5, so the pipeline bubble is larger than planned.
# Set MEGATRON_DEEPSPEED_DIR, DATA_PATH and TOKENIZER_MODEL; start it on every node with
# NODE_RANK and MASTER_ADDR set, or through launch.sh (FRAMEWORK=deepspeed).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CUDA_DEVICE_MAX_CONNECTIONS=1
# Placeholders your site fills: InfiniBand/RoCE HCAs (ibv_devinfo) and the interface
# NCCL bootstraps on (ip -br addr).
export NCCL_IB_HCA=${NCCL_IB_HCA:?placeholder: set NCCL_IB_HCA, e.g. mlx5_0,mlx5_1}
export NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME:?placeholder: set NCCL_SOCKET_IFNAME, e.g. eth0}
export NCCL_P2P_DISABLE=1  # rtx-4090 has no peer-to-peer between cards: NCCL goes through host memory
ARGS=(
  --tensor-model-parallel-size 2 --pipeline-model-parallel-size 16
  --sequence-parallel
  --micro-batch-size 1 --global-batch-size 1024
  --recompute-granularity full --recompute-method uniform --deepspeed-activation-checkpointing
  --bf16
  --num-layers 80 --hidden-size 8192 --ffn-hidden-size 28672 --num-attention-heads 64
  --num-key-value-heads 8
  --seq-length 4096 --max-position-embeddings 4096
  --swiglu --normalization rmsnorm --use-rotary-position-embeddings --untie-embeddings-and-output-weights --disable-bias-linear --attention-dropout 0 --hidden-dropout 0 --use-flash-attn-v2
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
TORCHRUN_ARGS=${TORCHRUN_ARGS:-"--nnodes 256 --nproc_per_node 8 --node_rank ${NODE_RANK:?set NODE_RANK} --master_addr ${MASTER_ADDR:?set MASTER_ADDR} --master_port ${MASTER_PORT:-29500}"}
# shellcheck disable=SC2086  # TORCHRUN_ARGS splits into words on purpose
torchrun $TORCHRUN_ARGS "${MEGATRON_DEEPSPEED_DIR:?set MEGATRON_DEEPSPEED_DIR to a checkout}/pretrain_gpt.py" \
  "${ARGS[@]}" "${DATA_ARGS[@]}"
