#include "planner/input/published_runs.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

#include "planner/input/json_text.h"
#include "planner/model/files.h"
#include "planner/model/text.h"
#include "planner/model/units.h"

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

// Megatron-LM of 2020-2022 (Shoeybi et al., Narayanan et al., Korthikanti et al.) trained GPT
// models with dropout, learned positions, tied embeddings and unfused attention.
bool MegatronEra(const std::string& id) {
  return id.rfind("narayanan21", 0) == 0 || id.rfind("korthikanti22", 0) == 0 ||
         id.rfind("megatron20", 0) == 0;
}

Model RunModel(const json& r, const std::string& id) {
  const std::string name = Text(r, "model");
  const bool llama = Has(name, "llama");
  Model m{.name = id,
          .layers = Int(r, "layers", 0),
          .hidden = Int(r, "hidden", 0),
          .heads = Int(r, "heads", 0),
          .kv_heads = Int(r, "kv_heads", Int(r, "heads", 0)),
          .ffn_hidden = r["ffn_hidden"].is_number() ? r["ffn_hidden"].get<int64_t>() : 0,
          .vocab = Int(r, "vocab", 51200),  // NeMo's GPT-3 rows leave it out: GPT-2 BPE padded
          .seq_len = Int(r, "seq_len", 2048)};
  m.mlp = llama ? MlpKind::kSwiglu : MlpKind::kGelu;  // Nemotron: squared ReLU, two matrices
  m.rms_norm = llama;
  m.tied_embeddings = !llama && !Has(name, "nemotron");
  m.learned_positions = !llama && !Has(name, "nemotron");
  m.linear_bias = MegatronEra(id);
  m.dropout = MegatronEra(id);
  return m;
}

// Why the planner cannot express the run yet, or "" when it can.
std::string SkipReason(const json& r, const Model& m) {
  if (m.layers == 0 || m.hidden == 0 || m.ffn_hidden == 0) return "model shape not published";
  if (Int(r, "ep", 1) > 1) return "mixture-of-experts shape given as text";
  return "";
}

// torchtitan's Grand Teton H100s: the 96 GB HBM2e part (about 2.4 TB/s, as measured for the same
// part in arXiv 2604.11391) capped at 500 W instead of 700 W. Clocks fall about with the square
// root of the power cap: (500/700)^0.5 = 0.85 of the peaks, an estimate (a 600 W cap is reported
// to cost 10-15 % of step time).
void CapTo500W96GB(Gpu& gpu) {
  gpu.name = "h100-96gb-500w";
  gpu.hbm_bytes = 96 * kGB;
  gpu.hbm_bytes_per_s = 2.4e12;
  for (double* peak : {&gpu.fp32_flops, &gpu.tf32_flops, &gpu.bf16_flops, &gpu.fp8_flops}) {
    *peak *= 0.85;
  }
}

// The GPUs, nodes of 8 and the links the run's text names.
Cluster RunCluster(const json& r, const Catalog& catalog, const std::string& where) {
  const std::string gpu_type = Text(r, "gpu_type");
  const std::string inter = Text(r, "inter_node");
  // The GPU: memory size unstated for the 2020 DGX A100 table, whose machines had 40 GB.
  std::string gpu = "a100-80gb";
  if (Has(gpu_type, "v100")) gpu = "v100-32gb";
  if (Has(gpu_type, "a100") && Has(gpu_type, "not stated")) gpu = "a100-40gb";
  if (Has(gpu_type, "h100")) gpu = "h100-sxm";
  Cluster c{.gpu = FindGpu(catalog, gpu, where)};
  if (Has(gpu_type, "96gb")) CapTo500W96GB(c.gpu);
  c.gpus = Int(r, "num_gpus", 1);
  c.gpus_per_node = 8;
  c.intra = FindLink(catalog, c.gpu.intra_link, where);
  c.inter = FindLink(catalog, Has(inter, "400") ? "ib-ndr" : c.gpu.inter_link, where);
  if (Has(inter, "hdr")) c.inter = FindLink(catalog, "ib-hdr", where);
  c.nics_per_node = 8;
  return c;
}

// The parallel layout, batch split, recomputation and ZeRO stage the run published.
Plan RunPlan(const json& r, const Model& m, int64_t gpus, const std::string& id) {
  const std::string recompute = Text(r, "recompute");
  const std::string zero = Text(r, "zero_or_dist_opt");
  const std::string sp = Text(r, "sequence_parallel");
  Plan p;
  p.tp = static_cast<int>(Int(r, "tp", 1));
  p.pp = static_cast<int>(Int(r, "pp", 1));
  p.cp = static_cast<int>(Int(r, "cp", 1));
  p.ep = static_cast<int>(Int(r, "ep", 1));
  p.dp = static_cast<int>(Int(r, "dp", gpus / (static_cast<int64_t>(p.tp) * p.pp * p.cp)));
  p.virtual_stages = static_cast<int>(Int(r, "vp", 1));
  p.micro_batch = static_cast<int>(Int(r, "micro_batch", 1));
  // Megatron-Bridge splits Llama 3.1 405B's 126 layers over pp x vp = 64 chunks by letting the
  // embedding and the loss each take a layer's slot (--account-for-*-in-pipeline-split).
  const int64_t chunks = static_cast<int64_t>(p.pp) * p.virtual_stages;
  if (m.layers % chunks != 0 && (m.layers + 2) % chunks == 0) {
    p.first_stage_layers = p.last_stage_layers = static_cast<int>((m.layers + 2) / p.pp - 1);
  }
  const int64_t global_batch = Int(r, "global_batch_seqs", 1);
  p.grad_accum = static_cast<int>(global_batch / (static_cast<int64_t>(p.micro_batch) * p.dp));
  p.sequence_parallel =
      p.tp > 1 && (Has(sp, "true") || (Has(sp, "not stated") && !MegatronEra(id)));
  // "full/block/5 layers" recomputes 5 of 32 layers, which no plan expresses: nearest is none.
  if (Has(recompute, "full") && !Has(recompute, "5 layers")) p.recompute = Recompute::kFull;
  if (Has(recompute, "selective")) p.recompute = Recompute::kSelective;
  // Megatron-LM's 2020 scaling runs checkpointed every layer (--checkpoint-activations in its
  // example scripts of the time).
  if (id.rfind("megatron20", 0) == 0) p.recompute = Recompute::kFull;
  if (Has(zero, "distributed") || (Has(zero, "not stated") && !MegatronEra(id))) p.zero_stage = 1;
  if (Has(zero, "fsdp")) p.zero_stage = 3;
  return p;
}

// Batch, precision and the framework's habits (gradient precision, kernels, overlap).
TrainingSetup RunSetup(const json& r, const Model& m, const std::string& id) {
  const std::string precision = Text(r, "precision");
  const std::string zero = Text(r, "zero_or_dist_opt");
  TrainingSetup s{.global_batch = Int(r, "global_batch_seqs", 1), .seq_len = m.seq_len};
  s.precision = Has(precision, "fp8")                                 ? Precision::kFp8
                : (Has(precision, "fp16") && !Has(precision, "bf16")) ? Precision::kFp16
                                                                      : Precision::kBf16;
  s.flash_attention = !MegatronEra(id);
  // Megatron-LM reduced fp16 gradients in fp16 unless --accumulate-allreduce-grads-in-fp32
  // (off by default); bf16 forces fp32 main gradients.
  s.fp32_grads = s.precision != Precision::kFp16;
  // NeMo 24.07's distributed fused Adam syncs gradients in bf16 (launcher configs:
  // grad_sync_dtype: bf16).
  if (id.rfind("nemo2407", 0) == 0) s.fp32_grads = false;
  // torchtitan: op-level selective checkpointing, unfused cross-entropy.
  if (id.rfind("tt-", 0) == 0) s.framework = Framework::kTorchtitan;
  // Megatron's own DDP of 2021 ("DDP-impl local") reduced gradients after the backward pass.
  // Megatron-LM's 2020 scaling runs used the same local DDP (its default then).
  s.overlap_grad_reduce = !Has(zero, "ddp-impl local") && id.rfind("megatron20", 0) != 0;
  // NeMo and Megatron-Bridge performance recipes for H100 overlap TP collectives and pipeline
  // sends with compute (tp_comm_overlap, overlap_p2p_comm).
  s.comm_overlap = id.rfind("nemo", 0) == 0 || id.rfind("mbridge", 0) == 0;
  return s;
}

// The measured iteration time (else one derived from measured throughput) and peak memory.
void ReadMeasurements(const json& r, PublishedRun& run) {
  const json measured = r.value("measured", json::object());
  const json derived = r.value("derived", json::object());
  if (measured.contains("iter_time_s")) {
    run.iter_time_s = measured["iter_time_s"].get<double>();
  } else {
    for (const char* key : {"iter_time_s", "iter_time_s_from_eq3", "iter_time_s_if_seq8192"}) {
      if (derived.contains(key)) {
        run.iter_time_s = derived[key].get<double>();
        run.iter_time_derived = true;
        break;
      }
    }
  }
  if (measured.contains("peak_memory_GiB")) {
    run.peak_memory_bytes = measured["peak_memory_GiB"].get<double>() * kGiB;
  }
}

// One line of the file; `where` is "path:line".
PublishedRun ParseRun(const json& r, const Catalog& catalog, const std::string& where) {
  PublishedRun run;
  run.id = Text(r, "id");
  run.trust = Text(r, "trust");
  run.source = Text(r, "source");
  const Model m = RunModel(r, run.id);
  run.skip_reason = SkipReason(r, m);
  const Cluster c = RunCluster(r, catalog, where);
  run.plan = RunPlan(r, m, c.gpus, run.id);
  run.specs = Specs{.model = m, .cluster = c, .setup = RunSetup(r, m, run.id)};
  ReadMeasurements(r, run);
  return run;
}

}  // namespace

std::vector<PublishedRun> LoadPublishedRuns(const std::string& path, const Catalog& catalog) {
  std::istringstream in(ReadTextFile(path, path));
  std::vector<PublishedRun> runs;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(n);
    runs.push_back(ParseRun(ParseJsonText(line, where), catalog, where));
  }
  return runs;
}

}  // namespace planner
