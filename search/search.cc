#include "planner/search/search.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "planner/cost/compute_model.h"
#include "planner/cost/memory_model.h"

namespace planner {
namespace {

std::vector<int> Divisors(int64_t n, int64_t limit) {
  std::vector<int> out;
  for (int64_t d = 1; d <= std::min(n, limit); ++d) {
    if (n % d == 0) out.push_back(static_cast<int>(d));
  }
  return out;
}

// The outer dimensions of the space; the inner ones are enumerated per item.
struct Shape {
  int tp, cp, pp, micro_batch, first_stage_layers, last_stage_layers;
};

// The pipeline splits of `layers` over `pp` stages that Megatron-LM can express: even; the
// embedding and/or the loss taking one layer's slot on the first and last stage
// (--account-for-embedding/loss-in-pipeline-split); or a lighter first stage
// (--decoder-first-pipeline-num-layers F, the rest even).
std::vector<std::pair<int, int>> StageSplits(int64_t layers, int pp) {
  std::vector<std::pair<int, int>> out;
  if (layers % pp == 0) out.emplace_back(0, 0);
  if (pp < 2) return out;
  if ((layers + 2) % pp == 0 && (layers + 2) / pp >= 2) {
    const int x = static_cast<int>((layers + 2) / pp - 1);
    out.emplace_back(x, x);
  }
  if ((layers + 1) % pp == 0 && (layers + 1) / pp >= 2) {
    const int x = static_cast<int>((layers + 1) / pp - 1);
    out.emplace_back(x, 0);
    out.emplace_back(0, x);
  }
  // A first stage 1 to 4 layers lighter than the others, which share the rest evenly.
  for (int64_t inner = (layers + pp - 1) / pp; inner <= layers / (pp - 1); ++inner) {
    const int64_t first = layers - inner * (pp - 1);
    if (first >= 1 && first < inner && inner - first <= 4 && first + 1 != inner) {
      out.emplace_back(static_cast<int>(first), 0);
    }
  }
  return out;
}

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

Partial Merge(Partial a, const Partial& b, size_t k) {
  for (const Evaluation& e : b.best) Offer(a.best, e, k);
  a.stats.evaluated += b.stats.evaluated;
  a.stats.feasible += b.stats.feasible;
  for (size_t i = 0; i < a.stats.pruned.size(); ++i) a.stats.pruned[i] += b.stats.pruned[i];
  if (b.stats.min_shortfall_bytes >= 0 &&
      (a.stats.min_shortfall_bytes < 0 ||
       b.stats.min_shortfall_bytes < a.stats.min_shortfall_bytes)) {
    a.stats.min_shortfall_bytes = b.stats.min_shortfall_bytes;
  }
  return a;
}

auto Key(const Plan& p) {
  return std::make_tuple(p.tp, p.cp, p.pp, p.dp, p.ep, p.micro_batch, p.grad_accum,
                         static_cast<int>(p.recompute), p.zero_stage, p.sequence_parallel,
                         p.virtual_stages, p.first_stage_layers, p.last_stage_layers);
}

}  // namespace

bool RanksBefore(const Evaluation& a, const Evaluation& b) {
  const double ta = a.time.step();
  const double tb = b.time.step();
  if (ta != tb) return ta < tb;
  const double ma = a.memory.total();
  const double mb = b.memory.total();
  if (ma != mb) return ma < mb;
  return Key(a.plan) < Key(b.plan);
}

SearchResult Search(const Model& m, const Cluster& c, const TrainingSetup& s,
                    const SearchOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Shape> shapes;
  const int64_t tp_limit = o.limits.allow_cross_node_tp ? c.gpus : c.gpus_per_node;
  for (int tp : Divisors(c.gpus, tp_limit)) {
    if (m.heads % tp != 0 || m.kv_heads % tp != 0) continue;
    for (int cp : Divisors(c.gpus / tp, o.max_context_parallel)) {
      // Ring attention pays off on long sequences; chunks under 2048 tokens only add traffic.
      if (cp > 1 && (s.seq_len % (2 * cp) != 0 || s.seq_len / cp < 2048)) continue;
      for (int pp : Divisors(c.gpus / (static_cast<int64_t>(tp) * cp), m.layers)) {
        const int64_t dp = c.gpus / (static_cast<int64_t>(tp) * cp * pp);
        if (s.global_batch % dp != 0) continue;
        for (const auto& [first, last] : StageSplits(m.layers, pp)) {
          for (int mb : Divisors(s.global_batch / dp, o.max_micro_batch)) {
            shapes.push_back(Shape{tp, cp, pp, mb, first, last});
          }
        }
      }
    }
  }
  const size_t k = static_cast<size_t>(std::max(1, o.top));
  const int threads = o.threads > 0 ? o.threads : tbb::info::default_concurrency();
  tbb::task_arena arena(threads);

  const ParamCounts counts = CountParameters(m);
  const double model_flops = ModelFlopsPerStep(m, s.seq_len, s.global_batch);

  // Each plan's costly terms depend on only some of its fields (PlanTerms), so they are computed
  // once per group of plans that share those fields, in the loop that fixes them.
  auto search_range = [&](const tbb::blocked_range<size_t>& range, Partial acc) {
    for (size_t i = range.begin(); i != range.end(); ++i) {
      const Shape& sh = shapes[i];
      Plan plan{.tp = sh.tp, .pp = sh.pp, .cp = sh.cp, .micro_batch = sh.micro_batch,
                .first_stage_layers = sh.first_stage_layers,
                .last_stage_layers = sh.last_stage_layers};
      plan.dp = static_cast<int>(c.gpus / (static_cast<int64_t>(sh.tp) * sh.cp * sh.pp));
      plan.grad_accum =
          static_cast<int>(s.global_batch / (static_cast<int64_t>(plan.dp) * sh.micro_batch));
      // Interleaving depths that split this shape's stages into equal chunks.
      std::vector<int> depths;
      const int vmax = o.search_vp && sh.pp > 1 ? o.max_virtual_stages : 1;
      for (int v = 1; v <= vmax && v <= m.layers; ++v) {
        plan.virtual_stages = v;
        if (LayersSplit(m, plan)) depths.push_back(v);
      }
      std::vector<int> eps{1};
      if (IsMoe(m)) eps = Divisors(std::min<int64_t>(plan.dp, m.experts), m.experts);
      for (int ep : eps) {
        if (plan.dp % ep != 0 || (IsMoe(m) && m.experts % ep != 0)) continue;
        plan.ep = ep;
        PlanTerms terms{.params = PlanStageParams(m, counts, plan), .model_flops = model_flops};
        for (int sp = 0; sp <= (o.search_sp && sh.tp > 1 ? 1 : 0); ++sp) {
          plan.sequence_parallel = sp == 1;
          terms.forward = ForwardPass(m, c, plan, s);
          const int zero_max = o.search_zero && plan.dp > 1 ? 3 : 0;
          for (int v : depths) {
            plan.virtual_stages = v;
            // Recomputation and ZeRO stage do not change the structure (but for ZeRO >= 2 with
            // pipelines, counted below): check it once for all.
            const int64_t variants = (s.flash_attention ? 2 : 3) * (zero_max + 1);
            acc.stats.evaluated += variants;
            plan.zero_stage = 0;
            const Reason structure = CheckStructure(m, c, plan, s, o.limits);
            if (structure != Reason::kFeasible) {
              acc.stats.pruned[static_cast<int>(structure)] += variants;
              continue;
            }
            for (int r = 0; r < 3; ++r) {
              // Selective recomputation redoes the attention core, which fused attention never
              // stores: with flash attention it is the same plan as none.
              if (r == 1 && s.flash_attention) continue;
              plan.recompute = static_cast<Recompute>(r);
              terms.layer_activation_bytes = PlanLayerActivationBytes(m, plan, s);
              for (int zero = 0; zero <= zero_max; ++zero) {
                plan.zero_stage = zero;
                if (zero >= 2 && plan.pp > 1) {
                  ++acc.stats.pruned[static_cast<int>(Reason::kUnsupported)];
                  continue;
                }
                const Evaluation e = EvaluateFrom(m, c, plan, s, structure, terms);
                if (e.feasible()) {
                  ++acc.stats.feasible;
                  Offer(acc.best, e, k);
                  continue;
                }
                ++acc.stats.pruned[static_cast<int>(e.reason)];
                const double short_by = e.memory.total() - e.capacity_bytes;
                if (acc.stats.min_shortfall_bytes < 0 || short_by < acc.stats.min_shortfall_bytes) {
                  acc.stats.min_shortfall_bytes = short_by;
                }
              }
            }
          }
        }
      }
    }
    return acc;
  };

  Partial total = arena.execute([&] {
    return tbb::parallel_reduce(
        tbb::blocked_range<size_t>(0, shapes.size(), 4), Partial{}, search_range,
        [k](Partial a, const Partial& b) { return Merge(std::move(a), b, k); });
  });
  SearchResult result{.plans = std::move(total.best), .stats = total.stats};
  result.stats.threads = threads;
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace planner
