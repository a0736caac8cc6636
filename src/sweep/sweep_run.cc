// Running a sweep: the shard's unfinished scenarios searched in parallel, one results line each,
// appended and synced before it counts as done, so an interrupted run resumes where it stopped.
#include <fcntl.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "planner/model/error.h"
#include "planner/render/output.h"
#include "planner/sweep/sweep.h"
#include "sweep_files.h"
#include "sweep_line.h"

namespace planner {
namespace {

namespace fs = std::filesystem;


// Checks OUT/manifest.json against this run, or writes it when OUT is new.
void PrepareManifest(const fs::path& dir, const SweepManifest& m) {
  const fs::path path = dir / "manifest.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (fs::exists(dir / "results.jsonl", ec)) {
      throw InputError("--out", "'" + dir.string() + "' has results.jsonl but no manifest.json");
    }
    WriteFileAtomically(path.string(), ManifestJson(m), "--out");
    return;
  }
  const SweepManifest old = ReadManifest(path.string(), "--out");
  if (old.sweep_hash != m.sweep_hash || old.ids != m.ids) {
    throw InputError("--out", "'" + dir.string() +
                                  "' holds a different sweep (the sweep file, its catalogs or its "
                                  "model files changed); use another --out, or delete it to "
                                  "start over");
  }
  if (old.shard_k != m.shard_k || old.shard_n != m.shard_n) {
    const std::string had = ShardName({.k = old.shard_k, .n = old.shard_n});
    throw InputError("--out", "'" + dir.string() + "' holds shard " + had +
                                  " of this sweep; run with --shard " + had +
                                  " or use another --out");
  }
}

SweepManifest ManifestOf(const SweepSpec& spec, const ScenarioSet& scenarios,
                         const Shard& shard) {
  return SweepManifest{.sweep_hash = spec.hash,
                       .scenarios = scenarios.size(),
                       .shard_k = shard.k,
                       .shard_n = shard.n,
                       .ids = scenarios.Ids()};
}

// The lines an earlier run left; torn or repeated ones are dropped from the file too.
ResultsFile RepairResults(const std::string& path, const SweepManifest& m) {
  ResultsFile earlier = ReadResults(path, m, "--out");
  if (earlier.torn + earlier.repeated > 0) {
    // Rewritten whole and renamed, so a crash during the repair loses nothing either.
    WriteFileAtomically(path, ResultsText(earlier.lines), "--out");
  }
  return earlier;
}

// The shard's scenarios without a line yet, by index; counts the shard's into `progress`.
std::vector<int64_t> Unfinished(int64_t scenarios, const Shard& shard,
                                const std::vector<ResultLine>& earlier, SweepProgress& progress) {
  std::vector<bool> done(static_cast<size_t>(scenarios), false);
  for (const ResultLine& line : earlier) done[static_cast<size_t>(line.scenario)] = true;
  std::vector<int64_t> todo;
  for (int64_t i = 0; i < scenarios; ++i) {
    if (!InShard(shard, i)) continue;
    ++progress.total;
    if (!done[static_cast<size_t>(i)]) todo.push_back(i);
  }
  progress.done = progress.resumed = progress.total - static_cast<int64_t>(todo.size());
  return todo;
}

// Appends whole lines to results.jsonl from many threads. A line counts as done only once a
// sync has covered it, but the syncs are batched: one fdatasync per kLinesPerSync lines or
// kSyncInterval, whichever comes first (a sync per line was most of a 100,000-scenario run).
// A crash loses only lines never reported done, which the resume searches again.
class ResultsAppender {
 public:
  static constexpr int64_t kLinesPerSync = 256;
  static constexpr std::chrono::milliseconds kSyncInterval{500};

  /// `on_synced(n)` is called, one call at a time, with the number of lines newly on disk.
  ResultsAppender(const fs::path& dir, std::string path, std::function<void(int64_t)> on_synced)
      : path_(std::move(path)),
        file_{::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)},
        on_synced_(std::move(on_synced)),
        last_sync_(std::chrono::steady_clock::now()) {
    if (file_.fd < 0) {
      throw InputError("--out", "cannot open '" + path_ + "': " + std::strerror(errno));
    }
    SyncDirectory(dir);
  }

  void Append(const std::string& line) {
    const int64_t mine = Write(line);
    std::unique_lock<std::mutex> hold(sync_mutex_, std::try_to_lock);
    // Another thread syncing covers this line or the next sync will; nobody waits for it.
    if (!hold.owns_lock()) return;
    if (mine - synced_ >= kLinesPerSync ||
        std::chrono::steady_clock::now() - last_sync_ >= kSyncInterval) {
      SyncLocked();
    }
  }

  /// Every line written so far on disk; called once the searches are over.
  void SyncAll() {
    const std::lock_guard<std::mutex> hold(sync_mutex_);
    SyncLocked();
  }

 private:
  // The line's number among those appended.
  int64_t Write(const std::string& line) {
    const std::lock_guard<std::mutex> hold(write_mutex_);
    WriteAll(file_.fd, line, path_, "--out");  // O_APPEND: whole lines, never interleaved
    return ++written_;
  }

  // Holds sync_mutex_. Lock order: sync, then write.
  void SyncLocked() {
    int64_t upto = 0;
    {
      const std::lock_guard<std::mutex> hold_write(write_mutex_);
      upto = written_;
    }
    if (upto == synced_) return;
    if (::fdatasync(file_.fd) != 0) {
      throw InputError("--out", "cannot sync '" + path_ + "': " + std::strerror(errno));
    }
    last_sync_ = std::chrono::steady_clock::now();
    const int64_t fresh = upto - synced_;
    synced_ = upto;
    if (on_synced_) on_synced_(fresh);
  }

  const std::string path_;
  UniqueFd file_;
  const std::function<void(int64_t)> on_synced_;
  std::mutex write_mutex_, sync_mutex_;
  int64_t written_ = 0;  // lines appended (write_mutex_)
  int64_t synced_ = 0;   // of those, known to be on disk (sync_mutex_)
  std::chrono::steady_clock::time_point last_sync_;  // (sync_mutex_)
};

// Searches `todo` in parallel; the appender reports lines done as syncs cover them.
void SearchAll(const SweepSpec& spec, const ScenarioSet& scenarios,
               const std::vector<int64_t>& todo, const SweepRunOptions& o, ResultsAppender& out) {
  const int threads = o.threads > 0 ? o.threads : tbb::info::default_concurrency();
  SearchOptions options = spec.options;
  // Many scenarios: one thread each. Fewer scenarios than threads: each search shares them.
  options.threads = std::max<int>(1, threads / std::max<int>(1, static_cast<int>(todo.size())));
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, todo.size(), 1), [&](const auto& range) {
      for (size_t i = range.begin(); i != range.end(); ++i) {
        // Resolved again here rather than kept: a sweep holds its ids, not its scenarios.
        const Scenario s = scenarios.At(todo[i]);
        const SearchResult r = Search(s.specs.model, s.specs.cluster, s.specs.setup, options);
        out.Append(ScenarioLine(spec, s, r) + "\n");
      }
    });
  });
  out.SyncAll();
}

// summary.csv from results.jsonl, read back a batch of lines at a time and checked as a resume
// would; only each scenario's CSV row and ranking row are kept, not its line.
std::vector<SweepRow> WriteSummary(const std::string& path, const SweepManifest& m,
                                   const std::string& csv_path) {
  constexpr size_t kBatchBytes = size_t{16} << 20;
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> csv_rows(static_cast<size_t>(m.scenarios));
  std::vector<SweepRow> rows;
  std::string batch;
  const auto take = [&] {
    // The run appended whole lines and synced them; repeats were repaired before it started.
    for (const ResultLine& line : ParseResultsText(batch, path, m, "--out").lines) {
      SweepRow row;
      csv_rows[static_cast<size_t>(line.scenario)] =
          SummaryCsvRow(nlohmann::json::parse(line.text), row);
      rows.push_back(std::move(row));
    }
    batch.clear();
  };
  for (std::string line; std::getline(in, line);) {
    batch += line + "\n";
    if (batch.size() >= kBatchBytes) take();
  }
  if (in.bad()) throw InputError("--out", "cannot read '" + path + "'");
  take();
  std::sort(rows.begin(), rows.end(),
            [](const SweepRow& a, const SweepRow& b) { return a.scenario < b.scenario; });
  std::string csv = SummaryCsvHeader();
  for (const std::string& row : csv_rows) csv += row;
  WriteFileAtomically(csv_path, csv, "--out");
  return rows;
}

}  // namespace

std::string ScenarioLine(const SweepSpec& spec, const Scenario& s, const SearchResult& r) {
  using nlohmann::ordered_json;
  const CostInput cost{.train_tokens = spec.train_tokens, .gpu_hour_cost = s.price_per_gpu_hour};
  // The plan JSON of `planner --format json`, so both outputs name fields alike. Launch snippets
  // are long and the same for every cluster of a plan: `planner --emit` them for the cluster
  // chosen.
  ordered_json full = SearchJsonValue(s.specs, r, cost, {.snippets = false});
  ordered_json line = {{"scenario", s.index}, {"id", s.id}, {"source", s.source}};
  line["inputs"] = std::move(full["inputs"]);
  if (s.price_per_gpu_hour > 0) line["inputs"]["price_per_gpu_hour"] = s.price_per_gpu_hour;
  if (spec.train_tokens > 0) line["inputs"]["train_tokens"] = spec.train_tokens;
  ordered_json& plans = full["plans"];
  line["best"] = plans.empty() ? ordered_json(nullptr) : std::move(plans[0]);
  if (plans.empty()) line["reason"] = NoPlanSummary(r);
  line["runners_up"] = ordered_json::array();
  for (size_t i = 1; i < plans.size(); ++i) line["runners_up"].push_back(std::move(plans[i]));
  // Timings and thread counts differ from run to run; a line must not.
  full["search"].erase("seconds");
  full["search"].erase("threads");
  line["search"] = std::move(full["search"]);
  return line.dump();
}

SweepRunResult RunSweep(const SweepSpec& spec, const ScenarioSet& scenarios,
                        const SweepRunOptions& o) {
  const fs::path dir(o.out_dir);
  if (o.out_dir.empty()) throw InputError("--out", "is required");
  const DirLock lock(dir, "--out");
  const SweepManifest manifest = ManifestOf(spec, scenarios, o.shard);
  PrepareManifest(dir, manifest);

  const std::string path = (dir / "results.jsonl").string();
  SweepRunResult result;
  std::vector<int64_t> todo;
  {  // the earlier lines are let go before the searches
    const ResultsFile earlier = RepairResults(path, manifest);
    result.dropped_lines = earlier.torn + earlier.repeated;
    todo = Unfinished(scenarios.size(), o.shard, earlier.lines, result.progress);
  }
  if (o.on_progress) o.on_progress(result.progress);
  ResultsAppender out(dir, path, [&](int64_t synced) {
    result.progress.done += synced;
    if (o.on_progress) o.on_progress(result.progress);
  });
  SearchAll(spec, scenarios, todo, o, out);

  result.rows = WriteSummary(path, manifest, (dir / "summary.csv").string());
  return result;
}

}  // namespace planner
