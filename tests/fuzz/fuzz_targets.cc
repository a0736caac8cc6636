// The fuzz targets' bodies (fuzz_targets.h): parse, then check what was accepted.
#include "fuzz_targets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "planner/input/catalog.h"
#include "planner/cli/cli.h"
#include "planner/model/error.h"
#include "planner/cost/memory_model.h"
#include "planner/input/model_loader.h"
#include "planner/input/specs.h"
#include "planner/cost/step_time.h"
#include "planner/sweep/sweep.h"

namespace planner::fuzz {
namespace {

using nlohmann::json;

// A broken invariant: say which, then abort so that libFuzzer keeps the input.
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

// What every refusal must look like: a place and a message, each on one line.
void CheckError(const InputError& e) {
  const std::string what = e.what();
  Check(!e.where().empty(), "InputError without a place");
  Check(!what.empty(), "InputError without a message");
  Check(what.find('\n') == std::string::npos && e.where().find('\n') == std::string::npos,
        "InputError on more than one line");
}

bool Finite(double v) { return std::isfinite(v) && v >= 0; }

// A cluster to score accepted models on: 8 H100s, as BuildSpecs resolves them.
const Cluster& SomeCluster() {
  static const Cluster c =
      BuildSpecs(SpecInput{.model = "llama2-7b", .gpu = "h100-sxm", .gpus = 8}, BuiltinCatalog())
          .cluster;
  return c;
}

// A model that passed validation must give finite, non-negative figures everywhere.
void CheckModel(const Model& m) {
  const ParamCounts c = CountParameters(m);
  Check(Finite(c.total) && c.total <= ModelLimits::kParameters, "parameter count");
  Check(Finite(c.active) && c.active <= c.total, "active parameter count");
  const TrainingSetup setup{.global_batch = 1, .seq_len = m.seq_len};
  for (const Recompute r : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
    const Plan plan{.recompute = r};
    const MemoryBreakdown mem = TrainingMemory(m, plan, setup);
    Check(Finite(mem.total()), "training memory");
    const TimeBreakdown t = StepTime(m, SomeCluster(), plan, setup);
    Check(Finite(t.step()) && t.step() > 0, "step time");
  }
  const ServingMemory serve = InferenceMemory(m, 2.0, 2.0, 1, m.seq_len);
  Check(Finite(serve.total()), "serving memory");
}

std::string Text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A string that could reach the file system: a path, or the name of something in the working
// directory.
bool NamesFile(const std::string& s) {
  std::error_code ec;
  return s.find('/') != std::string::npos || s.find('\\') != std::string::npos ||
         (!s.empty() && std::filesystem::exists(s, ec));
}

bool AnyStringNamesFile(const json& j) {
  if (j.is_string()) return NamesFile(j.get<std::string>());
  if (j.is_array() || j.is_object()) {
    for (const json& v : j) {
      if (AnyStringNamesFile(v)) return true;
    }
  }
  return false;
}

// "nan" or "inf" as a word (as printf and streams write them), anywhere in `text`.
bool HasNonNumber(const std::string& text) {
  for (const char* word : {"nan", "inf"}) {
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
      const bool starts = at == 0 || !std::isalpha(static_cast<unsigned char>(text[at - 1]));
      const size_t end = at + 3;
      const bool ends = end == text.size() || !std::isalpha(static_cast<unsigned char>(text[end]));
      if (starts && ends) return true;
    }
  }
  return false;
}

}  // namespace

void ModelJson(const uint8_t* data, size_t size) {
  Model m;
  try {
    m = ParseModelJson(Text(data, size), "model.json");
  } catch (const InputError& e) {
    CheckError(e);
    return;
  }
  CheckModel(m);
}

void HfConfig(const uint8_t* data, size_t size) {
  const std::string text = Text(data, size);
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || (!doc.contains("architectures") && !doc.contains("model_type"))) return;
  Model m;
  try {
    m = ParseModelJson(text, "config.json");
  } catch (const InputError& e) {
    CheckError(e);
    return;
  }
  CheckModel(m);
}

void CatalogJson(const uint8_t* data, size_t size) {
  static const Catalog builtin = BuiltinCatalog();
  Catalog catalog = builtin;
  try {
    ExtendCatalogJson(catalog, Text(data, size), "catalog.json");
  } catch (const InputError& e) {
    CheckError(e);
    Check(catalog.models == builtin.models && catalog.gpus == builtin.gpus &&
              catalog.links == builtin.links,
          "a refused catalog file changed the catalog");
    return;
  }
  for (const Gpu& gpu : catalog.gpus) {
    Check(Finite(gpu.usable_bytes()) && gpu.usable_bytes() > 0, "usable memory");
    Check(FindGpu(catalog, gpu.name, "--gpu").name == gpu.name, "a GPU found by its own name");
    // Its default links exist, so a cluster of it resolves.
    FindLink(catalog, gpu.intra_link, "--intra-link");
    FindLink(catalog, gpu.inter_link, "--inter-link");
  }
  for (const Model& m : catalog.models) CheckModel(m);
}

void SweepJson(const uint8_t* data, size_t size) {
  const std::string text = Text(data, size);
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && AnyStringNamesFile(doc)) return;
  // A directory that does not exist: model and catalog files named in the sweep resolve below it.
  const std::string file = "/nonexistent-planner-fuzz/sweep.json";
  try {
    const SweepSpec spec = ParseSweepJson(text, file);
    const SweepGrid& g = spec.grid;
    size_t scenarios = 1;
    for (const size_t n : {g.models.size(), g.gpus.size(), g.gpu_counts.size(),
                           g.gpus_per_node.size(), g.intra_links.size(), g.inter_links.size(),
                           g.nics_per_node.size(), g.seq_lens.size(), g.global_batches.size()}) {
      scenarios *= std::max<size_t>(n, 1);
      if (scenarios > 256) return;  // expanding is correct but slow; the search is not fuzzed here
    }
    const std::vector<Scenario> expanded = ExpandScenarios(spec, LoadSweepCatalog(spec));
    Check(!expanded.empty(), "a sweep without scenarios");
    for (size_t i = 0; i < expanded.size(); ++i) {
      Check(expanded[i].index == static_cast<int64_t>(i), "scenario numbering");
      Check(expanded[i].id.size() == 16, "scenario id");
    }
  } catch (const InputError& e) {
    CheckError(e);
  }
}

void CliArgs(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  std::stringstream lines(Text(data, size));
  for (std::string line; std::getline(lines, line);) {
    if (args.size() == 64) return;
    args.push_back(line);
  }
  if (!args.empty() && args[0] == "merge") return;
  const bool sweep = !args.empty() && args[0] == "sweep";
  for (const std::string& a : args) {
    if (NamesFile(a)) return;
    // --out and --emit, spelt out or abbreviated as Boost allows ("--ou=DIR"). A sweep may take
    // --out: its file never exists here, so it stops before writing anything.
    const std::string flag = a.substr(0, a.find('='));
    const bool writes = (flag.size() >= 4 && std::string("--out").starts_with(flag) && !sweep) ||
                        (flag.size() >= 4 && std::string("--emit").starts_with(flag));
    if (writes) return;
  }
  std::ostringstream out, err;
  const int rc = RunCli(args, out, err);
  Check(rc == 0 || rc == 1 || rc == 2, "exit code other than 0, 1 or 2 (an internal error)");
  const std::string e = err.str();
  if (rc == 2 && !args.empty()) {
    Check(e.rfind("planner: ", 0) == 0, "error without the 'planner: ' prefix");
    Check(e.find('\n') == e.size() - 1, "error message not exactly one line");
  }
  if (rc != 2) Check(e.empty(), "something on stderr without an error");
  if (rc != 2) Check(!HasNonNumber(out.str()), "nan or inf in the output");
}

namespace {

// The manifest the 'r' inputs are read against: 4 scenarios, ids "000...0" to "000...3".
const SweepManifest& FourScenarios() {
  static const SweepManifest m = [] {
    SweepManifest four{.sweep_hash = "0123456789abcdef", .scenarios = 4};
    for (int i = 0; i < 4; ++i) four.ids.push_back("000000000000000" + std::to_string(i));
    return four;
  }();
  return m;
}

// A private directory for the 'p' inputs, made once and emptied after each input.
const std::filesystem::path& PathsDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::temp_directory_path() /
                              ("planner-fuzz-store-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Makes `name` in the private directory as `kind`; false when that cannot be done.
bool MakeFile(const std::string& path, char kind, const std::string& text) {
  switch (kind) {
    case 'f': {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (f == nullptr) return false;
      std::fwrite(text.data(), 1, text.size(), f);
      return std::fclose(f) == 0;
    }
    case 'q': return ::mkfifo(path.c_str(), 0600) == 0;
    case 'd': return ::mkdir(path.c_str(), 0700) == 0;
    case 'h': {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return false;
      const bool ok = ::ftruncate(fd, off_t{2} << 30) == 0;
      ::close(fd);
      return ok;
    }
    case 's': {
      const std::string fifo = (PathsDir() / "fifo-target").string();
      return ::mkfifo(fifo.c_str(), 0600) == 0 && ::symlink(fifo.c_str(), path.c_str()) == 0;
    }
    default: return false;
  }
}

template <typename F>
void Refused(F read) {
  try {
    read();
  } catch (const InputError& e) {
    CheckError(e);
  }
}

void Paths(const std::string& rest) {
  const size_t newline = rest.find('\n');
  if (newline == std::string::npos || newline + 1 >= rest.size()) return;
  const std::string name = rest.substr(0, newline);
  const char kind = rest[newline + 1];
  if (name.empty() || name == "." || name == ".." || name.size() > 200 ||
      name.find_first_of(std::string("/\0", 2)) != std::string::npos || name == "fifo-target") {
    return;
  }
  const std::string path = (PathsDir() / name).string();
  if (MakeFile(path, kind, rest.substr(newline + 2))) {
    Refused([&] { ParseSweepFile(path); });
    Refused([&] { LoadModelFile(path, "--model"); });
    Refused([&] {
      Catalog c = BuiltinCatalog();
      ExtendCatalog(c, path);
    });
    Refused([&] { ReadManifest(path, "--out"); });
    Refused([&] { ReadResults(path, FourScenarios(), "--out"); });
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(PathsDir(), ec)) {
    std::filesystem::remove_all(e.path(), ec);
  }
}

}  // namespace

void StoreFiles(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string rest = Text(data + 1, size - 1);
  if (data[0] == 'm') {
    SweepManifest m;
    try {
      m = ParseManifestJson(rest, "manifest.json", "--out");
    } catch (const InputError& e) {
      CheckError(e);
      return;
    }
    Check(static_cast<int64_t>(m.ids.size()) == m.scenarios, "manifest ids and count");
    Check(m.shard_k >= 1 && m.shard_k <= m.shard_n, "manifest shard");
    Check(ParseManifestJson(ManifestJson(m), "manifest.json", "--out") == m,
          "manifest round trip");
  } else if (data[0] == 'r') {
    ResultsFile f;
    try {
      f = ParseResultsText(rest, "results.jsonl", FourScenarios(), "--out");
    } catch (const InputError& e) {
      CheckError(e);
      return;
    }
    // What was kept is read by the summaries without any error: they trust it.
    SummaryCsv(f.lines);
    SweepRows(f.lines);
  } else if (data[0] == 'p') {
    Paths(rest);
  }
}

}  // namespace planner::fuzz
