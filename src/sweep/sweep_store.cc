// A sweep directory on disk: the manifest, reading results.jsonl back (dropping torn lines),
// atomic rewrites, the directory lock, and merging the parts of a sharded sweep.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/text.h"
#include "planner/sweep/sweep_shard.h"
#include "planner/sweep/sweep_store.h"
#include "sweep_files.h"
#include "sweep_line.h"

namespace planner {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A manifest and results.jsonl grow with the sweep, unlike user files, so their caps do too:
// a manifest holds at most 10M ids of ~20 bytes; a results line at most `top` (1000) plans of a
// few kilobytes. Checked before reading, so a 2 GiB file of a small sweep is refused at once.
constexpr int64_t kMaxManifestBytes = int64_t{256} << 20;
constexpr int64_t kMaxResultLineBytes = int64_t{4} << 20;
constexpr int64_t kMaxStoreFileBytes = int64_t{1} << 36;

// "2, 5, 8, 11, 14 and 91 more": enough to act on, short enough for one line.
std::string Some(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return v.size() > 5 ? s + " and " + std::to_string(v.size() - 5) + " more" : s;
}

// The parts' manifests; every part must be of one sweep, and none may be the output.
std::vector<SweepManifest> PartManifests(const std::vector<std::string>& dirs,
                                         const fs::path& out) {
  std::error_code ec;
  std::vector<SweepManifest> manifests;
  for (const std::string& dir : dirs) {
    if (fs::weakly_canonical(dir, ec) == out) {
      throw InputError("--out", "must be a new directory, not one of the parts ('" + dir + "')");
    }
    manifests.push_back(ReadManifest((fs::path(dir) / "manifest.json").string(), dir));
    const SweepManifest& m = manifests.back();
    if (m.sweep_hash != manifests[0].sweep_hash || m.ids != manifests[0].ids) {
      throw InputError(dir, "holds a different sweep than '" + dirs[0] + "'");
    }
  }
  return manifests;
}

// Each scenario's line and the part it came from (-1: none yet).
struct Merged {
  std::vector<ResultLine> lines{};
  std::vector<int> owner{};
};

// Takes part `d`'s lines; a torn line, or a scenario another part has, fails naming the part.
void AddPart(const std::vector<std::string>& dirs, size_t d, const SweepManifest& m,
             Merged& merged) {
  const ResultsFile f = ReadResults((fs::path(dirs[d]) / "results.jsonl").string(), m, dirs[d]);
  if (f.torn + f.repeated > 0) {
    throw InputError(dirs[d], "results.jsonl has " + std::to_string(f.torn + f.repeated) +
                                  " torn or repeated lines; run that part again to repair it");
  }
  std::vector<int64_t> twice;
  int other = -1;
  for (const ResultLine& line : f.lines) {
    int& o = merged.owner[static_cast<size_t>(line.scenario)];
    if (o >= 0) {
      twice.push_back(line.scenario);
      other = o;
      continue;
    }
    o = static_cast<int>(d);
    merged.lines[static_cast<size_t>(line.scenario)] = line;
  }
  if (!twice.empty()) {
    std::sort(twice.begin(), twice.end());
    throw InputError(dirs[d], "scenarios " + Some(twice) + " are also in '" + dirs[other] +
                                  "'; give each part once");
  }
}

// Every scenario must have a line; the error names the shards to finish or add.
void CheckComplete(const Merged& merged, const SweepManifest& m) {
  std::vector<int64_t> missing;
  std::set<std::string> shards;
  for (int64_t i = 0; i < m.scenarios; ++i) {
    if (merged.owner[static_cast<size_t>(i)] >= 0) continue;
    missing.push_back(i);
    shards.insert(ShardName({.k = i % m.shard_n + 1, .n = m.shard_n}));
  }
  if (missing.empty()) return;
  const std::string parts = Join({shards.begin(), shards.end()}, ", ");
  throw InputError("DIR", std::to_string(missing.size()) + " of " + std::to_string(m.scenarios) +
                              " scenarios missing (" + Some(missing) +
                              "); they belong to shard " + parts + " (finish or add that part)");
}

// --out may be new, empty, or an earlier merge of this sweep (replaced whole); nothing else.
void CheckMergeTarget(const fs::path& out, const std::string& out_dir, const SweepManifest& m) {
  std::error_code ec;
  if (fs::exists(out / "manifest.json", ec)) {
    if (ReadManifest((out / "manifest.json").string(), "--out").sweep_hash != m.sweep_hash) {
      throw InputError("--out",
                       "'" + out_dir + "' holds a different sweep; merge into a new directory");
    }
    return;
  }
  for (const fs::directory_entry& e : fs::directory_iterator(out, ec)) {
    if (e.path().filename() == ".lock") continue;
    throw InputError("--out", "'" + out_dir + "' holds files but no sweep (" +
                                  e.path().filename().string() + "); merge into a new directory");
  }
}

}  // namespace

DirLock::DirLock(const fs::path& dir, const std::string& where) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw InputError(where, "cannot create directory '" + dir.string() + "': " + ec.message());
  }
  const fs::path path = dir / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw InputError(where, "cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw InputError(where, "'" + dir.string() + "' is in use by another planner sweep or merge");
  }
}

DirLock::~DirLock() { ::close(fd_); }

std::string ManifestJson(const SweepManifest& m) {
  nlohmann::ordered_json j = {
      {"format", "planner-sweep-1"},
      {"sweep_hash", m.sweep_hash},
      {"scenarios", m.scenarios},
      {"shard", ShardName({.k = m.shard_k, .n = m.shard_n})},
      {"ids", m.ids}};
  return j.dump(1) + "\n";
}

SweepManifest ReadManifest(const std::string& path, const std::string& where) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(where, "no manifest '" + path + "'");
  return ParseManifestJson(ReadTextFile(path, where, kMaxManifestBytes), path, where);
}

SweepManifest ParseManifestJson(const std::string& text, const std::string& path,
                                const std::string& where) {
  const json j = json::parse(text, nullptr, false);
  SweepManifest m;
  // Read back from disk, so checked like any input: a wrong type is a refusal, not a crash.
  const bool ok = j.is_object() && j.contains("format") && j["format"] == "planner-sweep-1" &&
                  j.contains("sweep_hash") && j["sweep_hash"].is_string() &&
                  j.contains("scenarios") && j["scenarios"].is_number_integer() &&
                  j.contains("shard") && j["shard"].is_string() && j.contains("ids") &&
                  j["ids"].is_array() &&
                  std::sscanf(j["shard"].get<std::string>().c_str(), "%" SCNd64 "/%" SCNd64,
                              &m.shard_k, &m.shard_n) == 2;
  if (!ok || m.shard_k < 1 || m.shard_k > m.shard_n) {
    throw InputError(where, "'" + path + "' is not a planner sweep manifest");
  }
  m.sweep_hash = j["sweep_hash"];
  m.scenarios = j["scenarios"];
  for (const json& id : j["ids"]) {
    if (!id.is_string()) throw InputError(where, "'" + path + "' has an id that is not a string");
    m.ids.push_back(id);
  }
  if (static_cast<int64_t>(m.ids.size()) != m.scenarios) {
    throw InputError(where, "'" + path + "' lists " + std::to_string(m.ids.size()) +
                                " ids for " + std::to_string(m.scenarios) + " scenarios");
  }
  return m;
}

std::string ResultsText(const std::vector<ResultLine>& lines) {
  std::string text;
  for (const ResultLine& line : lines) text += line.text + "\n";
  return text;
}

ResultsFile ReadResults(const std::string& path, const SweepManifest& m, const std::string& where) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return {};
  const int64_t most =
      std::min(kMaxStoreFileBytes, std::max<int64_t>(m.scenarios, 1) * kMaxResultLineBytes);
  return ParseResultsText(ReadTextFile(path, where, most), path, m, where);
}

ResultsFile ParseResultsText(const std::string& text, const std::string& path,
                             const SweepManifest& m, const std::string& where) {
  ResultsFile out;
  std::vector<bool> seen(static_cast<size_t>(m.scenarios), false);
  int64_t number = 0;
  for (size_t start = 0; start < text.size();) {
    ++number;
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) {  // the last write never finished
      ++out.torn;
      break;
    }
    std::string line = text.substr(start, end - start);
    start = end + 1;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++out.torn;
      continue;
    }
    const std::string at = "'" + path + "' line " + std::to_string(number) + ": ";
    if (!j.contains("scenario") || !j["scenario"].is_number_integer() || !j.contains("id") ||
        !j["id"].is_string()) {
      throw InputError(where, at + "not a sweep result (no scenario and id)");
    }
    const int64_t i = j["scenario"];
    if (i < 0 || i >= m.scenarios || j["id"] != m.ids[static_cast<size_t>(i)]) {
      throw InputError(where, at + "scenario " + std::to_string(i) + " is not of this sweep");
    }
    const Shard shard{.k = m.shard_k, .n = m.shard_n};
    if (!InShard(shard, i)) {
      throw InputError(where, at + "scenario " + std::to_string(i) + " is not of shard " +
                                  ShardName(shard));
    }
    const std::string problem = ResultLineProblem(j);
    if (!problem.empty()) throw InputError(where, at + problem);
    if (seen[static_cast<size_t>(i)]) {
      ++out.repeated;
      continue;
    }
    seen[static_cast<size_t>(i)] = true;
    out.lines.push_back({.scenario = i, .text = std::move(line)});
  }
  return out;
}

std::vector<ResultLine> MergeSweeps(const std::vector<std::string>& dirs,
                                    const std::string& out_dir) {
  if (dirs.empty()) throw InputError("DIR", "give the directories of the parts to merge");
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(out_dir, ec);
  const std::vector<SweepManifest> manifests = PartManifests(dirs, out);
  Merged merged{.lines = std::vector<ResultLine>(static_cast<size_t>(manifests[0].scenarios)),
                .owner = std::vector<int>(static_cast<size_t>(manifests[0].scenarios), -1)};
  for (size_t d = 0; d < dirs.size(); ++d) AddPart(dirs, d, manifests[d], merged);
  CheckComplete(merged, manifests[0]);
  const DirLock lock(out_dir, "--out");
  CheckMergeTarget(out, out_dir, manifests[0]);
  SweepManifest whole = manifests[0];
  whole.shard_k = whole.shard_n = 1;
  // Built beside and swapped in whole: a full disk leaves --out as it was, not half made.
  const fs::path staged = StagingDirectory(out, "--out");
  try {
    WriteFileAtomically((staged / "manifest.json").string(), ManifestJson(whole), "--out");
    WriteFileAtomically((staged / "results.jsonl").string(), ResultsText(merged.lines), "--out");
    WriteFileAtomically((staged / "summary.csv").string(), SummaryCsv(merged.lines), "--out");
  } catch (...) {
    fs::remove_all(staged, ec);
    throw;
  }
  SwapInDirectory(staged, out, "--out");
  return merged.lines;
}

}  // namespace planner
