// Expanding a sweep into scenarios: the grid's cartesian product, then the listed ones, each
// resolved by BuildSpecs before any search, with errors naming the sweep file's JSON path.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <mutex>
#include <unordered_map>

#include "planner/model/error.h"
#include "planner/model/text.h"
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

// `places()` is only asked for on an error: building it for every scenario of a large sweep
// cost more than resolving it.
template <typename PlacesOf>
Specs Resolve(const SweepSpec& spec, const Catalog& catalog, const SpecInput& in,
              const PlacesOf& places_of, const std::string& source) {
  try {
    return BuildSpecs(in, catalog);
  } catch (const InputError& e) {
    const Places places = places_of();
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
  place("--host-memory", in.host_memory, defaults.host_memory, "host_memory");
  place("--scale-up-domain", std::to_string(in.scale_up_domain),
        std::to_string(defaults.scale_up_domain), "scale_up_domain");
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
         (t.comm_overlap ? "overlap" : "") + "|" + std::to_string(static_cast<int>(t.framework)) +
         "|" + n(c.ScaleUpDomain()) + "|" + Printf("%.17g", c.HostBytesPerNode());
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

// The grid point of number `index`: the last axis turns fastest (an odometer).
GridPoint PointAt(const AxisSizes& sizes, int64_t index) {
  GridPoint at{};
  for (size_t axis = at.size(); axis-- > 0;) {
    const int64_t n = static_cast<int64_t>(std::max<size_t>(sizes[axis], 1));
    at[axis] = static_cast<size_t>(index % n);
    index /= n;
  }
  return at;
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

// Everything the search depends on, and the files by content: an edited model or catalog file
// gives other ids, not mixed results.
std::string IdentityKey(const SweepSpec& spec, const Scenario& s) {
  std::string key = Key(s.specs);
  const auto file = spec.model_file_hashes.find(s.input.model);
  if (file != spec.model_file_hashes.end()) key += "|model file " + file->second;
  if (!spec.catalogs_hash.empty()) key += "|catalogs " + spec.catalogs_hash;
  return key;
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

ScenarioSet::ScenarioSet(const SweepSpec& spec, Catalog catalog)
    : spec_(&spec), catalog_(std::move(catalog)) {
  CheckScenarioCount(spec);
  CheckGridNames(spec, catalog_);
  prices_ = PricesByGpu(spec, catalog_);
  grid_count_ = spec.has_grid ? GridCount(Sizes(spec.grid)) : 0;
  const int64_t n = CountScenarios(spec);
  ids_.resize(static_cast<size_t>(n));
  // In parallel: a scenario's id depends on it alone. The error reported is the first
  // scenario's in order, as a scan in order reports it, whatever the threads.
  std::mutex hold;
  int64_t first_bad = n;
  std::exception_ptr error;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1024), [&](const auto& range) {
    for (int64_t i = range.begin(); i != range.end(); ++i) {
      try {
        ids_[static_cast<size_t>(i)] = HashOf(Key(i));
      } catch (...) {
        const std::lock_guard<std::mutex> lock(hold);
        if (i < first_bad) {
          first_bad = i;
          error = std::current_exception();
        }
        return;
      }
    }
  });
  if (error) std::rethrow_exception(error);
  CheckDistinct();
}

std::string ScenarioSet::Key(int64_t i) const { return IdentityKey(*spec_, Resolved(i)); }

Scenario ScenarioSet::Resolved(int64_t i) const {
  const SweepSpec& spec = *spec_;
  Scenario s;
  if (i < grid_count_) {
    const AxisSizes sizes = Sizes(spec.grid);
    const GridPoint at = PointAt(sizes, i);
    s = Scenario{.source = GridSource(sizes, at), .input = GridInput(spec, sizes, at)};
    s.specs = Resolve(spec, catalog_, s.input,
                      [&] { return GridPlaces(spec, sizes, at, s.input); }, s.source);
  } else {
    s = spec.listed[static_cast<size_t>(i - grid_count_)];
    s.specs = Resolve(spec, catalog_, s.input, [&] { return ListedPlaces(spec, s); }, s.source);
  }
  s.index = i;
  return s;
}

Scenario ScenarioSet::At(int64_t i) const {
  Scenario s = Resolved(i);
  s.id = HexId(ids_[static_cast<size_t>(i)]);
  if (s.price_per_gpu_hour == 0) {
    const auto price = prices_.find(s.specs.cluster.gpu.name);
    if (price != prices_.end()) s.price_per_gpu_hour = price->second;
  }
  return s;
}

std::vector<std::string> ScenarioSet::Ids() const {
  std::vector<std::string> ids;
  ids.reserve(ids_.size());
  for (const uint64_t id : ids_) ids.push_back(HexId(id));
  return ids;
}

// Equal ids are equal inputs (their keys are compared to be sure): refused at the first scenario
// that repeats an earlier one, as a scan in order would. Sorting (id, index) pairs is
// O(n log n) in 16 bytes a scenario, where a set of keys held ~200 bytes each.
void ScenarioSet::CheckDistinct() const {
  std::vector<std::pair<uint64_t, int64_t>> order;
  order.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) order.emplace_back(ids_[i], static_cast<int64_t>(i));
  std::sort(order.begin(), order.end());
  // Within a run of one id, indices ascend: its first is the original, its second the repeat.
  int64_t repeat = -1, first = -1;
  for (size_t i = 1; i < order.size(); ++i) {
    const bool second_of_run =
        order[i].first == order[i - 1].first && (i < 2 || order[i - 2].first != order[i].first);
    if (second_of_run && (repeat < 0 || order[i].second < repeat)) {
      repeat = order[i].second;
      first = order[i - 1].second;
    }
  }
  if (repeat < 0) return;
  const std::string key = Key(repeat);
  const Scenario earlier = Resolved(first);
  const std::string why =
      Key(first) == key ? "same inputs as " : "the same id (a hash collision) as ";
  throw InputError(spec_->file + ": " + Resolved(repeat).source,
                   why + earlier.source + " (" + key + ")");
}

std::vector<Scenario> ExpandScenarios(const SweepSpec& spec, const Catalog& catalog) {
  const ScenarioSet set(spec, catalog);
  std::vector<Scenario> out;
  out.reserve(static_cast<size_t>(set.size()));
  for (int64_t i = 0; i < set.size(); ++i) out.push_back(set.At(i));
  return out;
}

}  // namespace planner
