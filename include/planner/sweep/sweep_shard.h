// Shards: the disjoint parts of a sweep that separate runs (or machines) search.
#pragma once

#include <cstdint>
#include <string>

namespace planner {

/// The K-th of N disjoint parts, 1 <= K <= N: scenario i belongs to part (i % N) + 1.
struct Shard {
  int64_t k = 1;
  int64_t n = 1;
  bool operator==(const Shard&) const = default;
};
/// "K/N" -> Shard; throws InputError("--shard") unless 1 <= K <= N.
Shard ParseShard(const std::string& text);
/// "K/N", as typed after --shard and kept in manifest.json.
std::string ShardName(const Shard& s);
bool InShard(const Shard& s, int64_t scenario);

}  // namespace planner
