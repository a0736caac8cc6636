#include "planner/search/training_space.h"

#include <algorithm>

#include "planner/search/plan_rules.h"

namespace planner {

std::vector<int> Divisors(int64_t n, int64_t limit) {
  std::vector<int> out;
  for (int64_t d = 1; d <= std::min(n, limit); ++d) {
    if (n % d == 0) out.push_back(static_cast<int>(d));
  }
  return out;
}

// Even; the embedding and/or the loss taking one layer's slot on the first and last stage
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

// Ring attention pays off on long sequences; chunks under 2048 tokens only add traffic.
bool CpWorthIt(int cp, int64_t seq_len) {
  return cp == 1 || (seq_len % (2 * cp) == 0 && seq_len / cp >= 2048);
}

std::vector<Shape> OuterShapes(const Model& m, const Cluster& c, const TrainingSetup& s,
                               const SearchOptions& o) {
  std::vector<Shape> shapes;
  // TP stays inside the scale-up domain (a node, or an NVL72 rack) unless allowed to cross it.
  const int64_t tp_limit = o.limits.allow_cross_node_tp ? c.gpus : c.ScaleUpDomain();
  for (int tp : Divisors(c.gpus, tp_limit)) {
    if (m.heads % tp != 0 || m.kv_heads % tp != 0 || !o.tp.Allows(tp)) continue;
    for (int cp : Divisors(c.gpus / tp, o.max_context_parallel)) {
      if (!CpWorthIt(cp, s.seq_len) || !o.cp.Allows(cp)) continue;
      for (int pp : Divisors(c.gpus / (static_cast<int64_t>(tp) * cp), m.layers)) {
        const int64_t dp = c.gpus / (static_cast<int64_t>(tp) * cp * pp);
        if (s.global_batch % dp != 0 || !o.pp.Allows(pp) || !o.dp.Allows(dp)) continue;
        for (const auto& [first, last] : StageSplits(m.layers, pp)) {
          for (int mb : Divisors(s.global_batch / dp, o.max_micro_batch)) {
            if (!o.micro_batch.Allows(mb)) continue;
            shapes.push_back(Shape{tp, cp, pp, mb, first, last});
          }
        }
      }
    }
  }
  return shapes;
}

Plan PlanOf(const Shape& sh, const Cluster& c, const TrainingSetup& s) {
  Plan plan{.tp = sh.tp, .pp = sh.pp, .cp = sh.cp, .micro_batch = sh.micro_batch,
            .first_stage_layers = sh.first_stage_layers,
            .last_stage_layers = sh.last_stage_layers};
  plan.dp = static_cast<int>(c.gpus / (static_cast<int64_t>(sh.tp) * sh.cp * sh.pp));
  plan.grad_accum =
      static_cast<int>(s.global_batch / (static_cast<int64_t>(plan.dp) * sh.micro_batch));
  return plan;
}

std::vector<int> InterleavingDepths(const Model& m, Plan plan, const SearchOptions& o) {
  std::vector<int> depths;
  const int vmax = o.search_vp && plan.pp > 1 ? o.max_virtual_stages : 1;
  for (int v = 1; v <= vmax && v <= m.layers; ++v) {
    plan.virtual_stages = v;
    if (LayersSplit(m, plan)) depths.push_back(v);
  }
  return depths;
}

std::vector<int> ExpertParallelSizes(const Model& m, int dp) {
  if (!IsMoe(m)) return {1};
  std::vector<int> sizes;
  for (int ep : Divisors(std::min<int64_t>(dp, m.experts), m.experts)) {
    if (dp % ep == 0 && m.experts % ep == 0) sizes.push_back(ep);
  }
  return sizes;
}

// The fixed choices are static lists: the search asks for them once per shape.
std::span<const bool> SequenceParallelChoices(int tp, const SearchOptions& o) {
  static constexpr bool kBoth[] = {false, true};
  return std::span(kBoth).first(o.search_sp && tp > 1 ? 2 : 1);
}

std::span<const Recompute> RecomputeChoices(const TrainingSetup& s, const SearchOptions& o) {
  static constexpr Recompute kFused[] = {Recompute::kNone, Recompute::kFull};
  static constexpr Recompute kAll[] = {Recompute::kNone, Recompute::kSelective, Recompute::kFull};
  // --recompute: that one only (kAll is in the enum's order).
  if (o.recompute) return std::span(kAll).subspan(static_cast<size_t>(*o.recompute), 1);
  if (s.flash_attention) return kFused;
  return kAll;
}

std::span<const int> ZeroStages(int dp, const SearchOptions& o) {
  // A contiguous run of {0, 1, 2, 3}: the constraint is a range.
  static constexpr int kStages[] = {0, 1, 2, 3};
  const int most = o.search_zero && dp > 1 ? 3 : 0;
  const int first = static_cast<int>(std::clamp<int64_t>(o.zero.least, 0, 4));
  const int last = static_cast<int>(std::clamp<int64_t>(o.zero.most, -1, most));
  if (last < first) return {};
  return std::span(kStages).subspan(first, last - first + 1);
}

}  // namespace planner
