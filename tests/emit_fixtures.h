// Helpers the emitter tests share: the flag and key lists of ../shared/fixtures, flag scanning.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "planner/input/catalog.h"
#include "planner/render/emit.h"
#include "planner/input/specs.h"

namespace planner {

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// One name a line of the file at `path`; '#' starts a comment (whole-line headers and
/// "bfloat16  # keeping ...").
inline std::set<std::string> LoadNameListAt(const std::string& path) {
  std::ifstream in(path);
  std::set<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    names.insert(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
  }
  return names;
}

/// A name list of ../shared/fixtures.
inline std::set<std::string> LoadNameList(const std::string& fixture) {
  return LoadNameListAt(std::string(PLANNER_SHARED_DIR) + "/fixtures/" + fixture);
}

/// A name list of tests/fixtures (the upstream lists extract_fixtures.py writes).
inline std::set<std::string> LoadUpstreamList(const std::string& fixture) {
  return LoadNameListAt(std::string(PLANNER_SOURCE_DIR) + "/tests/fixtures/" + fixture);
}

/// Every key of a JSON document, nested ones included (nesting not recorded).
inline std::set<std::string> ConfigKeys(const nlohmann::json& j) {
  std::set<std::string> keys;
  if (!j.is_object()) return keys;
  for (const auto& [key, value] : j.items()) {
    keys.insert(key);
    keys.merge(ConfigKeys(value));
  }
  return keys;
}

/// torchrun's own flags: they configure the launcher, not pretrain_gpt.py, so the Megatron-LM
/// flag check leaves out exactly these (and the #SBATCH lines, which are sbatch's).
inline const std::set<std::string>& TorchrunFlags() {
  static const std::set<std::string> flags = {"--nnodes",       "--nproc_per_node", "--node_rank",
                                              "--master_addr",  "--master_port",    "--rdzv_id",
                                              "--rdzv_backend", "--rdzv_endpoint",  "--standalone"};
  return flags;
}

/// Every "--flag" token of a script or argument file, comments included, except torchrun's
/// flags and the lines that start with "#SBATCH".
inline std::set<std::string> ScriptFlags(const std::string& text) {
  static const std::regex flag(R"((^|[\s"'(=])(--[A-Za-z0-9][A-Za-z0-9_-]*))");
  std::set<std::string> found;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("#SBATCH", 0) == 0) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), flag), end; it != end; ++it) {
      const std::string name = (*it)[2];
      if (!TorchrunFlags().contains(name)) found.insert(name);
    }
  }
  return found;
}

/// Specs from a catalog model and GPU with the CLI's defaults for the rest.
inline Specs MakeSpecs(const std::string& model, const std::string& gpu, int64_t gpus,
                       const std::string& precision = "bf16") {
  return BuildSpecs(SpecInput{.model = model, .gpu = gpu, .gpus = gpus, .precision = precision},
                    BuiltinCatalog());
}

/// Runs the planner's command line in-process: its exit code, with stdout and stderr in `out`.
inline int RunPlanner(const std::vector<std::string>& args, std::string& out) {
  std::ostringstream o, e;
  const int rc = RunCli(args, o, e);
  out = o.str() + e.str();
  return rc;
}

/// Adds to `c`, as a user's catalog file would, a Grace Hopper-like GPU named `name` (H100
/// figures, 96 GiB) with the JSON members `extra` beside them, e.g. `"host_memory_gb": 480`.
inline void AddGraceHopperLike(Catalog& c, const std::string& name, const std::string& extra) {
  ExtendCatalogJson(c, R"({"gpus": [{"name": ")" + name + R"(", "hbm_gib": 96,
      "fp32_tflops": 67, "bf16_tflops": 989, "hbm_gb_per_s": 4000, "intra_link": "nvlink4",
      "inter_link": "ib-ndr", "arch": "Hopper", )" + extra + "}]}",
                    "my.json");
}

/// Fills dp and grad_accum as `planner evaluate` does.
inline Plan Complete(const Specs& s, Plan p) {
  p.dp = static_cast<int>(s.cluster.gpus / (static_cast<int64_t>(p.tp) * p.cp * p.pp));
  p.grad_accum =
      static_cast<int>(s.setup.global_batch / (static_cast<int64_t>(p.micro_batch) * p.dp));
  return p;
}

}  // namespace planner
