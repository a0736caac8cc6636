// The space of plans, enumerated in parallel, pruned, and ranked.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "planner/search/evaluate.h"

namespace planner {

/// A user's bound on one parallel size or the ZeRO stage (--tp 8 fixes it, --max-tp 4 caps it).
struct Bounds {
  int least = 0;
  int most = 1 << 30;
  bool Allows(int64_t v) const { return v >= least && v <= most; }
};

struct SearchOptions {
  SearchLimits limits;
  int top = 5;           ///< plans to keep
  int threads = 0;       ///< 0: all cores
  bool search_zero = true;
  bool search_sp = true;
  bool search_vp = true;
  /// For each plan that fits recomputing every layer, also score the fewest recomputed layers
  /// that fit (FewestRecomputedLayers; --fit-recompute-layers). Off by default: such plans sit
  /// near the memory limit by construction, and the count is computed, not searched, so the
  /// search is no longer exhaustive over it.
  bool fit_recompute_layers = false;
  int max_virtual_stages = 128;  ///< up to one layer per model chunk
  int max_context_parallel = 32;  ///< largest cp searched (with at least 2048 tokens per rank)
  int max_micro_batch = 64;
  Bounds tp, cp, pp, dp, zero;  ///< constraints from the command line; all sizes by default
  Bounds micro_batch;           ///< --micro-batch: only this size; all divisors by default
  std::optional<Recompute> recompute;  ///< --recompute: only this; the schedule's set by default
};

struct SearchStats {
  int64_t evaluated = 0;  ///< candidates looked at
  int64_t feasible = 0;
  std::array<int64_t, static_cast<int>(Reason::kCount)> pruned{};  ///< by reason
  double min_shortfall_bytes = -1;  ///< smallest memory overshoot seen, -1 when none
  /// Per reason, the rejected plan closest to passing (least memory over capacity, then the
  /// plan's fields: the same for any number of threads), for --explain; empty when none failed.
  std::array<std::optional<Evaluation>, static_cast<int>(Reason::kCount)> examples{};
  double seconds = 0;
  int threads = 0;
};

struct SearchResult {
  std::vector<Evaluation> plans;  ///< best first
  SearchStats stats;
};

/// Strict total order: step time, then the simpler plan (fewer parallel dimensions, lower ZeRO
/// stage), then memory, then the plan's fields.
bool RanksBefore(const Evaluation& a, const Evaluation& b);

SearchResult Search(const Model& m, const Cluster& c, const TrainingSetup& s,
                    const SearchOptions& o);

}  // namespace planner
