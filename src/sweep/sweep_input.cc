// Reading a sweep file: keys, types and signs checked here; names are resolved on expansion.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "planner/input/json_text.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/text.h"
#include "planner/sweep/sweep.h"
#include "sweep_grid.h"

namespace planner {
namespace {

using nlohmann::json;

// Far beyond any real run (the largest published ones train on ~1e13 tokens and rent GPUs for
// a few dollars an hour), and small enough that days and costs stay finite.
constexpr double kMaxTrainTokens = 1e18;
constexpr double kMaxPricePerGpuHour = 1e6;

const std::vector<std::string> kSettingKeys = {
    "precision", "grad_precision", "optimizer",           "schedule",         "attention",
    "framework", "catalogs",  "top",            "train_tokens",        "prices",           "max_cp",
    "scenarios", "description",    "allow_cross_node_tp", "allow_comm_bound", "host_memory",
    "scale_up_domain"};
const std::vector<std::string> kScenarioKeys = {
    "model",        "gpu",        "gpus",          "gpus_per_node", "intra_link",
    "inter_link",   "nics_per_node", "seq_len",    "global_batch",  "precision",
    "grad_precision", "optimizer", "schedule",     "attention",     "framework",
    "price_per_gpu_hour", "host_memory", "scale_up_domain"};

// A key as typed, or quoted and escaped when it holds control characters: errors are one line.
std::string KeyName(const std::string& key) {
  const bool plain = std::none_of(key.begin(), key.end(),
                                  [](char ch) { return static_cast<unsigned char>(ch) < 0x20; });
  return plain && !key.empty() ? key : json(key).dump();
}

// Typed reads of one file's values; each error names "FILE: json.path".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void Fail(const std::string& path, const std::string& message) const {
    throw InputError(file_ + ": " + path, message);
  }
  void CheckKeys(const json& obj, const std::string& prefix,
                 const std::vector<std::string>& keys) const {
    for (const auto& item : obj.items()) {
      if (std::find(keys.begin(), keys.end(), item.key()) != keys.end()) continue;
      const std::string close = ClosestName(item.key(), keys);
      Fail(prefix + KeyName(item.key()), close.empty() ? "unknown key; expected one of " + Join(keys, ", ")
                                              : "unknown key; did you mean " + close + "?");
    }
  }
  std::string Name(const json& v, const std::string& path) const {
    if (!v.is_string() || v.get<std::string>().empty()) {
      Fail(path, "expected a non-empty string, got " + ShownJson(v));
    }
    if (KeyName(v.get<std::string>()) != v.get<std::string>()) {
      Fail(path, "control characters in " + ShownJson(v));
    }
    return v.get<std::string>();
  }
  int64_t Count(const json& v, const std::string& path) const {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
      Fail(path, "expected a positive integer, got " + ShownJson(v));
    }
    return v.get<int64_t>();
  }
  // Bounded above too: the cost of a huge token count or price overflowed to null in results.
  double Positive(const json& v, const std::string& path, double most) const {
    if (!v.is_number() || !(v.get<double>() > 0) || !(v.get<double>() <= most)) {
      Fail(path, "expected a positive number up to " + Printf("%g", most) + ", got " +
                     ShownJson(v));
    }
    return v.get<double>();
  }
  // Optional keys of `obj`: the field keeps its default when the key is absent.
  void OptionalName(const json& obj, const std::string& prefix, const char* key,
                    std::string& field) const {
    if (obj.contains(key)) field = Name(obj.at(key), prefix + key);
  }
  void OptionalCount(const json& obj, const std::string& prefix, const char* key,
                     int64_t& field) const {
    if (obj.contains(key)) field = Count(obj.at(key), prefix + key);
  }
  bool Bool(const json& v, const std::string& path) const {
    if (!v.is_boolean()) Fail(path, "expected true or false, got " + ShownJson(v));
    return v.get<bool>();
  }
  // A value or a non-empty array of values, none repeated; `one` reads each.
  template <typename T, typename Read>
  std::vector<T> Axis(const json& doc, const std::string& key, Read one) const {
    std::vector<T> out;
    const auto it = doc.find(key);
    if (it == doc.end()) return out;
    if (!it->is_array()) return {one(*it, key)};
    if (it->empty()) Fail(key, "must not be empty; leave the key out for the default");
    // Ordered by value, so a long axis is checked in O(n log n) (a pairwise scan took 15 s
    // for 40,000 entries).
    std::map<json, size_t> seen;
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string path = key + "[" + std::to_string(i) + "]";
      const auto [first, fresh] = seen.emplace((*it)[i], i);
      if (!fresh) Fail(path, "repeats " + key + "[" + std::to_string(first->second) + "]");
      out.push_back(one((*it)[i], path));
    }
    return out;
  }

 private:
  std::string file_;
};

// Model and catalog files are named relative to the sweep file, so an example runs from anywhere.
std::string Relative(const std::filesystem::path& base, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? path : (base / p).lexically_normal().string();
}

bool IsModelFile(const std::string& typed) { return typed.size() > 5 && typed.ends_with(".json"); }

std::string ModelName(const std::filesystem::path& base, const std::string& typed) {
  return IsModelFile(typed) ? Relative(base, typed) : typed;
}

void ReadSettings(const Reader& r, const json& obj, const std::string& prefix, SpecInput& in) {
  r.OptionalName(obj, prefix, "precision", in.precision);
  r.OptionalName(obj, prefix, "grad_precision", in.grad_precision);
  r.OptionalName(obj, prefix, "optimizer", in.optimizer);
  r.OptionalName(obj, prefix, "schedule", in.schedule);
  r.OptionalName(obj, prefix, "attention", in.attention);
  r.OptionalName(obj, prefix, "framework", in.framework);
  // The cluster's facts a grid has no axis for: host memory per node ("960Gi", as the flag) and
  // the GPUs one NVLink domain joins (72 for an NVL72 rack).
  r.OptionalName(obj, prefix, "host_memory", in.host_memory);
  r.OptionalCount(obj, prefix, "scale_up_domain", in.scale_up_domain);
}

Scenario ReadScenario(const Reader& r, const json& obj, const std::string& path,
                      const SpecInput& defaults, const std::filesystem::path& base) {
  if (!obj.is_object()) r.Fail(path, "expected an object, got " + ShownJson(obj));
  r.CheckKeys(obj, path + ".", kScenarioKeys);
  for (const char* key : {"model", "gpu", "gpus"}) {
    if (!obj.contains(key)) {
      r.Fail(path + "." + key, std::string("missing required key '") + key + "'");
    }
  }
  Scenario s{.source = path, .input = defaults};
  SpecInput& in = s.input;
  in.model = ModelName(base, r.Name(obj.at("model"), path + ".model"));
  in.gpu = r.Name(obj.at("gpu"), path + ".gpu");
  in.gpus = r.Count(obj.at("gpus"), path + ".gpus");
  const std::string prefix = path + ".";
  r.OptionalCount(obj, prefix, "gpus_per_node", in.gpus_per_node);
  r.OptionalCount(obj, prefix, "nics_per_node", in.nics_per_node);
  r.OptionalCount(obj, prefix, "seq_len", in.seq_len);
  r.OptionalCount(obj, prefix, "global_batch", in.global_batch);
  r.OptionalName(obj, prefix, "intra_link", in.intra_link);
  r.OptionalName(obj, prefix, "inter_link", in.inter_link);
  ReadSettings(r, obj, prefix, in);
  if (obj.contains("price_per_gpu_hour")) {
    s.price_per_gpu_hour = r.Positive(obj.at("price_per_gpu_hour"), path + ".price_per_gpu_hour",
                                      kMaxPricePerGpuHour);
  }
  return s;
}

// The top level's keys: the grid's axes and the settings; a description must be a string.
void CheckTopLevel(const Reader& r, const json& doc) {
  std::vector<std::string> keys(kGridKeys.begin(), kGridKeys.end());
  keys.insert(keys.end(), kSettingKeys.begin(), kSettingKeys.end());
  r.CheckKeys(doc, "", keys);
  if (doc.contains("description") && !doc.at("description").is_string()) {
    r.Fail("description", "expected a string");
  }
}

// The catalog files, relative to the sweep file.
void ReadCatalogs(const Reader& r, const json& doc, const std::filesystem::path& base,
                  SweepSpec& spec) {
  const auto name = [&](const json& v, const std::string& p) { return r.Name(v, p); };
  for (const std::string& path : r.Axis<std::string>(doc, "catalogs", name)) {
    spec.defaults.catalogs.push_back(Relative(base, path));
  }
}

// The sweep's identity: whitespace and key order do not change the sweep; the contents of the
// catalog and model files it reads do (an edited model file between an interrupted run and its
// resume mixed two models' results), so each file's content is hashed into it and into ids.
void HashFiles(const json& doc, SweepSpec& spec) {
  std::string identity = doc.dump();
  std::string catalogs;
  for (const std::string& path : spec.defaults.catalogs) {
    catalogs += '\n' + ReadTextFile(path, spec.file + ": catalogs");
  }
  identity += catalogs;
  spec.catalogs_hash = spec.defaults.catalogs.empty() ? "" : HashHex(catalogs);
  const auto add_model = [&](const std::string& model, const std::string& place) {
    if (!IsModelFile(model) || spec.model_file_hashes.count(model) > 0) return;
    const std::string text = ReadTextFile(model, spec.file + ": " + place);
    spec.model_file_hashes.emplace(model, HashHex(text));
    identity += '\n' + model + '\n' + text;
  };
  for (size_t i = 0; i < spec.grid.models.size(); ++i) {
    add_model(spec.grid.models[i], "models[" + std::to_string(i) + "]");
  }
  for (const Scenario& s : spec.listed) add_model(s.input.model, s.source + ".model");
  spec.hash = HashHex(identity);
}

SweepGrid ReadGrid(const Reader& r, const json& doc, const std::filesystem::path& base) {
  auto names = [&](const json& v, const std::string& p) { return r.Name(v, p); };
  auto counts = [&](const json& v, const std::string& p) { return r.Count(v, p); };
  SweepGrid g{};
  g.models = r.Axis<std::string>(doc, "models", names);
  for (std::string& m : g.models) m = ModelName(base, m);
  g.gpus = r.Axis<std::string>(doc, "gpus", names);
  g.gpu_counts = r.Axis<int64_t>(doc, "gpu_counts", counts);
  g.gpus_per_node = r.Axis<int64_t>(doc, "gpus_per_node", counts);
  g.intra_links = r.Axis<std::string>(doc, "intra_links", names);
  g.inter_links = r.Axis<std::string>(doc, "inter_links", names);
  g.nics_per_node = r.Axis<int64_t>(doc, "nics_per_node", counts);
  g.seq_lens = r.Axis<int64_t>(doc, "seq_lens", counts);
  g.global_batches = r.Axis<int64_t>(doc, "global_batches", counts);
  return g;
}

// Any axis makes a grid, and a grid needs the three axes that say which cluster it is.
bool HasGrid(const Reader& r, const json& doc) {
  const bool has_grid = std::any_of(kGridKeys.begin(), kGridKeys.end(),
                                    [&](const char* key) { return doc.contains(key); });
  if (has_grid) {
    for (const char* key : {"models", "gpus", "gpu_counts"}) {
      if (!doc.contains(key)) r.Fail(key, "missing; a grid needs models, gpus and gpu_counts");
    }
  }
  return has_grid;
}

std::vector<Scenario> ReadListed(const Reader& r, const json& doc, const SpecInput& defaults,
                                 const std::filesystem::path& base) {
  std::vector<Scenario> listed;
  if (!doc.contains("scenarios")) return listed;
  const json& list = doc.at("scenarios");
  if (!list.is_array() || list.empty()) r.Fail("scenarios", "expected a non-empty array");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "scenarios[" + std::to_string(i) + "]";
    listed.push_back(ReadScenario(r, list[i], path, defaults, base));
  }
  return listed;
}

std::vector<std::pair<std::string, double>> ReadPrices(const Reader& r, const json& doc) {
  std::vector<std::pair<std::string, double>> out;
  if (!doc.contains("prices")) return out;
  const json& prices = doc.at("prices");
  if (!prices.is_object()) r.Fail("prices", "expected an object {\"h100-sxm\": 2.5, ...}");
  for (const auto& item : prices.items()) {
    const std::string path = "prices." + KeyName(item.key());
    r.Name(json(item.key()), path);
    out.emplace_back(item.key(), r.Positive(item.value(), path, kMaxPricePerGpuHour));
  }
  return out;
}

// top, max_cp and the search limits; the runner sets the threads.
SearchOptions ReadOptions(const Reader& r, const json& doc) {
  SearchOptions o{};
  auto bounded = [&](const char* key, int64_t most) {
    const int64_t v = r.Count(doc.at(key), key);
    if (v > most) {
      r.Fail(key, "must be 1 to " + std::to_string(most) + ", got " + std::to_string(v));
    }
    return static_cast<int>(v);
  };
  o.top = doc.contains("top") ? bounded("top", 1000) : 3;
  if (doc.contains("max_cp")) o.max_context_parallel = bounded("max_cp", 1024);
  if (doc.contains("allow_cross_node_tp")) {
    o.limits.allow_cross_node_tp = r.Bool(doc.at("allow_cross_node_tp"), "allow_cross_node_tp");
  }
  if (doc.contains("allow_comm_bound")) {
    o.limits.allow_comm_bound = r.Bool(doc.at("allow_comm_bound"), "allow_comm_bound");
  }
  return o;
}

}  // namespace

uint64_t HashOf(const std::string& text) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis and prime (Fowler, Noll, Vo)
  for (const char ch : text) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  return h;
}

std::string HexId(uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::string HashHex(const std::string& text) { return HexId(HashOf(text)); }

// Errors come in the order of these steps, which tests and users see.
SweepSpec ParseSweepJson(const std::string& text, const std::string& file) {
  const json doc = ParseJsonText(text, file);
  if (!doc.is_object()) throw InputError(file, "expected an object {\"models\": [...], ...}");
  const Reader r(file);
  CheckTopLevel(r, doc);
  const std::filesystem::path base = std::filesystem::path(file).parent_path();
  SweepSpec spec{.file = file};
  ReadCatalogs(r, doc, base, spec);
  ReadSettings(r, doc, "", spec.defaults);
  spec.grid = ReadGrid(r, doc, base);
  spec.has_grid = HasGrid(r, doc);
  spec.listed = ReadListed(r, doc, spec.defaults, base);
  if (!spec.has_grid && spec.listed.empty()) {
    throw InputError(file, "no scenarios: give models, gpus and gpu_counts (a grid), "
                           "or scenarios, or both");
  }
  HashFiles(doc, spec);
  spec.prices = ReadPrices(r, doc);
  if (doc.contains("train_tokens")) {
    spec.train_tokens = r.Positive(doc.at("train_tokens"), "train_tokens", kMaxTrainTokens);
  }
  spec.options = ReadOptions(r, doc);
  return spec;
}

SweepSpec ParseSweepFile(const std::string& path) {
  return ParseSweepJson(ReadTextFile(path, path), path);
}

Catalog LoadSweepCatalog(const SweepSpec& spec) {
  Catalog catalog = BuiltinCatalog();
  for (const std::string& file : spec.defaults.catalogs) ExtendCatalog(catalog, file);
  return catalog;
}

}  // namespace planner
