// Looking up models, GPUs and links by name, and extending the catalog from a user's JSON file.
#include "planner/input/catalog.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "planner/input/json_text.h"
#include "planner/input/model_loader.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/text.h"
#include "planner/model/units.h"

namespace planner {
namespace {

using nlohmann::json;

bool SameName(const std::string& a, const std::string& b) { return Lower(a) == Lower(b); }

std::vector<std::string> Aliases(const Gpu& gpu) {
  std::vector<std::string> out;
  std::stringstream in(gpu.aliases);
  for (std::string alias; std::getline(in, alias, ',');) {
    const auto first = alias.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    out.push_back(alias.substr(first, alias.find_last_not_of(' ') - first + 1));
  }
  return out;
}

template <typename T>
std::vector<std::string> Names(const std::vector<T>& entries) {
  std::vector<std::string> names;
  for (const T& e : entries) names.push_back(e.name);
  return names;
}

// ClosestName, but names that start with what was typed come first: "llama2-70" is one edit
// from both llama2-7b and llama2-70b, and the user meant the one it is a prefix of.
std::string Suggest(const std::string& typed, const std::vector<std::string>& choices) {
  std::vector<std::string> prefixed;
  for (const std::string& c : choices) {
    if (Lower(c).starts_with(Lower(typed))) prefixed.push_back(c);
  }
  return ClosestName(typed, prefixed.empty() ? choices : prefixed);
}

// "unknown GPU 'h1000'; did you mean h100-sxm?", or the list of names when nothing is close.
std::string Unknown(const std::string& kind, const std::string& typed,
                    const std::string& suggestion, const std::vector<std::string>& names) {
  const std::string head = "unknown " + kind + " '" + typed + "'";
  if (!suggestion.empty()) return head + "; did you mean " + suggestion + "?";
  return head + "; available: " + (names.empty() ? "none" : Join(names, ", "));
}

// Each entry's position by lower-cased name (the first of a name, as a scan would find it):
// a file of 40,000 entries is checked in O(n log n), not with a scan of the list per entry.
using NameIndex = std::map<std::string, size_t>;

template <typename T>
NameIndex IndexByName(const std::vector<T>& entries) {
  NameIndex index;
  for (size_t i = 0; i < entries.size(); ++i) index.emplace(Lower(entries[i].name), i);
  return index;
}

// Replaces the entry of the same name (case-insensitive) when the file's "replace" list names
// it, or appends. A name already in the catalog and not listed was a silent override of a
// built-in (or an earlier file's) entry: an error at `path`. `replace` holds lower-cased names.
template <typename T>
void Upsert(std::vector<T>& entries, NameIndex& index, T entry,
            const std::set<std::string>& replace, const std::string& path) {
  const auto [it, fresh] = index.emplace(Lower(entry.name), entries.size());
  if (fresh) {
    entries.push_back(std::move(entry));
    return;
  }
  if (!replace.contains(it->first)) {
    throw InputError(path + ".name", "'" + entry.name +
                                         "' is already in the catalog; to replace it, add "
                                         "\"replace\": [\"" +
                                         entry.name + "\"] to the file");
  }
  entries[it->second] = std::move(entry);
}

// One catalog entry's fields. `path` is "my.json: gpus[1]"; errors name "my.json: gpus[1].key".
class Entry {
 public:
  Entry(const json& obj, std::string path, const std::vector<std::string>& keys)
      : obj_(obj), path_(std::move(path)) {
    if (!obj.is_object()) throw InputError(path_, "expected an object, got " + ShownJson(obj));
    RejectUnknownKeys(
        obj, keys, [&](const std::string& key) { return path_ + "." + key; },
        "unknown key; expected one of " + Join(keys, ", "));
  }
  // Required and > 0. Figures are in the key's unit (GiB, TFLOP/s, GB/s, us); the bounds keep
  // every product of the cost models finite.
  double Positive(const std::string& key) const {
    const double v = Number(key, true, 0);
    if (v <= 0) Fail(key, "must be positive, got " + ShownJson(obj_.at(key)));
    if (v < kSmallest || v > kLargest) {
      Fail(key, "must be between 1e-06 and 1e+09, got " + ShownJson(obj_.at(key)));
    }
    return v;
  }
  // Optional and >= 0 (0 means "none" or "not stated").
  double NonNegative(const std::string& key, double fallback) const {
    const double v = Number(key, false, fallback);
    if (v < 0) Fail(key, "must not be negative, got " + ShownJson(obj_.at(key)));
    if (v != 0 && (v < kSmallest || v > kLargest)) {
      Fail(key, "must be 0 or between 1e-06 and 1e+09, got " + ShownJson(obj_.at(key)));
    }
    return v;
  }
  std::string String(const std::string& key, bool required) const {
    const auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required) Fail(key, "missing required key '" + key + "'");
      return "";
    }
    if (!it->is_string()) Fail(key, "expected a string, got " + ShownJson(*it));
    if (required && it->get<std::string>().empty()) Fail(key, "must not be empty");
    return it->get<std::string>();
  }
  bool Has(const std::string& key) const { return obj_.contains(key); }
  [[noreturn]] void Fail(const std::string& key, const std::string& message) const {
    throw InputError(path_ + "." + key, message);
  }

 private:
  double Number(const std::string& key, bool required, double fallback) const {
    const auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required) Fail(key, "missing required key '" + key + "'");
      return fallback;
    }
    if (!it->is_number()) Fail(key, "expected a number, got " + ShownJson(*it));
    return it->get<double>();
  }

  static constexpr double kSmallest = 1e-6;
  static constexpr double kLargest = 1e9;
  const json& obj_;
  std::string path_;
};

// Matched ignoring case, as GPU, link and model names are: vendors write "Hopper" and "CDNA3",
// no two architectures differ only in case, and a refused "Hopper" would only make the user
// retype what was meant. Any other spelling is refused: it would silently get another
// architecture's calibration.
Arch ParseArch(const Entry& e) {
  if (!e.Has("arch")) return Arch::kUnstated;
  const std::string typed = e.String("arch", false);
  std::vector<std::string> names;
  for (const Arch arch : kArchs) {
    if (SameName(typed, ArchName(arch))) return arch;
    names.push_back(ArchName(arch));
  }
  const std::string close = ClosestName(typed, names);
  e.Fail("arch", "unknown architecture '" + typed + "' (known: " + Join(names, ", ") + ")" +
                     (close.empty() ? "" : "; did you mean " + close + "?"));
}

// Required: name, hbm_gib, fp32_tflops, bf16_tflops, hbm_gb_per_s, intra_link, inter_link.
// Optional: aliases, arch, source, reserved_gib, tf32_tflops and fp8_tflops (0: none, no TF32/fp8),
// scale_up_gpus (GPUs one NVLink domain joins, 0: a node), matmul_tflops (a measured 16-bit
// matmul rate, 0: none; scales constants borrowed from another GPU), host_link_gb_per_s (one way
// to host memory per GPU, e.g. NVLink-C2C; 0: PCIe of the GPU's generation), host_memory_gb
// (host memory per GPU in its usual server; 0: the default rule of Cluster::HostBytesPerNode).
Gpu ParseGpu(const json& obj, const std::string& path) {
  const Entry e(obj, path,
                {"name", "aliases", "hbm_gib", "reserved_gib", "fp32_tflops", "tf32_tflops",
                 "bf16_tflops", "fp8_tflops", "matmul_tflops", "hbm_gb_per_s", "intra_link",
                 "inter_link", "arch", "scale_up_gpus", "host_link_gb_per_s", "host_memory_gb",
                 "source"});
  Gpu gpu{.name = e.String("name", true),
          .aliases = e.String("aliases", false),
          .hbm_bytes = e.Positive("hbm_gib") * kGiB,
          .reserved_bytes = e.NonNegative("reserved_gib", 0) * kGiB,
          .fp32_flops = e.Positive("fp32_tflops") * kTera,
          .tf32_flops = e.NonNegative("tf32_tflops", 0) * kTera,
          .bf16_flops = e.Positive("bf16_tflops") * kTera,
          .fp8_flops = e.NonNegative("fp8_tflops", 0) * kTera,
          .matmul_flops = e.NonNegative("matmul_tflops", 0) * kTera,
          .hbm_bytes_per_s = e.Positive("hbm_gb_per_s") * kGB,
          .intra_link = e.String("intra_link", true),
          .inter_link = e.String("inter_link", true),
          .arch = ParseArch(e),
          .host_link_bytes_per_s = e.NonNegative("host_link_gb_per_s", 0) * kGB,
          .host_bytes = e.NonNegative("host_memory_gb", 0) * kGB,
          .source = e.String("source", false)};
  const double domain = e.NonNegative("scale_up_gpus", 0);
  if (domain != std::floor(domain) || domain > 1e6) {
    e.Fail("scale_up_gpus", "must be a whole number of GPUs, at most 1000000");
  }
  gpu.scale_up_gpus = static_cast<int64_t>(domain);
  if (gpu.reserved_bytes >= gpu.hbm_bytes) e.Fail("reserved_gib", "must be less than hbm_gib");
  // A card clocked above its rated boost passes its datasheet peak by a few tenths, never 2x.
  if (gpu.matmul_flops > 2.0 * gpu.bf16_flops) {
    e.Fail("matmul_tflops", "is more than twice bf16_tflops; give a measured 16-bit matmul rate");
  }
  return gpu;
}

// Required: name, one_way_gb_per_s, latency_us. Optional: two_way_gb_per_s (2x one way), source.
Link ParseLink(const json& obj, const std::string& path) {
  const Entry e(obj, path,
                {"name", "one_way_gb_per_s", "two_way_gb_per_s", "latency_us", "source"});
  Link link{.name = e.String("name", true),
            .one_way_bytes_per_s = e.Positive("one_way_gb_per_s") * kGB,
            .latency_s = e.Positive("latency_us") * 1e-6,
            .source = e.String("source", false)};
  link.two_way_bytes_per_s = e.Has("two_way_gb_per_s") ? e.Positive("two_way_gb_per_s") * kGB
                                                       : 2.0 * link.one_way_bytes_per_s;
  // Two-way is both directions at once: never less than one of them.
  if (link.two_way_bytes_per_s < link.one_way_bytes_per_s) {
    e.Fail("two_way_gb_per_s", "is less than one_way_gb_per_s; two-way counts both directions");
  }
  return link;
}

}  // namespace

Catalog BuiltinCatalog() { return {BuiltinModels(), BuiltinGpus(), BuiltinLinks()}; }

void ExtendCatalog(Catalog& catalog, const std::string& json_path) {
  ExtendCatalogJson(catalog, ReadTextFile(json_path, json_path), json_path);
}

void ExtendCatalogJson(Catalog& catalog, const std::string& text, const std::string& json_path) {
  const json doc = ParseJsonText(text, json_path);
  if (!doc.is_object()) throw InputError(json_path, "expected an object {\"models\": [...], ...}");
  RejectUnknownKeys(
      doc, {"models", "gpus", "links", "replace"},
      [&](const std::string& key) { return json_path + ": " + key; },
      "unknown key; expected models, gpus, links or replace");
  std::set<std::string> replace;  // lower-cased
  if (const auto it = doc.find("replace"); it != doc.end()) {
    if (!it->is_array()) throw InputError(json_path + ": replace", "expected an array of names");
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        throw InputError(json_path + ": replace[" + std::to_string(i) + "]",
                         "expected a name, got " + ShownJson((*it)[i]));
      }
      replace.insert(Lower((*it)[i].get<std::string>()));
    }
  }
  // Built on a copy so that a bad entry leaves the caller's catalog as it was.
  Catalog out = catalog;
  // Calls add(entry, "my.json: gpus[1]") for each entry of the array `key`.
  auto each = [&](const std::string& key, const auto& add) {
    const auto it = doc.find(key);
    if (it == doc.end()) return;
    if (!it->is_array()) throw InputError(json_path + ": " + key, "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      add((*it)[i], json_path + ": " + key + "[" + std::to_string(i) + "]");
    }
  };
  NameIndex links = IndexByName(out.links), gpus = IndexByName(out.gpus),
            models = IndexByName(out.models);
  each("links", [&](const json& j, const std::string& path) {
    Upsert(out.links, links, ParseLink(j, path), replace, path);
  });
  each("gpus", [&](const json& j, const std::string& path) {
    Gpu gpu = ParseGpu(j, path);
    // The defaults must exist; FindLink only for the error and its suggestion.
    if (!links.contains(Lower(gpu.intra_link))) FindLink(out, gpu.intra_link, path + ".intra_link");
    if (!links.contains(Lower(gpu.inter_link))) FindLink(out, gpu.inter_link, path + ".inter_link");
    Upsert(out.gpus, gpus, std::move(gpu), replace, path);
  });
  each("models", [&](const json& j, const std::string& path) {
    if (!j.is_object()) throw InputError(path, "expected an object, got " + ShownJson(j));
    if (j.contains("architectures") || j.contains("model_type")) {
      throw InputError(path,
                       "catalog models use the planner's schema (name, layers, ...); give "
                       "a Hugging Face config.json to --model as a file instead");
    }
    Upsert(out.models, models, ParseModelJson(j.dump(), path), replace, path);
  });
  catalog = std::move(out);
}

Model FindModel(const Catalog& catalog, const std::string& name_or_path, const std::string& where) {
  for (const Model& m : catalog.models) {
    if (SameName(m.name, name_or_path)) return m;
  }
  std::error_code ec;
  const std::string lower = Lower(name_or_path);
  if (std::filesystem::is_regular_file(name_or_path, ec) ||
      (lower.size() > 5 && lower.ends_with(".json"))) {
    return LoadModelFile(name_or_path, name_or_path);
  }
  const std::vector<std::string> names = Names(catalog.models);
  const std::string close = Suggest(name_or_path, names);
  throw InputError(where, Unknown("model", name_or_path, close, names) +
                              (close.empty() ? "; or give the path of a model .json file" : ""));
}

Gpu FindGpu(const Catalog& catalog, const std::string& name, const std::string& where) {
  for (const Gpu& gpu : catalog.gpus) {
    if (SameName(gpu.name, name)) return gpu;
  }
  // The GPUs whose alias list has `alias`.
  auto by_alias = [&](const std::string& alias) {
    std::vector<std::string> hits;
    for (const Gpu& gpu : catalog.gpus) {
      const std::vector<std::string> aliases = Aliases(gpu);
      if (std::any_of(aliases.begin(), aliases.end(),
                      [&](const std::string& a) { return SameName(a, alias); })) {
        hits.push_back(gpu.name);
      }
    }
    return hits;
  };
  const std::vector<std::string> hits = by_alias(name);
  if (hits.size() == 1) return FindGpu(catalog, hits[0], where);
  if (hits.size() > 1) throw InputError(where, "'" + name + "' is ambiguous: " + Join(hits, ", "));
  std::vector<std::string> choices = Names(catalog.gpus);
  for (const Gpu& gpu : catalog.gpus) {
    for (const std::string& alias : Aliases(gpu)) choices.push_back(alias);
  }
  std::string close = Suggest(name, choices);
  // A close alias is shown as the GPU(s) it stands for.
  const std::vector<std::string> names = Names(catalog.gpus);
  if (!close.empty() && std::find(names.begin(), names.end(), close) == names.end()) {
    close = Join(by_alias(close), " or ");
  }
  throw InputError(where, Unknown("GPU", name, close, names));
}

Link FindLink(const Catalog& catalog, const std::string& name, const std::string& where) {
  for (const Link& link : catalog.links) {
    if (SameName(link.name, name)) return link;
  }
  const std::vector<std::string> names = Names(catalog.links);
  throw InputError(where, Unknown("link", name, Suggest(name, names), names));
}

}  // namespace planner
