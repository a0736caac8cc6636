#include "planner/search/plan_rules.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "planner/cost/collectives.h"
#include "planner/cost/compute_model.h"
#include "planner/cost/framework.h"

namespace planner {
namespace {

bool Divides(int64_t d, int64_t n) { return d > 0 && n % d == 0; }
std::string Str(int64_t v) { return std::to_string(v); }

bool SizesPositive(const RuleInput& in) {
  const Plan& p = in.p;
  return p.tp >= 1 && p.pp >= 1 && p.dp >= 1 && p.cp >= 1 && p.ep >= 1 && p.micro_batch >= 1 &&
         p.grad_accum >= 1 && p.virtual_stages >= 1 && p.zero_stage >= 0 && p.zero_stage <= 3;
}
std::string SizesPositiveWhy(const RuleInput&) {
  return "every parallel size, the micro-batch and the accumulation steps must be at least 1, "
         "and the ZeRO stage 0 to 3";
}

int64_t PlanGpus(const Plan& p) { return static_cast<int64_t>(p.tp) * p.cp * p.pp * p.dp; }
bool GpusMatch(const RuleInput& in) { return PlanGpus(in.p) == in.c.gpus; }
std::string GpusMatchWhy(const RuleInput& in) {
  return "tp*cp*pp*dp = " + Str(PlanGpus(in.p)) + ", not the " + Str(in.c.gpus) + " GPUs";
}

bool TpSplitsHeads(const RuleInput& in) {
  return Divides(in.p.tp, in.m.heads) && Divides(in.p.tp, in.m.kv_heads);
}
std::string TpSplitsHeadsWhy(const RuleInput& in) {
  return "tp " + Str(in.p.tp) + " does not divide heads " + Str(in.m.heads) + " and kv_heads " +
         Str(in.m.kv_heads);
}

bool TpSplitsFfn(const RuleInput& in) { return Divides(in.p.tp, in.m.ffn_hidden); }
std::string TpSplitsFfnWhy(const RuleInput& in) {
  return "tp " + Str(in.p.tp) + " does not divide the FFN size " + Str(in.m.ffn_hidden);
}

bool LayersSplitRule(const RuleInput& in) { return LayersSplit(in.m, in.p); }
std::string LayersSplitWhy(const RuleInput& in) {
  return "layers " + Str(in.m.layers) + " do not split into pp " + Str(in.p.pp) +
         " x virtual stages " + Str(in.p.virtual_stages);
}

bool BatchMatches(const RuleInput& in) {
  return static_cast<int64_t>(in.p.micro_batch) * in.p.dp * in.p.grad_accum == in.s.global_batch;
}
std::string BatchMatchesWhy(const RuleInput& in) {
  return "micro-batch " + Str(in.p.micro_batch) + " x dp " + Str(in.p.dp) + " x accumulation " +
         Str(in.p.grad_accum) + " is not the global batch " + Str(in.s.global_batch);
}

bool SpNeedsTp(const RuleInput& in) { return !in.p.sequence_parallel || in.p.tp > 1; }
std::string SpNeedsTpWhy(const RuleInput&) { return "sequence parallelism needs tp > 1"; }

// Megatron's interleaved schedule needs pp > 1 and micro-batches in multiples of pp.
bool InterleavingRuns(const RuleInput& in) {
  const Plan& p = in.p;
  if (p.virtual_stages == 1) return true;
  const bool plain = in.s.schedule == Schedule::kGPipe || in.s.schedule == Schedule::kNaive;
  return p.pp > 1 && p.grad_accum % p.pp == 0 && !plain;
}
std::string InterleavingRunsWhy(const RuleInput& in) {
  return "interleaving needs pp > 1, the 1F1B schedule, and micro-batches (" +
         Str(in.p.grad_accum) + ") in multiples of pp";
}

// Ring attention with load balancing splits each sequence into 2 cp chunks.
bool CpSplitsSequence(const RuleInput& in) {
  return in.p.cp == 1 || in.s.seq_len % (2 * in.p.cp) == 0;
}
std::string CpSplitsSequenceWhy(const RuleInput& in) {
  return "context parallelism splits each sequence into 2 x cp chunks; " + Str(in.s.seq_len) +
         " tokens do not split into " + Str(2 * in.p.cp);
}

bool EpFits(const RuleInput& in) {
  const Plan& p = in.p;
  return p.ep == 1 || (IsMoe(in.m) && Divides(p.ep, in.m.experts) && Divides(p.ep, p.dp));
}
std::string EpFitsWhy(const RuleInput& in) {
  if (!IsMoe(in.m)) return "expert parallelism needs a mixture-of-experts model";
  return "ep " + Str(in.p.ep) + " must divide the experts " + Str(in.m.experts) + " and dp " +
         Str(in.p.dp);
}

// Megatron-LM shards gradients and weights only in its FSDP, which has no pipeline
// parallelism; DeepSpeed's pipeline engine takes ZeRO stages 0 and 1 only; torchtitan composes
// FSDP2 with pipelines (planner/cost/framework.h).
bool ZeroRunsWithPipeline(const Plan& p, const TrainingSetup& s) {
  return p.pp == 1 || p.zero_stage <= FactsOf(s.framework).max_zero_with_pp;
}
bool ZeroWithPipeline(const RuleInput& in) { return ZeroRunsWithPipeline(in.p, in.s); }
std::string ZeroWithPipelineWhy(const RuleInput& in) {
  return "ZeRO-" + Str(in.p.zero_stage) + " with pipeline parallelism does not run in " +
         FrameworkName(in.s.framework) + " (Megatron's FSDP has no pipeline; DeepSpeed's "
         "pipeline engine takes ZeRO 0-1; torchtitan runs FSDP2 with PP)";
}

// DeepSpeed offloads the optimizer with ZeRO stage 1, 2 or 3 only (docs/_pages/config-json.md,
// "Optimizer offloading").
bool OffloadHasZero(const Plan& p, const TrainingSetup& s) {
  return !s.offload_optimizer || p.zero_stage >= 1;
}
bool OffloadNeedsZero(const RuleInput& in) { return OffloadHasZero(in.p, in.s); }
std::string OffloadNeedsZeroWhy(const RuleInput&) {
  return "optimizer offload needs ZeRO stage 1, 2 or 3 (--zero)";
}

// PyTorch FSDP1 shards nothing, gradients and optimizer states, or everything: no ZeRO-1.
bool FrameworkShardsAtStage(const Plan& p, const TrainingSetup& s) {
  return p.zero_stage != 1 || FactsOf(s.framework).has_zero1;
}
bool FrameworkHasZeroStage(const RuleInput& in) { return FrameworkShardsAtStage(in.p, in.s); }
std::string FrameworkHasZeroStageWhy(const RuleInput& in) {
  return std::string(FrameworkName(in.s.framework)) +
         " has no ZeRO-1: its sharding is NO_SHARD (0), SHARD_GRAD_OP (2) or FULL_SHARD (3)";
}

// DeepSpeed's pipeline engine runs 1F1B only: no virtual stages.
bool FrameworkInterleaves(const RuleInput& in) {
  return in.p.virtual_stages == 1 || FactsOf(in.s.framework).interleaved_pipeline;
}
std::string FrameworkInterleavesWhy(const RuleInput& in) {
  return std::string(FrameworkName(in.s.framework)) +
         " has no interleaved pipeline schedule: --virtual-stages must be 1";
}

// DeepSpeed's context parallelism is Ulysses (all-to-all over heads): cp must divide the heads
// each tensor-parallel rank holds (arXiv 2309.14509, section 3).
bool CpUlyssesSplitsHeads(const RuleInput& in) {
  if (in.s.framework != Framework::kDeepSpeed || in.p.cp == 1) return true;
  const int64_t heads = in.m.kv_heads > 0 ? in.m.kv_heads : in.m.heads;
  return Divides(static_cast<int64_t>(in.p.tp) * in.p.cp, heads);
}
std::string CpUlyssesSplitsHeadsWhy(const RuleInput& in) {
  return "DeepSpeed-Ulysses splits heads: tp x cp = " + Str(static_cast<int64_t>(in.p.tp) * in.p.cp) +
         " must divide the " + Str(in.m.kv_heads > 0 ? in.m.kv_heads : in.m.heads) + " KV heads";
}

// The intra link's reach bounds TP: a node, or a scale-up domain such as GB200 NVL72.
bool TpInNode(const RuleInput& in) {
  return static_cast<int64_t>(in.p.tp) <= in.c.ScaleUpDomain() || in.limits.allow_cross_node_tp;
}
std::string TpInNodeWhy(const RuleInput& in) {
  const bool nodes = in.c.ScaleUpDomain() == in.c.gpus_per_node;
  return "tp " + Str(in.p.tp) + " spans " + (nodes ? "nodes" : "NVLink domains") + " of " +
         Str(in.c.ScaleUpDomain()) + " GPUs (use --allow-cross-node-tp to allow it)";
}

// formulas.md section 6: tensor parallelism pays only while 6h/t/bytes FLOPs per byte moved stay
// above the GPU's peak over the one-way bandwidth of the link the TP group crosses: the intra
// link inside the scale-up domain (NVLink 5 across a GB200 NVL72), the NICs beyond it.
bool TpComputeBound(const RuleInput& in) {
  if (in.p.tp == 1 || in.limits.allow_comm_bound) return true;
  const double ratio =
      TpComputeCommRatio(in.m.hidden, in.p.tp, BytesPerActivation(in.s.precision));
  return ratio >= in.c.gpu.PeakFlops(in.s.precision) / TpLinkBytesPerS(in.c, in.p.tp);
}
std::string TpComputeBoundWhy(const RuleInput& in) {
  const double bytes = BytesPerActivation(in.s.precision);
  const double peak = in.c.gpu.PeakFlops(in.s.precision);
  const double link = TpLinkBytesPerS(in.c, in.p.tp);
  const bool inside = in.p.tp <= in.c.ScaleUpDomain();
  char line[512];
  std::snprintf(line, sizeof line,
                "communication-bound: 6*h/t/bytes = 6*%lld/%d/%.0f = %.0f FLOP/byte, below "
                "peak/link = %.3g/%.3g (%s) = %.0f; t_max = %.2f (formulas.md section 6)",
                static_cast<long long>(in.m.hidden), in.p.tp, bytes,
                TpComputeCommRatio(in.m.hidden, in.p.tp, bytes), peak, link,
                inside ? in.c.intra.name.c_str() : in.c.inter.name.c_str(), peak / link,
                TpMax(in.m.hidden, bytes, peak, link));
  return line;
}

// The table, once: PLANNER_RULES expands into the PlanRule values that --explain and the
// command line read, and into the search's check, where each rule is a direct call the
// compiler inlines (a loop over function pointers cost the search 5 % more instructions).
#define PLANNER_RULES(X) \
  X(Reason::kIndivisible, "--tp", SizesPositive, SizesPositiveWhy) \
  X(Reason::kIndivisible, "--gpus", GpusMatch, GpusMatchWhy) \
  X(Reason::kIndivisible, "--tp", TpSplitsHeads, TpSplitsHeadsWhy) \
  X(Reason::kIndivisible, "--tp", TpSplitsFfn, TpSplitsFfnWhy) \
  X(Reason::kIndivisible, "--pp", LayersSplitRule, LayersSplitWhy) \
  X(Reason::kIndivisible, "--global-batch", BatchMatches, BatchMatchesWhy) \
  X(Reason::kIndivisible, "--sequence-parallel", SpNeedsTp, SpNeedsTpWhy) \
  X(Reason::kIndivisible, "--virtual-stages", InterleavingRuns, InterleavingRunsWhy) \
  X(Reason::kIndivisible, "--cp", CpSplitsSequence, CpSplitsSequenceWhy) \
  X(Reason::kIndivisible, "--ep", EpFits, EpFitsWhy) \
  X(Reason::kIndivisible, "--cp", CpUlyssesSplitsHeads, CpUlyssesSplitsHeadsWhy) \
  X(Reason::kUnsupported, "--zero", ZeroWithPipeline, ZeroWithPipelineWhy) \
  X(Reason::kUnsupported, "--zero", FrameworkHasZeroStage, FrameworkHasZeroStageWhy) \
  X(Reason::kUnsupported, "--virtual-stages", FrameworkInterleaves, FrameworkInterleavesWhy) \
  X(Reason::kUnsupported, "--zero", OffloadNeedsZero, OffloadNeedsZeroWhy) \
  X(Reason::kTpCrossNode, "--tp", TpInNode, TpInNodeWhy) \
  X(Reason::kCommBound, "--tp", TpComputeBound, TpComputeBoundWhy)

#define PLANNER_RULE_VALUE(reason, flag, holds, why) PlanRule{reason, flag, holds, why},
const PlanRule kRules[] = {PLANNER_RULES(PLANNER_RULE_VALUE)};
#undef PLANNER_RULE_VALUE

}  // namespace

bool LayersSplit(const Model& m, const Plan& p) {
  const int64_t L = m.layers;
  const int64_t v = p.virtual_stages;
  const int64_t chunks = p.pp * v;
  const int64_t first = p.first_stage_layers;
  const int64_t last = p.last_stage_layers;
  if (first == 0 && last == 0) return Divides(chunks, L);
  if (first < 0 || last < 0 || p.pp < 2) return false;
  // Megatron's --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split:
  // the embedding and/or the loss take one layer's slot, and all pp x v chunks are equal.
  if (first > 0 && first == last && Divides(chunks, L + 2) && first == (L + 2) / p.pp - 1) {
    return true;
  }
  if ((first > 0) != (last > 0) && Divides(chunks, L + 1) &&
      std::max(first, last) == (L + 1) / p.pp - 1) {
    return true;
  }
  // Otherwise the given first/last stages and the even rest each split into v chunks
  // (--decoder-first-pipeline-num-layers for the first stage).
  const int64_t inner_stages = p.pp - (first > 0 ? 1 : 0) - (last > 0 ? 1 : 0);
  const int64_t inner_layers = L - first - last;
  if (first % v != 0 || last % v != 0) return false;
  if (inner_stages == 0) return inner_layers == 0;
  return inner_layers > 0 && Divides(inner_stages * v, inner_layers);
}

std::span<const PlanRule> PlanRules() { return kRules; }

bool ZeroStageRuns(const Plan& p, const TrainingSetup& s) {
  return ZeroRunsWithPipeline(p, s) && OffloadHasZero(p, s) && FrameworkShardsAtStage(p, s);
}

const PlanRule* FirstBrokenRule(const RuleInput& in) {
  const PlanRule* rule = kRules;
#define PLANNER_RULE_CHECK(reason, flag, holds, why) \
  if (!holds(in)) return rule;                       \
  ++rule;
  PLANNER_RULES(PLANNER_RULE_CHECK)
#undef PLANNER_RULE_CHECK
  return nullptr;
}

}  // namespace planner
