// The built-in models, GPUs and links, extendable from JSON files, and lookup by name.
#pragma once

#include <string>
#include <vector>

#include "planner/model/hardware.h"
#include "planner/model/model.h"

namespace planner {

struct Catalog {
  std::vector<Model> models;
  std::vector<Gpu> gpus;
  std::vector<Link> links;
};

/// Everything compiled into the binary; each entry cites its source.
Catalog BuiltinCatalog();

/// Adds (or replaces, by name) the entries of a JSON file {"models": [...], "gpus": [...],
/// "links": [...]}. Throws InputError naming the file and JSON path of a bad entry.
void ExtendCatalog(Catalog& catalog, const std::string& json_path);
/// The same from the file's text; `json_path` names the file in errors.
void ExtendCatalogJson(Catalog& catalog, const std::string& text, const std::string& json_path);

/// A model by catalog name, or a path to a JSON file (the planner's schema or a Hugging Face
/// config.json). Throws InputError(where) with a suggestion when nothing matches.
Model FindModel(const Catalog& catalog, const std::string& name_or_path, const std::string& where);

/// A GPU by name or unambiguous alias ("4090"); an ambiguous alias ("a100") lists the choices.
Gpu FindGpu(const Catalog& catalog, const std::string& name, const std::string& where);

Link FindLink(const Catalog& catalog, const std::string& name, const std::string& where);

}  // namespace planner

namespace planner {

/// The compiled-in entries, one file each (src/catalog_*.cc).
std::vector<Model> BuiltinModels();
/// The 2026 families (Qwen, DeepSeek, Gemma, Phi-3, Llama 4, GPT-OSS); part of BuiltinModels.
std::vector<Model> RecentModels();
std::vector<Gpu> BuiltinGpus();
/// GPUs added for issue #14 (GB200 NVL72, H20, A6000, A40, L40, MI325X); part of BuiltinGpus.
std::vector<Gpu> RecentGpus();
std::vector<Link> BuiltinLinks();

}  // namespace planner
