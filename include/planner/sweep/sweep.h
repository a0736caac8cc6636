// Batch runs over cluster options: a sweep file's scenarios, searched in parallel, resumable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/search/search.h"
#include "planner/input/specs.h"
#include "planner/sweep/sweep_shard.h"
#include "planner/sweep/sweep_store.h"

namespace planner {

/// One search of a sweep: its inputs as typed and, once expanded, as resolved.
struct Scenario {
  int64_t index = 0;               ///< position in the expanded list, 0-based ("scenario")
  std::string source{};            ///< "scenarios[3]", or the grid entries: "models[0] gpus[2] ..."
  SpecInput input{};               ///< as typed in the sweep file
  double price_per_gpu_hour = 0;   ///< money per GPU-hour; 0: no price
  Specs specs{};                   ///< resolved by ExpandScenarios
  std::string id{};                ///< 16 hex digits: FNV-1a 64 of the resolved inputs and files
};

/// The axes of the cartesian product. An empty optional axis means "the default" (one value).
struct SweepGrid {
  std::vector<std::string> models{}, gpus{};
  std::vector<int64_t> gpu_counts{}, gpus_per_node{};
  std::vector<std::string> intra_links{}, inter_links{};
  std::vector<int64_t> nics_per_node{}, seq_lens{}, global_batches{};
};

/// A parsed sweep file (README, "Sweeps"). Names are not resolved yet.
struct SweepSpec {
  std::string file{};        ///< path as given; every error's place starts with it
  std::string hash{};        ///< 16 hex digits over the canonical JSON, catalog and model files
  std::map<std::string, std::string> model_file_hashes{};  ///< model file path -> HashHex(content)
  std::string catalogs_hash{};  ///< HashHex of the catalog files' contents; "" without any
  bool has_grid = false;
  SweepGrid grid{};
  SpecInput defaults{};      ///< precision, optimizer, ..., catalogs: shared by every scenario
  std::vector<Scenario> listed{};  ///< "scenarios": [...], inputs only
  std::vector<std::pair<std::string, double>> prices{};  ///< GPU as typed, money per GPU-hour
  double train_tokens = 0;   ///< tokens to train, for days and cost; 0: not given
  SearchOptions options{};   ///< top, limits, max_cp (the runner sets threads)
};

/// Reads and checks a sweep file's syntax: keys, types, signs. Throws InputError("FILE: path").
SweepSpec ParseSweepFile(const std::string& path);
/// The same from text; `file` names the place in errors and anchors relative paths.
SweepSpec ParseSweepJson(const std::string& text, const std::string& file);

/// The built-in catalog plus the sweep's "catalogs" files.
Catalog LoadSweepCatalog(const SweepSpec& spec);

/// The most scenarios one sweep expands to (grid points plus listed scenarios).
inline constexpr int64_t kMaxScenarios = 10'000'000;

/// Grid points plus listed scenarios, counted without expanding; kMaxScenarios + 1 once over.
int64_t CountScenarios(const SweepSpec& spec);

/// A sweep's scenarios: the grid's cartesian product (models outermost, global_batches
/// innermost), then the listed ones. Each is checked once (resolved with BuildSpecs, refused when
/// its inputs equal an earlier one's) but not kept: scenario i is computed again from the grid
/// when asked, so the set holds 8 bytes a scenario (its id) however large the sweep.
class ScenarioSet {
 public:
  /// Checks every scenario before any search; an error names the JSON path. More than
  /// kMaxScenarios is refused, with the count, before anything is expanded. `spec` must outlive
  /// the set.
  ScenarioSet(const SweepSpec& spec, Catalog catalog);
  int64_t size() const { return static_cast<int64_t>(ids_.size()); }
  /// Scenario i, 0 <= i < size(): resolved, numbered, named by its id and priced. Thread-safe.
  Scenario At(int64_t i) const;
  /// Every scenario's id, by index (manifest.json's list).
  std::vector<std::string> Ids() const;

 private:
  Scenario Resolved(int64_t i) const;  // without id and price
  std::string Key(int64_t i) const;    // what the id hashes
  void CheckDistinct() const;

  const SweepSpec* spec_;
  Catalog catalog_;
  std::unordered_map<std::string, double> prices_{};  ///< by the GPU's catalog name
  int64_t grid_count_ = 0;                             ///< scenarios 0..grid_count_-1 are the grid's
  std::vector<uint64_t> ids_{};                        ///< FNV-1a 64 of Key(i)
};

/// Every scenario of ScenarioSet, kept: for small sweeps and tests.
std::vector<Scenario> ExpandScenarios(const SweepSpec& spec, const Catalog& catalog);

/// FNV-1a 64 of `text` as 16 hex digits: identity, not security.
std::string HashHex(const std::string& text);
/// FNV-1a 64 of `text`, and a hash as HashHex writes it.
uint64_t HashOf(const std::string& text);
std::string HexId(uint64_t hash);

struct SweepProgress {
  int64_t done = 0;     ///< scenarios of this shard with a line in results.jsonl
  int64_t total = 0;    ///< scenarios of this shard
  int64_t resumed = 0;  ///< of `done`, those found from an earlier run
};

struct SweepRunOptions {
  std::string out_dir{};
  Shard shard{};
  int threads = 0;  ///< 0: all cores
  /// Called once at the start and after each sync of results.jsonl (lines are synced in
  /// batches), one call at a time; `done` counts only lines on disk.
  std::function<void(const SweepProgress&)> on_progress{};
};

struct SweepRunResult {
  SweepProgress progress{};
  int64_t dropped_lines = 0;     ///< torn or repeated lines removed from an earlier run
  /// What the ranking reads of every line of results.jsonl, by scenario (not the lines: a
  /// 100,000-scenario sweep's lines are hundreds of megabytes).
  std::vector<SweepRow> rows{};
};

/// Searches the shard's scenarios not yet in OUT/results.jsonl, appending one line each, then
/// rewrites OUT/summary.csv. Writes OUT/manifest.json first; throws InputError("--out") when
/// OUT holds another sweep or shard, or is in use by another run.
SweepRunResult RunSweep(const SweepSpec& spec, const ScenarioSet& scenarios,
                        const SweepRunOptions& options);

/// One scenario's results line, without "\n": scenario, id, source, inputs, best (or null and a
/// reason), runners_up, search. No timings, so it is the same bytes on every run.
std::string ScenarioLine(const SweepSpec& spec, const Scenario& s, const SearchResult& r);

}  // namespace planner
