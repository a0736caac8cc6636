// A sweep's output directory: manifest.json, results.jsonl, summary.csv; reading, repair, merge.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace planner {

/// What DIR/manifest.json records, so that a resume or a merge can tell it is the same sweep.
struct SweepManifest {
  std::string sweep_hash{};        ///< SweepSpec::hash
  int64_t scenarios = 0;           ///< in the whole sweep, every shard
  int64_t shard_k = 1;             ///< this directory holds part K of N
  int64_t shard_n = 1;
  std::vector<std::string> ids{};  ///< every scenario's id, by index
  bool operator==(const SweepManifest&) const = default;
};

std::string ManifestJson(const SweepManifest& m);
/// Throws InputError(`where`) when the file is missing, not a regular file, or malformed.
SweepManifest ReadManifest(const std::string& path, const std::string& where);
/// The same from the file's text; `path` names the file in errors.
SweepManifest ParseManifestJson(const std::string& text, const std::string& path,
                                const std::string& where);

/// One complete line of results.jsonl.
struct ResultLine {
  int64_t scenario = 0;
  std::string text{};  ///< the line's bytes without "\n"
};

/// The lines as results.jsonl holds them, each ending in "\n".
std::string ResultsText(const std::vector<ResultLine>& lines);

struct ResultsFile {
  std::vector<ResultLine> lines{};  ///< in file order, each scenario once
  int64_t torn = 0;      ///< lines dropped: no final "\n" or not JSON (a crash mid-write)
  int64_t repeated = 0;  ///< lines dropped: a scenario seen before
};

/// Reads results.jsonl (absent: empty). Every kept line must be a scenario of `m`'s shard with
/// the manifest's id, else InputError(`where`, "line N ...").
ResultsFile ReadResults(const std::string& path, const SweepManifest& m, const std::string& where);
/// The same from the file's text: each kept line also needs the inputs and best plan the
/// summaries read, each of its type, else InputError(`where`, "'PATH' line N: JSON.path: ...").
ResultsFile ParseResultsText(const std::string& text, const std::string& path,
                             const SweepManifest& m, const std::string& where);

/// Joins the parts in `dirs` into `out_dir` (manifest, results.jsonl by scenario, summary.csv).
/// Throws InputError naming the directory when parts differ, or a scenario is missing or twice.
std::vector<ResultLine> MergeSweeps(const std::vector<std::string>& dirs,
                                    const std::string& out_dir);

/// A scenario's inputs and best plan, read back from its line, for the ranking table.
struct SweepRow {
  int64_t scenario = 0;
  std::string model{}, gpu{}, intra_link{}, inter_link{};
  int64_t gpus = 0, gpus_per_node = 0, seq_len = 0, global_batch = 0;
  bool feasible = false;
  std::string plan{};              ///< "tp 8 pp 4 dp 16 mb 1", empty when nothing fits
  double tokens_per_s = 0;
  double train_days = 0;           ///< 0 without train_tokens
  double price_per_gpu_hour = 0;   ///< 0 without a price
  double train_cost = 0;           ///< 0 without train_tokens or price
  double cost_per_million_tokens = 0;  ///< 0 without a price
};

std::vector<SweepRow> SweepRows(const std::vector<ResultLine>& lines);
/// One row per line, by scenario: inputs, best plan's figures (units in the column names), reason.
std::string SummaryCsv(const std::vector<ResultLine>& lines);
/// Per model: clusters by time to train (tokens/s), then by cost where prices are given.
void PrintSweepRanking(std::ostream& out, const std::vector<SweepRow>& rows, int limit);

}  // namespace planner
