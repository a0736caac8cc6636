#include "planner/search/evaluate.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "planner/cost/compute_model.h"
#include "planner/model/units.h"

namespace planner {

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kFeasible: return "feasible";
    case Reason::kIndivisible: return "indivisible";
    case Reason::kUnsupported: return "unsupported";
    case Reason::kTpCrossNode: return "tp_cross_node";
    case Reason::kCommBound: return "comm_bound";
    case Reason::kOutOfMemory: return "out_of_memory";
    case Reason::kCount: break;
  }
  return "?";
}

namespace {

bool Divides(int64_t d, int64_t n) { return d > 0 && n % d == 0; }

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

Reason CheckStructure(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                      const SearchLimits& limits) {
  if (p.tp < 1 || p.pp < 1 || p.dp < 1 || p.cp < 1 || p.ep < 1 || p.micro_batch < 1 ||
      p.grad_accum < 1 || p.virtual_stages < 1 || p.zero_stage < 0 || p.zero_stage > 3) {
    return Reason::kIndivisible;
  }
  const int64_t gpus = static_cast<int64_t>(p.tp) * p.cp * p.pp * p.dp;
  if (gpus != c.gpus) return Reason::kIndivisible;
  if (!Divides(p.tp, m.heads) || !Divides(p.tp, m.kv_heads) || !Divides(p.tp, m.ffn_hidden)) {
    return Reason::kIndivisible;
  }
  if (!LayersSplit(m, p)) return Reason::kIndivisible;
  if (static_cast<int64_t>(p.micro_batch) * p.dp * p.grad_accum != s.global_batch) {
    return Reason::kIndivisible;
  }
  if (p.sequence_parallel && p.tp == 1) return Reason::kIndivisible;
  if (p.virtual_stages > 1) {
    // Megatron's interleaved schedule needs pp > 1 and micro-batches in multiples of pp.
    if (p.pp == 1 || p.grad_accum % p.pp != 0) return Reason::kIndivisible;
    if (s.schedule == Schedule::kGPipe || s.schedule == Schedule::kNaive) {
      return Reason::kIndivisible;
    }
  }
  // Ring attention with load balancing splits each sequence into 2 cp chunks.
  if (p.cp > 1 && s.seq_len % (2 * p.cp) != 0) return Reason::kIndivisible;
  if (p.ep > 1 && (!IsMoe(m) || !Divides(p.ep, m.experts) || !Divides(p.ep, p.dp))) {
    return Reason::kIndivisible;
  }
  // Megatron-LM shards gradients and weights only in its FSDP, which has no pipeline
  // parallelism; DeepSpeed's pipeline engine takes ZeRO stages 0 and 1 only.
  if (p.zero_stage >= 2 && p.pp > 1) return Reason::kUnsupported;
  if (static_cast<int64_t>(p.tp) > c.gpus_per_node && !limits.allow_cross_node_tp) {
    return Reason::kTpCrossNode;
  }
  if (p.tp > 1 && !limits.allow_comm_bound) {
    const double ratio = TpComputeCommRatio(m.hidden, p.tp, BytesPerActivation(s.precision));
    const double needed = c.gpu.PeakFlops(s.precision) / c.intra.one_way_bytes_per_s;
    if (ratio < needed) return Reason::kCommBound;
  }
  return Reason::kFeasible;
}

PlanTerms ComputeTerms(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s) {
  const ParamCounts counts = CountParameters(m);
  return PlanTerms{.params = PlanStageParams(m, counts, p),
                   .layer_activation_bytes = PlanLayerActivationBytes(m, p, s),
                   .forward = ForwardPass(m, c, p, s),
                   .model_flops = ModelFlopsPerStep(m, s.seq_len, s.global_batch)};
}

Evaluation Evaluate(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                    const SearchLimits& limits) {
  const Reason structure = CheckStructure(m, c, p, s, limits);
  if (structure != Reason::kFeasible && structure != Reason::kCommBound) {
    return Evaluation{.plan = p, .reason = structure, .capacity_bytes = c.gpu.usable_bytes()};
  }
  return EvaluateFrom(m, c, p, s, structure, ComputeTerms(m, c, p, s));
}

Evaluation EvaluateFrom(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s,
                        Reason structure, const PlanTerms& terms) {
  Evaluation e;
  e.plan = p;
  e.capacity_bytes = c.gpu.usable_bytes();
  e.reason = structure;
  e.memory = TrainingMemoryFrom(m, p, s, terms.params, terms.layer_activation_bytes);
  if (e.reason == Reason::kFeasible && e.memory.total() > e.capacity_bytes) {
    e.reason = Reason::kOutOfMemory;
  }
  e.time = StepTimeFrom(m, c, p, s, terms.forward,
                        std::max({terms.params.first, terms.params.second, terms.params.last}));
  const double step = e.time.step();
  e.tokens_per_s = static_cast<double>(s.global_batch) * static_cast<double>(s.seq_len) / step;
  e.mfu = terms.model_flops /
          (step * static_cast<double>(c.gpus) * c.gpu.PeakFlops(s.precision));
  return e;
}

std::string Explain(const Model& m, const Cluster& c, const Evaluation& e,
                    const TrainingSetup& s) {
  const Plan& p = e.plan;
  char line[512];
  switch (e.reason) {
    case Reason::kFeasible:
      std::snprintf(line, sizeof line, "fits: %.2f GiB of %.2f GiB usable per GPU",
                    e.memory.total() / kGiB, e.capacity_bytes / kGiB);
      return line;
    case Reason::kOutOfMemory:
      std::snprintf(line, sizeof line,
                    "out of memory: needs %.2f GiB per GPU, %.2f GiB usable (short by %.2f GiB)",
                    e.memory.total() / kGiB, e.capacity_bytes / kGiB,
                    (e.memory.total() - e.capacity_bytes) / kGiB);
      return line;
    case Reason::kUnsupported:
      return "unsupported: ZeRO-2/3 with pipeline parallelism runs in neither Megatron-LM (its "
             "FSDP has no pipeline) nor DeepSpeed (its pipeline engine takes ZeRO 0-1)";
    case Reason::kTpCrossNode:
      std::snprintf(line, sizeof line,
                    "tp %d spans nodes of %lld GPUs (use --allow-cross-node-tp to allow it)", p.tp,
                    static_cast<long long>(c.gpus_per_node));
      return line;
    case Reason::kCommBound: {
      const double bytes = BytesPerActivation(s.precision);
      std::snprintf(line, sizeof line,
                    "communication-bound: 6*h/t/bytes = 6*%lld/%d/%.0f = %.0f FLOP/byte, below "
                    "peak/link = %.3g/%.3g = %.0f; t_max = %.2f (formulas.md section 6)",
                    static_cast<long long>(m.hidden), p.tp, bytes,
                    TpComputeCommRatio(m.hidden, p.tp, bytes), c.gpu.PeakFlops(s.precision),
                    c.intra.one_way_bytes_per_s,
                    c.gpu.PeakFlops(s.precision) / c.intra.one_way_bytes_per_s,
                    TpMax(m.hidden, bytes, c.gpu.PeakFlops(s.precision),
                          c.intra.one_way_bytes_per_s));
      return line;
    }
    case Reason::kIndivisible:
    case Reason::kCount: break;
  }
  // Name the first rule that fails.
  const int64_t gpus = static_cast<int64_t>(p.tp) * p.cp * p.pp * p.dp;
  std::string why;
  if (gpus != c.gpus) {
    why = "tp*cp*pp*dp = " + std::to_string(gpus) + ", not the " + std::to_string(c.gpus) +
          " GPUs";
  } else if (m.heads % p.tp != 0 || m.kv_heads % p.tp != 0) {
    why = "tp " + std::to_string(p.tp) + " does not divide heads " + std::to_string(m.heads) +
          " and kv_heads " + std::to_string(m.kv_heads);
  } else if (!LayersSplit(m, p)) {
    why = "layers " + std::to_string(m.layers) + " do not split into pp " + std::to_string(p.pp) +
          " x virtual stages " + std::to_string(p.virtual_stages);
  } else if (static_cast<int64_t>(p.micro_batch) * p.dp * p.grad_accum != s.global_batch) {
    why = "micro-batch " + std::to_string(p.micro_batch) + " x dp " + std::to_string(p.dp) +
          " x accumulation " + std::to_string(p.grad_accum) + " is not the global batch " +
          std::to_string(s.global_batch);
  } else if (p.sequence_parallel && p.tp == 1) {
    why = "sequence parallelism needs tp > 1";
  } else if (p.virtual_stages > 1) {
    why = "interleaving needs pp > 1, the 1F1B schedule, and micro-batches (" +
          std::to_string(p.grad_accum) + ") in multiples of pp";
  } else {
    why = "a size does not divide (cp, ep or ffn_hidden)";
  }
  return "invalid plan: " + why;
}

}  // namespace planner
