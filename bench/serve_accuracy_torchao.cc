// torchao's table (pytorch/ao torchao/quantization/README.md @ 03d01adc) was printed by
// torchao/_models/llama/generate.py at the same commit, run by benchmarks.sh lines 9-12 and
// 27-30 (`--compile [--quantization Q]`, every other argument at its default). What the script
// does, read there, and the flag each fact becomes (facts of the script, the same for every row):
//   - prompt: "Hello, my name is" (generate.py:436) encoded with BOS (generate.py:198): 6 tokens
//     with Llama 2's SentencePiece and Llama 3's tiktoken alike -> --input-tokens 6.
//   - --max_new_tokens defaults to 200 (generate.py:439) -> --output-tokens 200.
//   - batch 1 (setup_caches(max_batch_size=1), generate.py:120) -> --concurrency 1.
//   - the KV cache holds find_multiple(6 + 200, 8) = 208 tokens in bf16, the dtype of the
//     output layer or its scales (model.py:160-168, 185);
//     the planner's 16-token pages hold the same 208.
//   - quantize_ converts every nn.Linear (quant_api.py:206 _is_linear), the output layer
//     included; nn.Embedding stays bf16 -> --quantize-output.
//   - int8wo: int8 per output channel, bf16 scale, int64 zero (quant_api.py:462) -> int8-wo;
//     int4wo-G: 4 bits, bf16 scale and bf16 zero per group of G (quant_api.py:422-457) ->
//     int4-wo --weight-group G; int8dq: int8 weights and per-token int8 activations
//     (quant_api.py:485) -> int8 (W8A8). The GPTQ rows run int4wo-64 -> int4-wo.
//   - "Model Size" is get_model_size_in_bytes(model, ignore_embeddings=True) / 1e9
//     (generate.py:295, utils.py:209): every parameter and buffer but the embedding, counted
//     before the KV cache exists. Compared with the planner's weights minus its embedding.
//   - "Peak Memory" is torch.cuda.max_memory_reserved() / 1e9 (generate.py:400), reset after
//     the compile warm-up (generate.py:319): PyTorch's allocator only, no CUDA context. Compared
//     with the planner's weights plus one sequence's KV cache (its vLLM-style activation
//     workspace and overhead do not exist in this script).
//   - tokens/s = generated tokens / wall time of generate(), prefill included (generate.py:
//     379-380) -> the planner's tokens_per_s_per_replica at batch 1.
//   - the GPU: "a single A100 GPU" (README line 5), memory size not stated: a100-80gb assumed.
#include "serve_accuracy_torchao.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "planner/cli/cli.h"
#include "serve_accuracy_models.h"

namespace bench {
namespace {

using nlohmann::json;

// The planner's flags for torchao's technique names (generate.py -q values).
std::vector<std::string> WeightFlags(const std::string& technique) {
  const size_t dash = technique.find('-');  // "int4wo-64", "int4wo-64-GPTQ"
  const size_t end = technique.find('-', dash + 1);
  const std::string group =
      dash == std::string::npos ? "" : technique.substr(dash + 1, end - dash - 1);
  if (technique == "int8dq") return {"--weights", "int8", "--quantize-output"};
  if (technique == "int8wo") return {"--weights", "int8-wo", "--quantize-output"};
  if (technique.rfind("int4wo-", 0) == 0) {
    // GPTQ changes the values, not the kernel: Int4WeightOnlyGPTQQuantizer packs its result
    // for tinygemm and swaps in WeightOnlyInt4Linear (GPTQ.py:750-816 at 03d01adc, calling
    // _weight_int4pack_mm at :539), the int4wo kernel. int4-gptq names the engines' GPTQ
    // checkpoints, which vLLM runs with Marlin.
    return {"--weights", "int4-wo", "--weight-group", group, "--quantize-output"};
  }
  return {};  // Base (bfloat16)
}

struct Figures {
  std::string id, technique, command, speed_skipped;
  bool quantized = false;
  double model_gb[2] = {0, 0};  // predicted, measured
  double peak_gb[2] = {0, 0};
  double tokens_per_s[2] = {0, 0};
};

Figures Predict(const json& r) {
  const json& c = r["config"];
  Figures f{.id = r["id"], .technique = c["technique"]};
  std::vector<std::string> argv = {"serve", "--model", ModelFor(r["model"]), "--gpu",
                                   "a100-80gb", "--gpus", "1", "--tp", "1", "--pp", "1",
                                   "--concurrency", "1", "--input-tokens", "6",
                                   "--output-tokens", "200", "--format", "json"};
  const std::vector<std::string> weights = WeightFlags(f.technique);
  f.quantized = !weights.empty();
  argv.insert(argv.end(), weights.begin(), weights.end());
  for (const std::string& a : argv) f.command += (f.command.empty() ? "planner " : " ") + a;
  std::ostringstream out, err;
  planner::RunCli(argv, out, err);
  const json plan = json::parse(out.str()).at("plans").at(0);
  const json& mem = plan["memory_bytes_per_gpu"];
  const double weights_bytes = mem["weights"].get<double>();
  f.model_gb[0] = (weights_bytes - mem["embedding"].get<double>()) / 1e9;
  f.peak_gb[0] = (weights_bytes + mem["kv_per_sequence"].get<double>()) / 1e9;
  f.tokens_per_s[0] = plan["tokens_per_s_per_replica"];
  const json& m = r["measured"];
  f.model_gb[1] = m["model_size_gb"];
  f.peak_gb[1] = m["peak_mem_gb"];
  f.tokens_per_s[1] = m["tokens_per_s"];
  if (f.technique == "int8dq") {
    f.speed_skipped =
        "speed: torchao's int8dq runs per-token activation quantization and an int8 matmul "
        "per layer at batch 1 (64 GB/s in its table); the planner has no mechanism for it";
  }
  return f;
}

double Error(const double (&v)[2]) { return v[0] / v[1] - 1.0; }

struct Summary {
  const char* name;
  double sum = 0, worst = 0;
  int count = 0;
  void Add(double error) {
    sum += std::fabs(error);
    worst = std::max(worst, std::fabs(error));
    ++count;
  }
  void Print() const {
    std::printf("  %-30s %2d runs  %5.1f%%  (%5.1f%%)\n", name, count,
                count ? 100 * sum / count : 0.0, 100 * worst);
  }
};

}  // namespace

bool IsTorchaoRun(const json& run) {
  return run.value("source", "").find("pytorch/ao") != std::string::npos;
}

void ReportTorchao(const std::vector<json>& runs) {
  std::printf("\ntorchao generate.py, batch 1 (GB = 1e9 bytes; predicted / measured):\n");
  std::printf("%-8s %-15s %13s %13s %13s\n", "run", "technique", "model GB", "peak GB",
              "tok/s");
  Summary s[5] = {{"quantized weight memory"}, {"bf16 weight memory"},
                  {"quantized peak memory"}, {"bf16 peak memory"}, {"decode tok/s"}};
  for (const json& r : runs) {
    const Figures f = Predict(r);
    std::printf("%-8s %-15s %5.2f / %5.2f %5.2f / %5.2f %5.0f / %5.0f\n", f.id.c_str(),
                f.technique.c_str(), f.model_gb[0], f.model_gb[1], f.peak_gb[0], f.peak_gb[1],
                f.tokens_per_s[0], f.tokens_per_s[1]);
    std::printf("         %s\n", f.command.c_str());
    s[f.quantized ? 0 : 1].Add(Error(f.model_gb));
    s[f.quantized ? 2 : 3].Add(Error(f.peak_gb));
    if (f.speed_skipped.empty()) {
      s[4].Add(Error(f.tokens_per_s));
    } else {
      std::printf("         skipped: %s\n", f.speed_skipped.c_str());
    }
  }
  std::printf("\ntorchao mean |error| (max):\n");
  for (const Summary& summary : s) summary.Print();
}

}  // namespace bench
