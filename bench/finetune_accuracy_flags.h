// The translation of a published fine-tuning run (one JSONL row of
// ../shared/validation/finetune-serving-runs.jsonl or bench/validation/finetune-heldout-runs.jsonl)
// into the `planner finetune` flags its stated facts fix. Used by bench/finetune_accuracy.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace finetune_accuracy {

/// Whether `word` occurs in `text`.
bool Has(const std::string& text, const char* word);

/// The row's config value under `key` as text ("" when absent; numbers and booleans dumped).
std::string Text(const nlohmann::json& c, const char* key);

/// The catalog name or model file of the model a source names, or "".
std::string ModelFor(const std::string& name);

/// The catalog GPU a row's "gpus" text names, or "".
std::string GpuFor(const std::string& text);

/// Bytes per unit of the row's measured peak memory (1e9 for GB, 2^30 for GiB).
double BytesPerMemoryUnit(const nlohmann::json& r);

/// The row's measured peak memory per GPU in its printed unit, or 0 when it states none.
double MeasuredMemory(const nlohmann::json& m);

/// What the run states that the planner cannot replay, or "".
std::string Unreplayable(const nlohmann::json& r, const nlohmann::json& c);

/// The run's method, framework, adapter, parallelism and numerics as flags.
void AddMethodFlags(const nlohmann::json& r, const nlohmann::json& c,
                    std::vector<std::string>& argv);

/// The run's GPUs, batch and sequence length as flags; false when the batch is unstated
/// (then only the fit verdict is judged).
bool AddBatchFlags(const nlohmann::json& c, std::vector<std::string>& argv);

}  // namespace finetune_accuracy
