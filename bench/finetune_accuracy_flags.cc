// The translation of a published fine-tuning run into `planner finetune` flags: every flag is
// derived from a fact the row states (its model, GPUs, method, config fields), never from its id.
#include "finetune_accuracy_flags.h"

namespace finetune_accuracy {

using nlohmann::json;

namespace {

// The model each source names, as the planner knows it (a catalog name or a model file).
const std::vector<std::pair<std::string, std::string>> kModels = {
    {"Llama 3.2 3B", PLANNER_SOURCE_DIR "/bench/models/llama3.2-3b.json"},
    {"Llama2-7B", "llama2-7b"},
    {"Llama2-70B", "llama2-70b"},
    {"bloomz-7b1", PLANNER_SOURCE_DIR "/bench/models/bloomz-7b1.json"},
    {"Llama2-13B", "llama2-13b"},
    {"Qwen-7B", PLANNER_SOURCE_DIR "/bench/models/qwen-7b.json"},
    // Llama 3.1 keeps Llama 3's shapes (layers, widths, GQA, 128256 vocabulary); only RoPE
    // scaling and the context length differ (Meta's config.json of both).
    {"Llama 3.1 8B", "llama3-8b"},
    {"Llama 3.1 70B", "llama3-70b"},
    {"Llama 3 70B", "llama3-70b"},
    {"Llama 3.1 405B", "llama3.1-405b"},
};

}  // namespace

bool Has(const std::string& text, const char* word) { return text.find(word) != std::string::npos; }

std::string Text(const json& c, const char* key) {
  if (!c.contains(key)) return "";
  return c[key].is_string() ? c[key].get<std::string>() : c[key].dump();
}

std::string ModelFor(const std::string& name) {
  for (const auto& [known, model] : kModels) {
    if (Has(name, known.c_str())) return model;
  }
  return "";
}

// torchtune's rows name an A100 without its memory; the 60 GiB a run of that table measured
// does not fit a 40 GB card, so the table's A100 is the 80 GB one (in its Llama 3.1 table the
// 405B row's 44.8 GiB does not either). LitGPT's resource table names the 40 GB part.
std::string GpuFor(const std::string& text) {
  if (Has(text, "A100-SXM4-40GB")) return "a100-40gb";
  if (Has(text, "A100-SXM4-80G")) return "a100-80gb";
  if (Has(text, "A100")) return "a100-80gb";
  if (Has(text, "A6000")) return "rtx-a6000";
  // Eight H100 80GB in one server (PEFT's docs, DGX-H100) are the SXM part.
  if (Has(text, "H100")) return "h100-sxm";
  if (Has(text, "4090")) return "rtx-4090";
  return "";
}

namespace {

// The adapters torchtune's tables ran with: their README names only the recipe, so each row
// takes the rank and targets of the recipe config its model, method and device count select at
// the README's commit (recipes/configs/... at that commit, read from the repository).
struct Recipe {
  const char* commit;  // the source's commit, as the row's "source" names it
  const char* model;
  const char* method;
  bool distributed;
  const char* config;
  const char* rank;
  const char* targets;
};
const Recipe kRecipes[] = {
    {"0217d44c", "Llama2-7B", "qlora", false, "llama2/7B_qlora_single_device.yaml", "8",
     "q+k+v+o+mlp"},
    {"0217d44c", "Llama2-7B", "lora", false, "llama2/7B_lora_single_device.yaml", "8", "q+v"},
    {"0217d44c", "Llama2-7B", "lora", true, "llama2/7B_lora.yaml", "8", "q+v"},
    {"0217d44c", "Llama2-70B", "lora", true, "llama2/70B_lora.yaml", "16", "q+k+v"},
    {"bd2a0fc7", "Llama 3.2 3B", "lora", false, "llama3_2/3B_lora_single_device.yaml", "64",
     "q+v+o+mlp"},
    {"bd2a0fc7", "Llama 3.2 3B", "qlora", false, "llama3_2/3B_qlora_single_device.yaml", "64",
     "q+v+o+mlp"},
};

}  // namespace

// Bytes per printed unit: the row's "peak_mem_unit" where it states one (GB: 1e9, GiB: 2^30).
// Otherwise of a table's peak memory, by the commit its source names: torchtune's
// get_memory_stats divided by 1e9 at 0217d44c (torchtune/utils/memory.py:198-200), so that
// table's "Peak Memory per GPU (GB)" is decimal GB, not GiB as the row's unit_notes guess; later
// releases divide by 1024**3 (_BYTES_IN_GIB, torchtune/training/memory.py at bd2a0fc7) and
// print GiB. Rows of other sources state GiB in the key's name.
double BytesPerMemoryUnit(const json& r) {
  const std::string unit = r["measured"].value("peak_mem_unit", "");
  if (unit == "GB") return 1e9;
  if (unit == "GiB") return 1073741824.0;
  const std::string source = r.value("source", "");
  if (Has(source, "pytorch/torchtune") && Has(source, "0217d44c")) return 1e9;
  return 1073741824.0;
}

double MeasuredMemory(const json& m) {
  for (const char* key : {"peak_mem_active_gib", "peak_mem_gb_per_gpu", "peak_mem_gib_per_gpu"}) {
    if (m.contains(key)) return m[key].get<double>();
  }
  return 0;
}

// An unpacked run's peak holds micro-batch x its longest example only where the loop pads each
// batch to its longest example and the run states that length and that the longest example
// is in a batch (LitGPT's get_batch forces it into the first one).
std::string Unreplayable(const json& r, const json& c) {
  const std::string model = r.value("model", "");
  if (Has(model, "T0_3B") || Has(model, "mt0")) return "encoder-decoder (T5) model: not modelled";
  if (ModelFor(model).empty()) return "model not in the planner";
  if (GpuFor(Text(c, "gpus")).empty()) return "GPU not stated";
  if (c.value("pp", 1) > 1) return "pipeline parallelism (Megatron PP): not in the finetune space";
  if (Has(Text(c, "compute_dtype"), "FP8")) return "FP8 compute: not modelled for fine-tuning";
  if (c.contains("packed") && c["packed"] == false &&
      !c.value("first_batch_padded_to_longest", false)) {
    return "unpacked: sequence lengths are the dataset's, not stated";
  }
  // bitsandbytes' paged optimizers keep their states in CUDA unified memory, outside PyTorch's
  // allocator (so outside its peak) and paged to the host when the GPU fills.
  if (Has(Text(c, "optimizer"), "PagedAdamW")) {
    return Has(Text(c, "optimizer"), "8bit")
               ? "paged 8-bit AdamW: bitsandbytes pages states out on demand, filling what is free"
               : "32-bit paged AdamW: bitsandbytes pages states out on demand, filling what is "
                 "free";
  }
  return "";
}

namespace {

void AddFlag(std::vector<std::string>& argv, const char* flag, const std::string& value) {
  argv.push_back(flag);
  if (!value.empty()) argv.push_back(value);
}

const Recipe* RecipeFor(const json& r, const json& c) {
  for (const Recipe& k : kRecipes) {
    if (Has(r.value("source", ""), k.commit) && r.value("model", "") == k.model &&
        r.value("method", "") == k.method && (c.value("num_gpus", 1) > 1) == k.distributed) {
      return &k;
    }
  }
  return nullptr;
}

// The adapter as the run states it: its recipe's config, or a "rank N" and "lora_targets"
// (the planner's words: q+v, all, ...) in its config.
void AddAdapterFlags(const json& r, const json& c, std::vector<std::string>& argv) {
  if (const Recipe* k = RecipeFor(r, c)) {
    AddFlag(argv, "--lora-rank", k->rank);
    AddFlag(argv, "--lora-targets", k->targets);
    return;
  }
  if (c.contains("lora_targets")) AddFlag(argv, "--lora-targets", Text(c, "lora_targets"));
  const std::string rank = Text(c, "lora_rank");
  const size_t at = rank.find("rank ");
  if (at == std::string::npos) return;
  AddFlag(argv, "--lora-rank", rank.substr(at + 5, rank.find_first_of(",;) ", at + 5) - at - 5));
}

}  // namespace

// The run's method, framework, parallelism and numerics as flags.
void AddMethodFlags(const json& r, const json& c, std::vector<std::string>& argv) {
  const std::string fw = Text(c, "framework");
  AddFlag(argv, "--framework", Has(fw, "torchtune") ? "torchtune" : "hf");
  // Lightning's bf16-true keeps weights, gradients and AdamW moments in bf16, no fp32 copy.
  if (Has(Text(c, "compute_dtype"), "bf16-true")) AddFlag(argv, "--master-weights", "none");
  AddFlag(argv, "--method", r.value("method", ""));
  AddAdapterFlags(r, c, argv);
  const std::string par = Text(c, "parallelism");
  if (Has(par, "FSDP")) {
    AddFlag(argv, "--sharding", "fsdp");
    AddFlag(argv, "--offload", Has(par, "CPU offload") ? "all" : "none");
  } else if (Has(par, "ZeRO-3")) {
    AddFlag(argv, "--sharding", "zero-3");
    AddFlag(argv, "--offload", Has(par, "CPU offload") ? "all" : "none");
  } else {
    AddFlag(argv, "--sharding", "none");
    AddFlag(argv, "--offload", "none");
  }
  const std::string ac = Text(c, "activation_checkpointing");
  AddFlag(argv, "--checkpointing", Has(ac, "true") || Has(ac, "True") ? "full" : "none");
  if (c.value("compile", false) || c.value("torch_compile", false)) AddFlag(argv, "--compile", "");
  if (c.value("chunked_ce", false)) AddFlag(argv, "--chunked-loss", "");
  // torchtune 0.1's recipes shift the logits with a contiguous fp32 copy that the loop's variable
  // holds through backward (recipes/*_distributed.py and *_single_device.py at 0217d44c).
  if (Has(fw, "v0.1")) AddFlag(argv, "--logits-copy", "");
  if (c.value("activation_offloading", false)) AddFlag(argv, "--offload-activations", "");
  if (c.value("optimizer_in_bwd", false)) AddFlag(argv, "--optimizer-in-backward", "");
  const std::string optimizer = Text(c, "optimizer");
  if (Has(optimizer, "Paged") && Has(optimizer, "8bit")) {
    AddFlag(argv, "--optimizer", "paged-adamw-8bit");
  } else if (Has(optimizer, "8bit")) {
    AddFlag(argv, "--optimizer", "adamw-8bit");
  }
}

// The batch: stated per GPU (torchtune's batch_size); unstated (PEFT's table), the verdict is
// judged at the least a run can use, one sequence of 128 tokens.
bool AddBatchFlags(const json& c, std::vector<std::string>& argv) {
  const int gpus = c.value("num_gpus", 1);
  AddFlag(argv, "--gpus", std::to_string(gpus));
  if (!c["batch_size"].is_number() || !c["seq_len"].is_number()) {
    AddFlag(argv, "--global-batch", "1");
    AddFlag(argv, "--seq-len", "128");
    return false;
  }
  const int batch = c["batch_size"].get<int>();
  AddFlag(argv, "--micro-batch", std::to_string(batch));
  AddFlag(argv, "--global-batch", std::to_string(batch * gpus));
  AddFlag(argv, "--seq-len", std::to_string(c["seq_len"].get<int>()));
  return true;
}

}  // namespace finetune_accuracy
