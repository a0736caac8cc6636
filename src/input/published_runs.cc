#include "planner/input/published_runs.h"

#include <cctype>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <utility>

#include "planner/input/json_text.h"
#include "planner/model/files.h"
#include "planner/model/text.h"
#include "planner/model/units.h"

// Each published run becomes a run file (planner/input/run_file.h) made from the JSONL's fields
// only: its shape, plan and machine columns, and what its `source` says about the software
// (which framework, which year). Nothing here reads a run's id.
namespace planner {
namespace {

using nlohmann::json;

bool Has(const std::string& text, const char* word) {
  return Lower(text).find(word) != std::string::npos;
}

std::string Text(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// A size that may be a number, null, or a string starting with one ("8192 assumed ...").
int64_t Int(const json& j, const char* key, int64_t fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_number()) return j[key].get<int64_t>();
  const std::string s = j[key].get<std::string>();
  size_t i = 0;
  while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  return i < s.size() ? std::stoll(s.substr(i)) : fallback;
}

// The first year the source names ("Narayanan et al. 2021 ...", "README Sept-2020"), else the
// year of an arXiv identifier it cites ("arXiv 2211.05100": YYMM, so 2022): the era of the
// software that produced the run.
int SourceYear(const std::string& source) {
  static const std::regex year("(^|[^0-9])(20[0-9]{2})([^0-9]|$)");
  static const std::regex arxiv("arXiv:? ?([0-9]{2})(0[1-9]|1[0-2])\\.[0-9]{4,5}",
                                std::regex::icase);
  std::smatch m;
  if (std::regex_search(source, m, year)) return std::stoi(m[2].str());
  return std::regex_search(source, m, arxiv) ? 2000 + std::stoi(m[1].str()) : 0;
}

// The software a run's source names.
struct Software {
  std::string framework = "megatron";
  // Megatron-LM before 2023 (Shoeybi et al. 2019, Narayanan et al. 2021, Korthikanti et al.
  // 2022): GPT models with dropout and biases, unfused attention (FlashAttention entered
  // Megatron-LM in 2023), no sequence parallelism or distributed optimizer unless stated.
  bool megatron_before_2023 = false;
  // Any framework before 2023: attention unfused (FlashAttention reached Megatron-LM,
  // Megatron-DeepSpeed and PyTorch in 2023), so the s^2 scores are stored and moved.
  bool before_2023 = false;
  // Megatron-LM of 2020: --checkpoint-activations in every example script, and its "local" DDP
  // (the default then) reduced gradients after the backward pass.
  bool megatron_2020 = false;
  bool megatron_bridge = false;
  bool fsdp1 = false;  ///< LLM Foundry (Composer's FSDP) or metaseq: PyTorch FSDP1
  int year = 0;  ///< the first year the source names; 0: none
};

Software RunSoftware(const json& r) {
  const std::string source = Text(r, "source");
  Software s;
  const std::string sharding = Text(r, "zero_or_dist_opt");
  if (Has(source, "torchtitan") || Has(sharding, "torchtitan")) s.framework = "torchtitan";
  if (Has(source, "nemo")) s.framework = "nemo";
  if (Has(sharding, "deepspeed")) s.framework = "deepspeed";
  // LLM Foundry (Composer) and metaseq train with PyTorch FSDP1, uncompiled (RunSetup).
  s.fsdp1 = Has(sharding, "composer") || Has(sharding, "metaseq");
  if (s.fsdp1) s.framework = "fsdp";
  s.megatron_bridge = Has(source, "megatron-bridge");
  const int year = SourceYear(source);
  s.year = year;
  s.before_2023 = year > 0 && year < 2023;
  s.megatron_before_2023 = s.framework == "megatron" && s.before_2023;
  s.megatron_2020 = s.megatron_before_2023 && year <= 2020;
  return s;
}

// The MLP the row names: Llama's SwiGLU, or a gated MLP its notes state ("GeGLU FFN (three
// matrices ...)" for GLM-130B, Zeng et al. 2022 Table 11); else GPT's two-matrix GELU.
const char* RunMlp(const json& r, bool llama) {
  const std::string notes = Text(r, "notes");
  if (Has(notes, "geglu")) return "geglu";
  if (llama || Has(notes, "swiglu")) return "swiglu";
  return "gelu";
}

json RunModel(const json& r, const Software& sw) {
  const std::string name = Text(r, "model");
  const bool llama = Has(name, "llama");
  const bool gpt = !llama && !Has(name, "nemotron");  // Nemotron: squared ReLU, two matrices
  return json{{"name", name.empty() ? "model" : name},
              {"layers", Int(r, "layers", 0)},
              {"hidden", Int(r, "hidden", 0)},
              {"heads", Int(r, "heads", 0)},
              {"kv_heads", Int(r, "kv_heads", Int(r, "heads", 0))},
              {"ffn_hidden", r["ffn_hidden"].is_number() ? r["ffn_hidden"].get<int64_t>() : 0},
              // NeMo's GPT-3 rows leave the vocabulary out: GPT-2 BPE padded to 51200.
              {"vocab", Int(r, "vocab", 51200)},
              {"seq_len", Int(r, "seq_len", 2048)},
              {"mlp", RunMlp(r, llama)},
              {"rms_norm", llama},
              {"tied_embeddings", gpt},
              {"learned_positions", gpt},
              {"linear_bias", sw.megatron_before_2023},
              {"dropout", sw.megatron_before_2023}};
}

// Why the planner cannot express the run yet, or "" when it can.
std::string SkipReason(const json& r) {
  if (Int(r, "layers", 0) == 0 || Int(r, "hidden", 0) == 0 || !r["ffn_hidden"].is_number()) {
    return "model shape not published";
  }
  if (Int(r, "ep", 1) > 1) return "mixture-of-experts shape given as text";
  // A layout or batch the source leaves open ("not stated", "~2048") is not a run to replay.
  for (const char* key : {"global_batch_seqs", "micro_batch", "tp", "pp", "dp"}) {
    if (r.contains(key) && r[key].is_string()) {
      const std::string text = r[key].get<std::string>();
      if (Has(text, "not stated") || Has(text, "~")) return std::string(key) + " not published";
    }
  }
  return "";
}

// The catalog GPU the run's `gpu_type` names ("DGX-GB200", "MI300X 192GB"), or "" when none.
// GB200 is tested before B200, whose name it contains.
std::string CatalogGpu(const std::string& gpu_type) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"v100", "v100-32gb"}, {"a100", "a100-80gb"},  {"h100", "h100-sxm"},
      {"h200", "h200"},      {"gb200", "gb200"},     {"b200", "b200"},
      {"mi300x", "mi300x"},  {"mi325x", "mi325x"},   {"l40s", "l40s"},
      {"4090", "rtx-4090"},  {"a6000", "rtx-a6000"}};
  for (const auto& [word, name] : kNames) {
    if (Has(gpu_type, word)) {
      // Memory size unstated for the 2020 DGX A100 table, whose machines had 40 GB.
      if (std::string(name) == "a100-80gb" && Has(gpu_type, "not stated")) return "a100-40gb";
      if (std::string(name) == "a100-80gb" && Has(gpu_type, "40gb")) return "a100-40gb";
      return name;
    }
  }
  return "";
}

// The GPU, its nodes (8 GPUs, or a GB200 compute tray of 4) and the links the run's text names.
void RunCluster(const json& r, json& run) {
  const std::string gpu_type = Text(r, "gpu_type");
  const std::string inter = Text(r, "inter_node");
  const std::string gpu = CatalogGpu(gpu_type);
  run["gpu"] = gpu.empty() ? gpu_type : gpu;  // an unknown name fails in the run file's check
  // The 96 GB HBM2e H100 (about 2.4 TB/s, as measured for the same part in arXiv 2604.11391).
  if (Has(gpu_type, "h100") && Has(gpu_type, "96gb")) {
    run["gpu_hbm_GB"] = 96;
    run["gpu_hbm_TB_per_s"] = 2.4;
  }
  // A power cap below the H100 SXM's 700 W: clocks fall about with the square root of the cap
  // (an estimate; a 600 W cap is reported to cost 10-15 % of step time).
  static const std::regex watts("([0-9]{3})\\s*W");
  std::smatch m;
  if (Has(gpu_type, "h100") && std::regex_search(gpu_type, m, watts)) {
    run["gpu_peak_scale"] = std::round(100 * std::sqrt(std::stod(m[1].str()) / 700.0)) / 100;
  }
  // Eight GPUs a node (DGX/HGX), four a GB200 compute tray (its NVL72 rack joins 72 over
  // NVLink, the catalog's scale-up domain); a run on fewer GPUs used part of one node.
  const int64_t gpus = Int(r, "num_gpus", 1);
  const int64_t per_node = std::min<int64_t>(gpu == "gb200" ? 4 : 8, gpus);
  run["gpus"] = gpus;
  run["gpus_per_node"] = per_node;
  if (Has(inter, "400")) run["inter_link"] = "ib-ndr";
  if (Has(inter, "hdr")) run["inter_link"] = "ib-hdr";
  // Omni-Path runs at 100 Gb/s a link, as 100 Gb/s RoCE does in the catalog.
  if (Has(inter, "omni-path") || Has(inter, "(opa)")) run["inter_link"] = "roce-100";
  run["nics_per_node"] = per_node;
  static const std::regex links("([0-9]+) links per node");
  std::smatch n;
  if (std::regex_search(inter, n, links)) run["nics_per_node"] = std::stoi(n[1].str());
}

// The optimizer sharding the run's text names: Megatron's distributed optimizer and ZeRO-1
// (or BLOOM's "ZeRO-1 equivalent" bf16 optimizer) shard the optimizer states; ZeRO-2 and FSDP's
// SHARD_GRAD_OP also the gradients; ZeRO-3, FSDP FULL_SHARD and FSDP2 the parameters too.
int ZeroStage(const std::string& text, const Software& sw) {
  if (Has(text, "zero-3") || Has(text, "zero stage 3") || Has(text, "full_shard")) return 3;
  if (Has(text, "zero-2") || Has(text, "zero stage 2") || Has(text, "shard_grad_op")) return 2;
  if (Has(text, "zero-1") || Has(text, "zero stage 1") || Has(text, "distributed")) return 1;
  if (Has(text, "fsdp")) return 3;
  if (Has(text, "not stated") && !sw.megatron_before_2023) return 1;
  return 0;
}

// The parallel layout, batch split, recomputation and ZeRO stage the run published.
json RunPlan(const json& r, const Software& sw) {
  const std::string recompute = Text(r, "recompute");
  const std::string zero = Text(r, "zero_or_dist_opt");
  const std::string sp = Text(r, "sequence_parallel");
  const int64_t tp = Int(r, "tp", 1), pp = Int(r, "pp", 1), cp = Int(r, "cp", 1);
  const int64_t vp = Int(r, "vp", 1);
  json p = {{"tp", tp}, {"pp", pp}, {"cp", cp}, {"ep", Int(r, "ep", 1)},
            {"dp", Int(r, "dp", Int(r, "num_gpus", 1) / (tp * pp * cp))},
            {"virtual_stages", vp}, {"micro_batch", Int(r, "micro_batch", 1)}};
  // Megatron-Bridge splits Llama 3.1 405B's 126 layers over pp x vp = 64 chunks by letting the
  // embedding and the loss each take a layer's slot (--account-for-*-in-pipeline-split).
  const int64_t layers = Int(r, "layers", 0);
  if (layers % (pp * vp) != 0 && (layers + 2) % (pp * vp) == 0) {
    p["first_stage_layers"] = p["last_stage_layers"] = (layers + 2) / pp - 1;
  }
  p["sequence_parallel"] =
      tp > 1 && (Has(sp, "true") || (Has(sp, "not stated") && !sw.megatron_before_2023));
  std::string how = "none";
  if (Has(recompute, "full")) how = "full";
  // "full/block/N layers": Megatron's block method, the first N layers of each stage. The
  // row of Megatron-Bridge's 25.11 Llama 3 8B H100 FP8 run calls it "unverified for the 25.11
  // run"; the release's own tag confirms it: Megatron-Bridge v0.2.0 (NeMo 25.11)
  // scripts/performance/configs/llama3/workload_base_configs.py LLAMA3_8B_H100_FP8_CS_BASE_CONFIG
  // sets recompute_num_layers=5, which scripts/performance/utils/helpers.py:174-177 turns into
  // recompute_granularity "full", recompute_method "block".
  static const std::regex block("full/block/([0-9]+) layers", std::regex::icase);
  std::smatch layers_match;
  if (std::regex_search(recompute, layers_match, block)) {
    p["recompute_layers"] = std::stoi(layers_match[1].str());
  }
  if (Has(recompute, "selective")) how = "selective";
  // "offloads 40 layers' activations to CPU memory": Megatron-core's cpu_offloading_num_layers
  // (Megatron-Bridge's GB200 FSDP recipes).
  static const std::regex offloads("offloads ([0-9]+) layers' activations", std::regex::icase);
  std::smatch offload_match;
  if (std::regex_search(recompute, offload_match, offloads)) {
    p["offload_activation_layers"] = std::stoi(offload_match[1].str());
  }
  if (Has(recompute, "not stated") || recompute.empty()) {
    if (sw.megatron_2020) how = "full";
  }
  p["recompute"] = how;
  p["zero"] = ZeroStage(zero, sw);
  return p;
}

// DeepSpeed settings the sharding text states: "offload_optimizer cpu" / "optimizer offload
// cpu", and a non-default stage3_max_live_parameters ("stage3_max_live_parameters 3e9").
void RunOffload(const std::string& zero, json& run) {
  static const std::regex offload("(offload[_ ]optimizer|optimizer offload)[ :=]*cpu",
                                  std::regex::icase);
  if (std::regex_search(zero, offload)) run["offload"] = "optimizer";
  static const std::regex live("stage3_max_live_parameters[ :=]*([0-9.]+(e[0-9]+)?)",
                               std::regex::icase);
  std::smatch m;
  if (std::regex_search(zero, m, live)) run["zero3_max_live_params"] = std::stod(m[1].str());
}

// The numerics and the framework's habits the run's text states.
void RunSetup(const json& r, const Software& sw, json& run) {
  const std::string precision = Text(r, "precision");
  const std::string zero = Text(r, "zero_or_dist_opt");
  run["framework"] = sw.framework;
  // torchao names its 8-bit matmuls "Float8" ("BF16 + Float8 linears"): fp8 GEMMs as
  // Transformer Engine's, attention and element-wise work in bf16.
  const bool fp8 = Has(precision, "fp8") || Has(precision, "float8");
  run["precision"] = fp8                                                   ? "fp8"
                     : (Has(precision, "fp16") && !Has(precision, "bf16")) ? "fp16"
                                                                           : "bf16";
  // Megatron-LM reduced fp16 gradients in fp16 unless --accumulate-allreduce-grads-in-fp32 (off
  // by default); bf16 forces fp32 main gradients. Megatron-Bridge recipes set
  // grad_reduce_in_fp32; NeMo 24.07's distributed fused Adam (the nemo default) syncs in bf16.
  if (run["precision"] == "fp16") run["grad_precision"] = "16bit";
  if (sw.megatron_bridge) run["grad_precision"] = "fp32";
  if (sw.before_2023) run["attention"] = "standard";
  if (Has(zero, "ddp-impl local") || sw.megatron_2020) run["overlap_grad_reduce"] = false;
  // torchtitan runs compiled (torch.compile) or eager, as the notes say; its 2024 releases left
  // the loss uncompiled (train.py: "compiling loss function causes CUDA errors"), those of 2025
  // compile it (components/loss.py build_cross_entropy_loss). Composer runs uncompiled.
  if (sw.framework == "torchtitan") {
    run["eager"] = Has(Text(r, "notes"), "eager");
    if (sw.year > 0 && sw.year < 2025) run["eager_loss"] = true;
  }
  if (sw.fsdp1 && Has(zero, "composer")) run["eager"] = true;
  // "Recipe: CUDA graphs (full iteration)" (Megatron-Bridge's B200/GB200 Llama 3 8B recipes).
  if (Has(Text(r, "notes"), "cuda graphs")) run["cuda_graphs"] = true;
  run["seq_len"] = Int(r, "seq_len", 2048);
  run["global_batch"] = Int(r, "global_batch_seqs", 1);
  RunOffload(zero, run);
}

// The measured iteration time (else one derived from measured throughput) and peak memory.
json Measured(const json& r) {
  const json measured = r.value("measured", json::object());
  const json derived = r.value("derived", json::object());
  json out = json::object();
  if (measured.contains("iter_time_s")) {
    out["iter_time_s"] = measured["iter_time_s"];
  } else {
    for (const char* key : {"iter_time_s", "iter_time_s_from_eq3", "iter_time_s_from_eq",
                            "iter_time_s_from_mfu", "iter_time_s_if_seq8192"}) {
      if (derived.contains(key)) {
        out["iter_time_s"] = derived[key];
        out["iter_time_derived"] = true;
        break;
      }
    }
  }
  if (measured.contains("peak_memory_GiB")) out["peak_memory_GiB"] = measured["peak_memory_GiB"];
  return out;
}

PublishedRun ParseRun(const json& r) {
  PublishedRun run;
  run.id = Text(r, "id");
  run.trust = Text(r, "trust");
  run.source = Text(r, "source");
  run.skip_reason = SkipReason(r);
  const Software sw = RunSoftware(r);
  nlohmann::ordered_json file;
  file["description"] = Text(r, "model") + " as published";
  file["source"] = run.source;
  json rest;
  rest["model"] = RunModel(r, sw);
  RunCluster(r, rest);
  RunSetup(r, sw, rest);
  rest["plan"] = RunPlan(r, sw);
  rest["measured"] = Measured(r);
  for (auto it = rest.begin(); it != rest.end(); ++it) file[it.key()] = *it;
  run.run_file_json = file.dump(2) + "\n";
  return run;
}

}  // namespace

std::vector<PublishedRun> LoadPublishedRuns(const std::string& path) {
  std::istringstream in(ReadTextFile(path, path));
  std::vector<PublishedRun> runs;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    runs.push_back(ParseRun(ParseJsonText(line, path + ":" + std::to_string(n))));
  }
  return runs;
}

}  // namespace planner
