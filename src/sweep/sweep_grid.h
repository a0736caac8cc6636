// The grid's axes as a sweep file names them: read by the parser, walked by the expansion.
#pragma once

#include <array>

namespace planner {

/// The axes in the order of the cartesian product, models outermost (SweepGrid's fields).
inline constexpr std::array<const char*, 9> kGridKeys = {
    "models",      "gpus",          "gpu_counts", "gpus_per_node", "intra_links",
    "inter_links", "nics_per_node", "seq_lens",   "global_batches"};

}  // namespace planner
