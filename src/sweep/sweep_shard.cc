// Shards: "K/N" read and written, and which part a scenario belongs to.
#include "planner/sweep/sweep_shard.h"

#include <charconv>

#include "planner/model/error.h"

namespace planner {

Shard ParseShard(const std::string& text) {
  Shard s{.k = 0, .n = 0};
  const char* end = text.data() + text.size();
  const auto [slash, e1] = std::from_chars(text.data(), end, s.k);
  const bool ok = e1 == std::errc() && slash != end && *slash == '/' &&
                  std::from_chars(slash + 1, end, s.n).ptr == end;
  if (!ok || s.n < 1 || s.k < 1 || s.k > s.n || s.n > 1'000'000) {
    throw InputError("--shard", "expected K/N with 1 <= K <= N (e.g. 2/8), got '" + text + "'");
  }
  return s;
}

std::string ShardName(const Shard& s) { return std::to_string(s.k) + "/" + std::to_string(s.n); }

bool InShard(const Shard& s, int64_t scenario) { return scenario % s.n == s.k - 1; }

}  // namespace planner
