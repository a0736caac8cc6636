// Pieces the emitters share (internal to src/emit_*.cc).
#pragma once

#include <map>
#include <string>

#include "planner/render/emit.h"

namespace planner {

/// "llama2-70b on 2048 x rtx-4090: TP 2, PP 8 x 5 virtual stages, DP 128, ..." for comments.
std::string PlanSummary(const Specs& s, const Plan& p);

/// How Megatron-core states a plan's stage split (LayersSplit in search/evaluate.cc reads it the
/// same way): the embedding and/or the loss taking one layer's slot, or a first stage of its
/// own size with the rest even. A last stage of its own size has no setting; the search never
/// proposes one.
struct StageSplitFlags {
  bool embedding_slot = false;  ///< --account-for-embedding-in-pipeline-split
  bool loss_slot = false;       ///< --account-for-loss-in-pipeline-split
  int first_stage_layers = 0;   ///< --decoder-first-pipeline-num-layers; 0: none
};
StageSplitFlags StageSplitOf(const Model& m, const Plan& p);

/// Megatron-LM shards gradients (ZeRO-2) and weights (ZeRO-3) only through its custom FSDP,
/// which runs with TP, CP and EP but not with pipeline parallelism.
bool UsesMegatronFsdp(const Plan& p);

/// ZeRO-2/3 with PP > 1: neither Megatron-LM's FSDP nor DeepSpeed's pipeline engine runs it.
bool ZeroBeyondPipelineLimit(const Plan& p);

/// Vocabulary rows after Megatron's padding to a multiple of 128 x TP
/// (--make-vocab-size-divisible-by).
int64_t PaddedVocab(int64_t vocab, int tp);

/// torchrun's own flags for a manual start, node by node (NODE_RANK and MASTER_ADDR from the
/// environment): the default of TORCHRUN_ARGS in megatron.sh and deepspeed.sh.
std::string ManualTorchrunArgs(const Cluster& c);

/// CUDA_DEVICE_MAX_CONNECTIONS as Megatron-core wants it for the plan: unset with its FSDP, 1
/// with TP or CP > 1 (so TP/CP communication kernels are queued before the compute they
/// overlap); "" otherwise. Shared by megatron.sh and bridge.sh.
std::string CudaConnectionsEnv(const Plan& p);

/// NCCL settings for the scripts every node runs: across nodes, NCCL_IB_HCA and
/// NCCL_SOCKET_IFNAME as placeholders that stop the script until set; NCCL_P2P_DISABLE=1 on GPUs
/// without peer-to-peer. "" when nothing applies.
std::string NcclEnv(const Cluster& c);

/// `text` with every @name@ replaced by fields.at(name). Script templates use @...@ because the
/// shell owns ${...}; "@]" (as in "${ARGS[@]}") is not a placeholder.
std::string Fill(const std::string& text, const std::map<std::string, std::string>& fields);

/// "# " before every line of `text`.
std::string Commented(const std::string& text);

}  // namespace planner
