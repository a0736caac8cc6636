// Snippets of a plan, and writing them as files: DIR/plan-N/{megatron.args, megatron.sh,
// ds_config.json, deepspeed.sh, launch.sh, bridge.overrides, bridge.sh, plan.json}, each whole
// or not at all.
#include "planner/render/emit.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "emit_common.h"
#include "planner/cost/memory_model.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/render/output.h"

namespace planner {

EmitSet ParseEmitSet(const std::string& list, const std::string& where) {
  EmitSet set;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    if (name == "megatron") {
      set.megatron = true;
    } else if (name == "deepspeed") {
      set.deepspeed = true;
    } else if (name == "launch") {
      set.launch = true;
    } else if (name == "bridge") {
      set.bridge = true;
    } else {
      throw InputError(where, "unknown snippet '" + name +
                                  "'; expected a comma-separated list of megatron, deepspeed, "
                                  "launch, bridge");
    }
    start = comma + 1;
  }
  return set;
}

std::string PlanSummary(const Specs& s, const Plan& p) {
  std::string t = s.model.name + " on " + std::to_string(s.cluster.gpus) + " x " +
                  s.cluster.gpu.name + ": TP " + std::to_string(p.tp) + ", PP " +
                  std::to_string(p.pp);
  if (p.virtual_stages > 1) t += " x " + std::to_string(p.virtual_stages) + " virtual stages";
  t += ", DP " + std::to_string(p.dp);
  if (p.cp > 1) t += ", CP " + std::to_string(p.cp);
  if (p.ep > 1) t += ", EP " + std::to_string(p.ep);
  t += ", micro-batch " + std::to_string(p.micro_batch) + " x " + std::to_string(p.grad_accum) +
       " accumulation steps, recompute " +
       RecomputeLabel(p, LargestStageLayers(s.model, p)) + ", ZeRO-" +
       std::to_string(p.zero_stage);
  if (p.sequence_parallel) t += ", sequence parallel";
  return t;
}

bool UsesMegatronFsdp(const Plan& p) { return p.zero_stage >= 2 && p.pp == 1; }

bool ZeroBeyondPipelineLimit(const Plan& p) { return p.zero_stage >= 2 && p.pp > 1; }

StageSplitFlags StageSplitOf(const Model& m, const Plan& p) {
  const int64_t first = p.first_stage_layers;
  const int64_t last = p.last_stage_layers;
  const int64_t stages = static_cast<int64_t>(p.pp) * p.virtual_stages;
  if (first > 0 && first == last && first == (m.layers + 2) / p.pp - 1 &&
      (m.layers + 2) % stages == 0) {
    return {.embedding_slot = true, .loss_slot = true};
  }
  if ((first > 0) != (last > 0) && std::max(first, last) == (m.layers + 1) / p.pp - 1 &&
      (m.layers + 1) % stages == 0) {
    return {.embedding_slot = first > 0, .loss_slot = last > 0};
  }
  return {.first_stage_layers = p.first_stage_layers};
}

int64_t PaddedVocab(int64_t vocab, int tp) {
  const int64_t multiple = 128 * static_cast<int64_t>(tp);
  return (vocab + multiple - 1) / multiple * multiple;
}

std::string Fill(const std::string& text, const std::map<std::string, std::string>& fields) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find('@', at);
    const size_t close = open == std::string::npos ? open : text.find('@', open + 1);
    const std::string name =
        close == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
    const bool placeholder =
        !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
    if (!placeholder) {
      const size_t end = open == std::string::npos ? text.size() : open + 1;
      out += text.substr(at, end - at);
      at = end;
      continue;
    }
    out += text.substr(at, open - at) + fields.at(name);
    at = close + 1;
  }
  return out;
}

std::string Commented(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    out += "# " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

namespace {

// `planner evaluate --format json` for the plan, less the snippets its sibling files hold.
std::string PlanFileJson(const Specs& s, const Evaluation& e) {
  return EvaluationJsonValue(s, e, CostInput{}, {.snippets = false}).dump(2) + "\n";
}

// Writes dir/name whole or not at all; scripts are executable.
void WriteWhole(const std::filesystem::path& dir, const std::string& name,
                const std::string& text) {
  WriteFileAtomically((dir / name).string(), text, "--out", name.ends_with(".sh"));
}

}  // namespace

Snippets Emit(const Specs& s, const Evaluation& e) {
  const Plan& p = e.plan;
  return Snippets{.megatron_args = MegatronArgsFile(s, p),
                  .megatron_sh = MegatronScript(s, p),
                  .ds_config_json = DeepSpeedConfig(s, p),
                  .deepspeed_sh = DeepSpeedScript(s, p),
                  .launch_sh = LaunchScript(s, p),
                  .bridge_overrides = BridgeOverridesFile(s, p),
                  .bridge_sh = BridgeScript(s, p),
                  .plan_json = PlanFileJson(s, e)};
}

namespace {

constexpr const char* kPlanFileNames[] = {"megatron.args", "megatron.sh",      "ds_config.json",
                                          "deepspeed.sh",  "launch.sh",        "plan.json",
                                          "bridge.sh",     "bridge.overrides"};

// "plan-N" holding only regular files of the names WritePlanFiles writes: what an earlier
// --emit left, safe to replace.
bool IsPlanDirectory(const std::filesystem::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  std::error_code ec;
  if (!name.starts_with("plan-") || name.size() == 5 ||
      name.find_first_not_of("0123456789", 5) != std::string::npos || !entry.is_directory(ec)) {
    return false;
  }
  for (const auto& file : std::filesystem::directory_iterator(entry.path(), ec)) {
    const std::string f = file.path().filename().string();
    const bool known = std::find(std::begin(kPlanFileNames), std::end(kPlanFileNames), f) !=
                       std::end(kPlanFileNames);
    if (!known || !file.is_regular_file(ec) || file.is_symlink(ec)) return false;
  }
  return !ec;
}

// DIR may be new, empty, or what an earlier --emit wrote (it is replaced whole, so no stale
// plan-N or snippet of another model stays); anything else is refused, not mixed or deleted.
void CheckEmitTarget(const std::filesystem::path& out) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(out, ec);
  if (!std::filesystem::exists(status)) return;
  if (!std::filesystem::is_directory(status)) {
    throw InputError("--out", "cannot write '" + out.string() + "': not a directory");
  }
  for (const auto& entry : std::filesystem::directory_iterator(out, ec)) {
    if (IsPlanDirectory(entry)) continue;
    throw InputError("--out", "cannot write into '" + out.string() + "': it holds " +
                                  entry.path().filename().string() +
                                  ", which the planner did not write; use a new or empty directory");
  }
  if (ec) throw InputError("--out", "cannot read '" + out.string() + "': " + ec.message());
}

}  // namespace

void WritePlanFiles(const std::string& out_dir, const Specs& s,
                    const std::vector<Evaluation>& plans, EmitSet set) {
  std::filesystem::path out = std::filesystem::path(out_dir).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  CheckEmitTarget(out);
  std::error_code error;
  if (!out.parent_path().empty()) std::filesystem::create_directories(out.parent_path(), error);
  if (error) throw InputError("--out", "cannot write " + out.string() + ": " + error.message());
  // The whole set is built beside DIR and swapped in: a full disk leaves the old set whole.
  const std::filesystem::path staged = StagingDirectory(out, "--out");
  try {
    for (size_t i = 0; i < plans.size(); ++i) {
      const std::filesystem::path dir = staged / ("plan-" + std::to_string(i + 1));
      std::filesystem::create_directory(dir, error);
      if (error) throw InputError("--out", "cannot write " + dir.string() + ": " + error.message());
      const Snippets n = Emit(s, plans[i]);
      if (set.megatron) {
        WriteWhole(dir, "megatron.args", n.megatron_args);
        WriteWhole(dir, "megatron.sh", n.megatron_sh);
      }
      if (set.deepspeed) {
        WriteWhole(dir, "ds_config.json", n.ds_config_json);
        WriteWhole(dir, "deepspeed.sh", n.deepspeed_sh);
      }
      if (set.launch) WriteWhole(dir, "launch.sh", n.launch_sh);
      if (set.bridge) {
        WriteWhole(dir, "bridge.overrides", n.bridge_overrides);
        WriteWhole(dir, "bridge.sh", n.bridge_sh);
      }
      WriteWhole(dir, "plan.json", n.plan_json);
      SyncDirectory(dir);
    }
  } catch (...) {
    std::filesystem::remove_all(staged, error);
    throw;
  }
  SwapInDirectory(staged, out, "--out");
}

}  // namespace planner
