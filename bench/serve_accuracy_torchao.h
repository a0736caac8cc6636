// torchao's quantized Llama runs (pytorch/ao torchao/quantization/README.md): weight memory,
// peak memory and batch-1 decode tokens/s, each predicted through `planner serve`.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace bench {

/// Whether `run` is one of torchao's generate.py runs (its "source" names pytorch/ao).
bool IsTorchaoRun(const nlohmann::json& run);

/// Predicts each run, prints it (command, predicted and measured figures) and the summaries.
void ReportTorchao(const std::vector<nlohmann::json>& runs);

}  // namespace bench
