#include "planner/search/search.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "planner/cost/activation_offload.h"
#include "planner/cost/compute_model.h"
#include "planner/cost/framework.h"
#include "planner/cost/step_time.h"
#include "planner/cost/memory_model.h"
#include "planner/cost/recompute_layers.h"
#include "planner/search/plan_rules.h"
#include "planner/search/training_space.h"

namespace planner {
namespace {

// Per-worker state: a bounded best-first list and counters. Merging two is associative and
// independent of the split because RanksBefore is a strict total order.
struct Partial {
  std::vector<Evaluation> best;
  SearchStats stats;
};

void Offer(std::vector<Evaluation>& best, const Evaluation& e, size_t k) {
  if (best.size() == k && !RanksBefore(e, best.back())) return;
  best.insert(std::upper_bound(best.begin(), best.end(), e, RanksBefore), e);
  if (best.size() > k) best.pop_back();
}

auto Key(const Plan& p) {
  return std::make_tuple(p.tp, p.cp, p.pp, p.dp, p.ep, p.micro_batch, p.grad_accum,
                         static_cast<int>(p.recompute), p.zero_stage, p.sequence_parallel,
                         p.virtual_stages, p.first_stage_layers, p.last_stage_layers,
                         p.recompute_layers, p.offload_activation_layers);
}

// Keeps in `slot` whichever of it and `e` is closer to passing: less memory over capacity, then
// the plan's fields (a strict order, so the example is the same however the range is split).
// Every pruned candidate is offered, so the cheap comparison comes first and the plan's key only
// on a tie.
double Overshoot(const Evaluation& x) { return std::max(0.0, x.memory.total() - x.capacity_bytes); }

void OfferExample(std::optional<Evaluation>& slot, const Evaluation& e) {
  if (slot) {
    const double held = Overshoot(*slot);
    const double offered = Overshoot(e);
    if (held < offered || (held == offered && !(Key(e.plan) < Key(slot->plan)))) return;
  }
  slot = e;
}

// A plan the structural rules removed: no memory was computed, so only its fields rank it.
void OfferStructuralExample(std::optional<Evaluation>& slot, const Plan& plan, Reason reason) {
  if (slot && !(Key(plan) < Key(slot->plan))) return;
  slot = Evaluation{.plan = plan, .reason = reason};
}

Partial Merge(Partial a, const Partial& b, size_t k) {
  for (const Evaluation& e : b.best) Offer(a.best, e, k);
  a.stats.evaluated += b.stats.evaluated;
  a.stats.feasible += b.stats.feasible;
  for (size_t i = 0; i < a.stats.pruned.size(); ++i) a.stats.pruned[i] += b.stats.pruned[i];
  for (size_t i = 0; i < a.stats.examples.size(); ++i) {
    if (b.stats.examples[i]) OfferExample(a.stats.examples[i], *b.stats.examples[i]);
  }
  if (b.stats.min_shortfall_bytes >= 0 &&
      (a.stats.min_shortfall_bytes < 0 ||
       b.stats.min_shortfall_bytes < a.stats.min_shortfall_bytes)) {
    a.stats.min_shortfall_bytes = b.stats.min_shortfall_bytes;
  }
  return a;
}

// How much machinery a plan asks of its users: parallel dimensions in use, then the ZeRO stage.
std::pair<int, int> Complexity(const Plan& p) {
  const int dimensions = (p.tp > 1) + (p.cp > 1) + (p.pp > 1) + (p.ep > 1);
  return {dimensions, p.zero_stage};
}

}  // namespace

bool RanksBefore(const Evaluation& a, const Evaluation& b) {
  const double ta = a.time.step();
  const double tb = b.time.step();
  if (ta != tb) return ta < tb;
  // As fast: the simpler plan first (no ZeRO-3 when ZeRO-1 is as fast), before memory, which
  // would prefer the sharded one.
  const auto ca = Complexity(a.plan);
  const auto cb = Complexity(b.plan);
  if (ca != cb) return ca < cb;
  const double bytes_a = a.memory.total();
  const double bytes_b = b.memory.total();
  if (bytes_a != bytes_b) return bytes_a < bytes_b;
  return Key(a.plan) < Key(b.plan);
}

namespace {

// What every shape of one search shares.
struct SearchContext {
  const Model& m;
  const Cluster& c;
  const TrainingSetup& s;
  const SearchOptions& o;
  ParamCounts counts;
  double model_flops = 0;
  size_t k = 1;
  /// Plans that do not fit may offload activations: the framework's files can say so and no
  /// CUDA graphs forbid it (FrameworkFacts::searches_activation_offload).
  bool offload_activations = false;
};

void Record(Partial& acc, const Evaluation& e, size_t k) {
  if (e.feasible()) {
    ++acc.stats.feasible;
    Offer(acc.best, e, k);
    return;
  }
  ++acc.stats.pruned[static_cast<int>(e.reason)];
  OfferExample(acc.stats.examples[static_cast<int>(e.reason)], e);
  // Only a plan over the GPU's memory has a shortfall; a comm-bound or host-bound one fits it.
  if (e.reason != Reason::kOutOfMemory) return;
  const double short_by = e.memory.total() - e.capacity_bytes;
  if (acc.stats.min_shortfall_bytes < 0 || short_by < acc.stats.min_shortfall_bytes) {
    acc.stats.min_shortfall_bytes = short_by;
  }
}

// A plan that fits recomputing every layer also runs recomputing only as many as its free
// memory needs (the block method): one more plan, its count computed, not enumerated.
void ScorePartialRecompute(const SearchContext& x, const Evaluation& full, Reason structure,
                           const PlanTerms& terms, Partial& acc) {
  const int layers =
      FewestRecomputedLayers(x.m, full.plan, x.s, full.memory.total(), full.capacity_bytes);
  if (layers == 0) return;
  Plan partial = full.plan;
  partial.recompute_layers = layers;
  ++acc.stats.evaluated;
  Record(acc, EvaluateFrom(x.m, x.c, partial, x.s, structure, terms), x.k);
}

// A plan that keeps every activation and does not fit may fit with the first N layers'
// activations in host memory, where the framework's emitted files can say so (Megatron-Bridge):
// one more plan, the fewest layers that fit with a margin, computed, not enumerated (N + 1 if
// rounding left it short).
void ScoreActivationOffload(const SearchContext& x, const Evaluation& kept, Reason structure,
                            const PlanTerms& terms, Partial& acc) {
  const Plan& p = kept.plan;
  if (p.pp != 1) return;
  const FrameworkFacts& facts = FactsOf(x.s.framework);
  const double in_flight =
      InFlightMicroBatches(x.s.schedule, p.pp, p.virtual_stages, p.grad_accum);
  // Counted to fit, such a plan sits at the edge by construction: it keeps the margin a
  // partial-recompute plan keeps (kFittedRecomputeMargin).
  const double target = (1.0 - kFittedRecomputeMargin) * kept.capacity_bytes;
  const int layers =
      FewestOffloadedLayers(x.m.layers, kept.memory.total() - target,
                            terms.layer_activation_bytes, in_flight, facts.fragmentation);
  if (layers == 0) return;
  Plan offloaded = p;
  offloaded.offload_activation_layers = layers;
  ++acc.stats.evaluated;
  Evaluation e = EvaluateFrom(x.m, x.c, offloaded, x.s, structure, terms);
  if (e.reason == Reason::kOutOfMemory && layers + 1 < x.m.layers) {
    offloaded.offload_activation_layers = layers + 1;
    ++acc.stats.evaluated;
    e = EvaluateFrom(x.m, x.c, offloaded, x.s, structure, terms);
  }
  Record(acc, e, x.k);
}

// The recomputation x ZeRO variants of one plan. Neither changes the plan's structure (ZeRO >= 2
// with pipelines, and ZeRO 0 with an offloaded optimizer, aside: counted here), so it is checked
// once for all of them.
void ScoreVariants(const SearchContext& x, Plan plan, PlanTerms& terms,
                   std::span<const Recompute> recomputes, std::span<const int> zeros,
                   Partial& acc) {
  const int64_t variants = static_cast<int64_t>(recomputes.size() * zeros.size());
  acc.stats.evaluated += variants;
  plan.zero_stage = x.s.offload_optimizer ? 1 : 0;
  const Reason structure = CheckStructure(x.m, x.c, plan, x.s, x.o.limits);
  if (structure != Reason::kFeasible) {
    acc.stats.pruned[static_cast<int>(structure)] += variants;
    OfferStructuralExample(acc.stats.examples[static_cast<int>(structure)], plan, structure);
    return;
  }
  for (const Recompute r : recomputes) {
    plan.recompute = r;
    terms.layer_activation_bytes = PlanLayerActivationBytes(x.m, plan, x.s);
    for (const int zero : zeros) {
      plan.zero_stage = zero;
      if (!ZeroStageRuns(plan, x.s)) {
        ++acc.stats.pruned[static_cast<int>(Reason::kUnsupported)];
        OfferExample(acc.stats.examples[static_cast<int>(Reason::kUnsupported)],
                     Evaluation{.plan = plan, .reason = Reason::kUnsupported});
        continue;
      }
      const Evaluation e = EvaluateFrom(x.m, x.c, plan, x.s, structure, terms);
      Record(acc, e, x.k);
      if (x.o.fit_recompute_layers && r == Recompute::kFull && e.feasible()) {
        ScorePartialRecompute(x, e, structure, terms, acc);
      }
      if (x.offload_activations && r == Recompute::kNone && e.reason == Reason::kOutOfMemory) {
        ScoreActivationOffload(x, e, structure, terms, acc);
      }
    }
  }
}

// Every plan of one shape. Each plan's costly terms depend on only some of its fields
// (PlanTerms), so they are computed once per group of plans that share those fields, in the
// loop that fixes them.
void ScoreShape(const SearchContext& x, const Shape& sh, Partial& acc) {
  Plan plan = PlanOf(sh, x.c, x.s);
  const std::vector<int> depths = InterleavingDepths(x.m, plan, x.o);
  const std::span<const Recompute> recomputes = RecomputeChoices(x.s, x.o);
  const std::span<const int> zeros = ZeroStages(plan.dp, x.o);
  for (const int ep : ExpertParallelSizes(x.m, plan.dp)) {
    plan.ep = ep;
    PlanTerms terms{.params = PlanStageParams(x.m, x.counts, plan), .model_flops = x.model_flops};
    for (const bool sp : SequenceParallelChoices(sh.tp, x.o)) {
      plan.sequence_parallel = sp;
      terms.forward = ForwardPass(x.m, x.c, plan, x.s);
      for (const int v : depths) {
        plan.virtual_stages = v;
        ScoreVariants(x, plan, terms, recomputes, zeros, acc);
      }
    }
  }
}

}  // namespace

SearchResult Search(const Model& m, const Cluster& c, const TrainingSetup& s,
                    const SearchOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Shape> shapes = OuterShapes(m, c, s, o);
  const SearchContext x{.m = m, .c = c, .s = s, .o = o,
                        .counts = CountParameters(m),
                        .model_flops = ModelFlopsPerStep(m, s.seq_len, s.global_batch),
                        .k = static_cast<size_t>(std::max(1, o.top)),
                        .offload_activations =
                            FactsOf(s.framework).searches_activation_offload && !s.cuda_graphs};
  // More workers than cores only adds switching (and TBB warns about it), so the count is
  // bounded by the cores; stats.threads reports the count used.
  const int cores = tbb::info::default_concurrency();
  const int threads = o.threads > 0 ? std::min(o.threads, cores) : cores;
  tbb::task_arena arena(threads);
  auto search_range = [&](const tbb::blocked_range<size_t>& range, Partial acc) {
    for (size_t i = range.begin(); i != range.end(); ++i) ScoreShape(x, shapes[i], acc);
    return acc;
  };
  Partial total = arena.execute([&] {
    return tbb::parallel_reduce(
        tbb::blocked_range<size_t>(0, shapes.size(), 4), Partial{}, search_range,
        [&x](Partial a, const Partial& b) { return Merge(std::move(a), b, x.k); });
  });
  SearchResult result{.plans = std::move(total.best), .stats = total.stats};
  result.stats.threads = threads;
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace planner
