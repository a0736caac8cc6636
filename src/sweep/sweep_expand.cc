// Expanding a sweep into scenarios: the grid's cartesian product, then the listed ones, each
// resolved by BuildSpecs before any search, with errors naming the sweep file's JSON path.
#include <algorithm>
#include <array>
#include <cstdio>
#include <unordered_map>

#include "planner/model/error.h"
#include "planner/sweep/sweep.h"
#include "sweep_grid.h"

namespace planner {
namespace {

// Entries per grid axis, in kGridKeys order; 0 for an absent optional axis.
using AxisSizes = std::array<size_t, kGridKeys.size()>;
// A point of the grid: the entry taken from each axis (0 for an absent one).
using GridPoint = AxisSizes;

// An error from a file the sweep names (a model .json), placed at the entry that names it.
InputError At(const std::string& path, const InputError& e) {
  const std::string message = e.what();
  if (message.find(e.where()) != std::string::npos) return InputError(path, message);
  return InputError(path, e.where() + ": " + message);
}

// The JSON path that stands for each flag BuildSpecs may name, for one scenario.
using Places = std::vector<std::pair<std::string, std::string>>;

Specs Resolve(const SweepSpec& spec, const Catalog& catalog, const SpecInput& in,
              const Places& places, const std::string& source) {
  try {
    return BuildSpecs(in, catalog);
  } catch (const InputError& e) {
    for (const auto& [flag, path] : places) {
      if (flag == e.where()) throw InputError(spec.file + ": " + path, e.what());
    }
    if (e.where().starts_with("--")) throw InputError(spec.file + ": " + source, e.what());
    // A model file's own errors name that file and the JSON path inside it.
    throw At(spec.file + ": " + places.front().second, e);
  }
}

// Settings given in a listed scenario are its own; others are the file's top-level keys.
void AddSettingPlaces(Places& places, const SpecInput& in, const SpecInput& defaults,
                      const std::string& prefix) {
  auto place = [&](const char* flag, const std::string& value, const std::string& fallback,
                   const char* key) {
    places.emplace_back(flag, (value != fallback ? prefix : "") + key);
  };
  place("--precision", in.precision, defaults.precision, "precision");
  place("--grad-precision", in.grad_precision, defaults.grad_precision, "grad_precision");
  place("--optimizer", in.optimizer, defaults.optimizer, "optimizer");
  place("--schedule", in.schedule, defaults.schedule, "schedule");
  place("--attention", in.attention, defaults.attention, "attention");
  place("--framework", in.framework, defaults.framework, "framework");
}

// Everything the search depends on, resolved; equal keys would give equal lines.
std::string Key(const Specs& s) {
  const Cluster& c = s.cluster;
  const TrainingSetup& t = s.setup;
  const auto n = [](int64_t v) { return std::to_string(v); };
  return s.model.name + "|" + c.gpu.name + "|" + n(c.gpus) + "|" + n(c.gpus_per_node) + "|" +
         c.intra.name + "|" + c.inter.name + "|" + n(c.nics_per_node) + "|" + n(t.seq_len) + "|" +
         n(t.global_batch) + "|" + PrecisionName(t.precision) + "|" +
         (t.fp32_grads ? "fp32" : "16") + "|" + OptimizerName(t.optimizer) + "|" +
         ScheduleName(t.schedule) + "|" + (t.flash_attention ? "flash" : "standard") + "|" +
         (t.comm_overlap ? "overlap" : "") + "|" + std::to_string(static_cast<int>(t.framework));
}

// Each name of a grid axis resolved once: unknown names and two spellings of one entry fail here.
template <typename Find>
void CheckAxis(const SweepSpec& spec, const std::vector<std::string>& axis, const char* key,
               Find find) {
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < axis.size(); ++i) {
    const std::string path = spec.file + ": " + key + "[" + std::to_string(i) + "]";
    std::string name;
    try {
      name = find(axis[i], path);
    } catch (const InputError& e) {
      if (e.where() == path) throw;
      throw At(path, e);
    }
    const auto [it, fresh] = seen.emplace(name, i);
    if (!fresh) {
      throw InputError(path, "'" + axis[i] + "' is " + key + "[" + std::to_string(it->second) +
                                 "] again (" + name + ")");
    }
  }
}

// Resolves every grid name once, before any scenario: a typo fails at its entry, not at the
// first scenario that uses it.
void CheckGridNames(const SweepSpec& spec, const Catalog& catalog) {
  const SweepGrid& g = spec.grid;
  CheckAxis(spec, g.models, "models", [&](const std::string& n, const std::string& where) {
    return FindModel(catalog, n, where).name;
  });
  CheckAxis(spec, g.gpus, "gpus", [&](const std::string& n, const std::string& where) {
    return FindGpu(catalog, n, where).name;
  });
  const auto link = [&](const std::string& n, const std::string& where) {
    return FindLink(catalog, n, where).name;
  };
  CheckAxis(spec, g.intra_links, "intra_links", link);
  CheckAxis(spec, g.inter_links, "inter_links", link);
}

// Money per GPU-hour by the GPU's catalog name, so two spellings of one GPU cannot both be priced.
std::unordered_map<std::string, double> PricesByGpu(const SweepSpec& spec,
                                                    const Catalog& catalog) {
  std::unordered_map<std::string, double> prices;
  for (const auto& [typed, price] : spec.prices) {
    const std::string name = FindGpu(catalog, typed, spec.file + ": prices." + typed).name;
    if (!prices.emplace(name, price).second) {
      throw InputError(spec.file + ": prices." + typed, "a second price for " + name);
    }
  }
  return prices;
}

AxisSizes Sizes(const SweepGrid& g) {
  return {g.models.size(),        g.gpus.size(),        g.gpu_counts.size(),
          g.gpus_per_node.size(), g.intra_links.size(), g.inter_links.size(),
          g.nics_per_node.size(), g.seq_lens.size(),    g.global_batches.size()};
}

// The number of grid points, or kMaxScenarios + 1 once there are more (no overflow).
int64_t GridCount(const AxisSizes& sizes) {
  int64_t count = 1;
  for (const size_t n : sizes) {
    count = std::min(count * static_cast<int64_t>(std::max<size_t>(n, 1)), kMaxScenarios + 1);
  }
  return count;
}

// The odometer: the last axis turns fastest; false after the last point.
bool NextPoint(const AxisSizes& sizes, GridPoint& at) {
  for (size_t axis = at.size(); axis-- > 0;) {
    if (++at[axis] < std::max<size_t>(sizes[axis], 1)) return true;
    at[axis] = 0;
  }
  return false;
}

std::string AxisPath(const GridPoint& at, size_t axis) {
  return std::string(kGridKeys[axis]) + "[" + std::to_string(at[axis]) + "]";
}

// "models[0] gpus[2] ...": the entries of the axes the file gives.
std::string GridSource(const AxisSizes& sizes, const GridPoint& at) {
  std::string source;
  for (size_t axis = 0; axis < sizes.size(); ++axis) {
    if (sizes[axis] == 0) continue;
    if (!source.empty()) source += ' ';
    source += AxisPath(at, axis);
  }
  return source;
}

// The file's defaults with each given axis's entry at `at`.
SpecInput GridInput(const SweepSpec& spec, const AxisSizes& sizes, const GridPoint& at) {
  const SweepGrid& g = spec.grid;
  SpecInput in = spec.defaults;
  in.model = g.models[at[0]];
  in.gpu = g.gpus[at[1]];
  in.gpus = g.gpu_counts[at[2]];
  if (sizes[3] > 0) in.gpus_per_node = g.gpus_per_node[at[3]];
  if (sizes[4] > 0) in.intra_link = g.intra_links[at[4]];
  if (sizes[5] > 0) in.inter_link = g.inter_links[at[5]];
  if (sizes[6] > 0) in.nics_per_node = g.nics_per_node[at[6]];
  if (sizes[7] > 0) in.seq_len = g.seq_lens[at[7]];
  if (sizes[8] > 0) in.global_batch = g.global_batches[at[8]];
  return in;
}

Places GridPlaces(const SweepSpec& spec, const AxisSizes& sizes, const GridPoint& at,
                  const SpecInput& in) {
  const auto path = [&](size_t axis) { return AxisPath(at, axis); };
  // Where a flag's value came from: its axis, or what supplied the default.
  const auto from = [&](size_t axis, size_t otherwise) {
    return path(sizes[axis] > 0 ? axis : otherwise);
  };
  Places places = {{"--model", path(0)},          {"--gpu", path(1)},
                   {"--gpus", path(2)},           {"--gpus-per-node", from(3, 2)},
                   {"--intra-link", from(4, 1)},  {"--inter-link", from(5, 1)},
                   {"--nics-per-node", from(6, 1)}, {"--seq-len", from(7, 0)},
                   {"--global-batch", from(8, 0)}};
  AddSettingPlaces(places, in, spec.defaults, "");
  return places;
}

Places ListedPlaces(const SweepSpec& spec, const Scenario& listed) {
  const SpecInput& in = listed.input;
  const std::string& p = listed.source;
  auto own = [&](bool given, const char* key, const char* otherwise) {
    return p + "." + (given ? key : otherwise);
  };
  Places places = {{"--model", p + ".model"},
                   {"--gpu", p + ".gpu"},
                   {"--gpus", p + ".gpus"},
                   {"--gpus-per-node", own(in.gpus_per_node > 0, "gpus_per_node", "gpus")},
                   {"--intra-link", own(!in.intra_link.empty(), "intra_link", "gpu")},
                   {"--inter-link", own(!in.inter_link.empty(), "inter_link", "gpu")},
                   {"--nics-per-node", own(in.nics_per_node > 0, "nics_per_node", "gpus")},
                   {"--seq-len", own(in.seq_len > 0, "seq_len", "model")},
                   {"--global-batch", own(in.global_batch > 0, "global_batch", "model")}};
  AddSettingPlaces(places, in, spec.defaults, p + ".");
  return places;
}

// The expanded list: each scenario numbered, resolved, refused when its inputs equal an earlier
// one's, named by their hash, and priced by its GPU unless it has its own price.
class ScenarioList {
 public:
  ScenarioList(const SweepSpec& spec, const Catalog& catalog)
      : spec_(spec), catalog_(catalog), prices_(PricesByGpu(spec, catalog)) {}

  void Reserve(size_t n) { out_.reserve(n); }

  void Add(Scenario s, const Places& places) {
    s.index = static_cast<int64_t>(out_.size());
    s.specs = Resolve(spec_, catalog_, s.input, places, s.source);
    std::string key = Key(s.specs);
    // Model and catalog files by content: an edited file gives other ids, not mixed results.
    const auto file = spec_.model_file_hashes.find(s.input.model);
    if (file != spec_.model_file_hashes.end()) key += "|model file " + file->second;
    if (!spec_.catalogs_hash.empty()) key += "|catalogs " + spec_.catalogs_hash;
    const auto [it, fresh] = seen_.emplace(key, out_.size());
    if (!fresh) {
      throw InputError(spec_.file + ": " + s.source,
                       "same inputs as " + out_[it->second].source + " (" + key + ")");
    }
    s.id = HashHex(key);
    if (s.price_per_gpu_hour == 0) {
      const auto price = prices_.find(s.specs.cluster.gpu.name);
      if (price != prices_.end()) s.price_per_gpu_hour = price->second;
    }
    out_.push_back(std::move(s));
  }

  std::vector<Scenario> Take() { return std::move(out_); }

 private:
  const SweepSpec& spec_;
  const Catalog& catalog_;
  const std::unordered_map<std::string, double> prices_;
  std::vector<Scenario> out_;
  std::unordered_map<std::string, size_t> seen_;  // key -> position in `out_`
};

void AddGrid(const SweepSpec& spec, ScenarioList& list) {
  const AxisSizes sizes = Sizes(spec.grid);
  GridPoint at{};
  do {
    Scenario s{.source = GridSource(sizes, at), .input = GridInput(spec, sizes, at)};
    const Places places = GridPlaces(spec, sizes, at, s.input);
    list.Add(std::move(s), places);
  } while (NextPoint(sizes, at));
}

}  // namespace

int64_t CountScenarios(const SweepSpec& spec) {
  const int64_t grid = spec.has_grid ? GridCount(Sizes(spec.grid)) : 0;
  return std::min(grid + static_cast<int64_t>(spec.listed.size()), kMaxScenarios + 1);
}

void CheckScenarioCount(const SweepSpec& spec) {
  if (CountScenarios(spec) <= kMaxScenarios) return;
  // The exact count, for the message: a product of at most 9 axes, each under 2^32 entries.
  long double grid = spec.has_grid ? 1 : 0;
  for (const size_t n : Sizes(spec.grid)) grid *= static_cast<long double>(std::max<size_t>(n, 1));
  const long double total = grid + static_cast<long double>(spec.listed.size());
  char counts[128];
  std::snprintf(counts, sizeof counts, "%.0Lf scenarios (%.0Lf from the grid + %zu listed)", total,
                grid, spec.listed.size());
  throw InputError(spec.file, std::string(counts) + "; at most " + std::to_string(kMaxScenarios) +
                                  ": split the sweep into several files");
}

std::vector<Scenario> ExpandScenarios(const SweepSpec& spec, const Catalog& catalog) {
  CheckScenarioCount(spec);
  CheckGridNames(spec, catalog);
  ScenarioList list(spec, catalog);
  list.Reserve(static_cast<size_t>(CountScenarios(spec)));
  if (spec.has_grid) AddGrid(spec, list);
  for (const Scenario& listed : spec.listed) list.Add(listed, ListedPlaces(spec, listed));
  return list.Take();
}

}  // namespace planner
