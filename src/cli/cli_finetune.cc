// `planner finetune`: flags to a fine-tuning query, the search, and the answer; with --out, the
// framework's files for plan 1 (PEFT + Trainer + accelerate, or torchtune).

#include <algorithm>
#include <cmath>

#include "cli_common.h"
#include "planner/model/error.h"
#include "planner/model/text.h"
#include "planner/render/emit_finetune.h"
#include "planner/render/finetune_output.h"

namespace planner {
namespace po = boost::program_options;
namespace {

struct FinetuneInput {
  SpecInput spec;
  std::string method = "lora", targets, ranks, master;  // targets "": attention
  std::string base_weights, sharding, offload;
  std::string checkpointing, optimizer = "adamw", framework = "hf", format = "table";
  std::string host_memory, out_dir;
  int64_t dataset_tokens = 0;
  bool help = false;
};

// A comma list of names of enum E (values 0..last), each named by `name`; "" is empty.
template <typename E>
std::vector<E> ParseNames(const std::string& list, const char* flag, E last,
                          const char* (*name)(E)) {
  std::vector<E> out;
  for (const std::string& typed : Split(list, ',')) {
    std::vector<std::string> names;
    bool known = false;
    for (int i = 0; i <= static_cast<int>(last); ++i) {
      names.push_back(name(static_cast<E>(i)));
      if (typed == names.back()) out.push_back(static_cast<E>(i)), known = true;
    }
    if (!known) {
      throw InputError(flag, "unknown value '" + typed + "'; expected " + Join(names, ", "));
    }
  }
  return out;
}

template <typename E>
E ParseOne(const std::string& typed, const char* flag, E last, const char* (*name)(E)) {
  const std::vector<E> v = ParseNames(typed, flag, last, name);
  if (v.size() != 1) throw InputError(flag, "expected one value, got '" + typed + "'");
  return v.front();
}

void AddFinetuneOptions(po::options_description& d, FinetuneInput& in, FinetuneQuery& q) {
  FinetunePlan& p = q.base;
  FinetuneSetup& s = q.setup;
  d.add_options()
      ("model", po::value(&in.spec.model), "catalog name or JSON file (planner schema or HF config.json)")
      ("catalog", po::value(&in.spec.catalogs)->composing(), "JSON file adding models, GPUs, links")
      ("gpu", po::value(&in.spec.gpu), "GPU type (planner list gpus)")
      ("gpus", PositiveValue(&q.gpus, "--gpus"), "at most this many GPUs (default: the fewest that fit)")
      ("gpus-per-node", PositiveValue(&in.spec.gpus_per_node, "--gpus-per-node"), "GPUs per node (default 8)")
      ("intra-link", po::value(&in.spec.intra_link), "link inside a node (default: the GPU's)")
      ("method", po::value(&in.method), "full, lora (default), qlora, freeze, galore; a comma list to compare")
      ("lora-rank", po::value(&in.ranks), "adapter rank, alpha 2 x rank (default 16 / 32); a comma list to compare")
      ("lora-targets", po::value(&in.targets), "attention (default), mlp, all, or projections joined by + (q+v, q+k+v+mlp); a comma list to compare")
      ("master-weights", po::value(&in.master), "hf: fp32 (mixed precision, default) or none (pure bf16: model, gradients and AdamW in bf16)")
      ("base-weights", po::value(&in.base_weights), "frozen weights: bf16 (default; nf4 for qlora), int8, nf4")
      ("trainable-layers", PositiveValue(&p.trainable_layers, "--trainable-layers"), "freeze: top layers trained (default 2)")
      ("galore-rank", PositiveValue(&p.galore_rank, "--galore-rank"), "galore: projection rank (default 128)")
      ("sharding", po::value(&in.sharding), "none, zero-1, zero-2, zero-3, fsdp, fsdp-grad-op; a comma list (default: the framework's)")
      ("offload", po::value(&in.offload), "none, optimizer or all (optimizer and weights) (default: searched)")
      ("offload-activations", po::bool_switch(&p.offload_activations), "saved activations to host memory (torchtune)")
      ("checkpointing", po::value(&in.checkpointing), "none, selective, full; a comma list (default: all)")
      ("micro-batch", PositiveValue(&q.micro_batch, "--micro-batch"), "sequences per micro-batch (default: searched)")
      ("tp", PositiveValue(&q.tp, "--tp"), "tensor-parallel size, torchtune only (default: searched)")
      ("global-batch", PositiveValue(&s.global_batch, "--global-batch"), "sequences per optimizer step (default 64)")
      ("tokens-per-batch", SizeValue(&in.spec.tokens_per_batch, "--tokens-per-batch", SiBase::kDecimal), "tokens per optimizer step, e.g. 64k")
      ("seq-len", SizeValue(&s.seq_len, "--seq-len", SiBase::kBinary), "tokens per packed sequence (default 2048)")
      ("dataset-tokens", SizeValue(&in.dataset_tokens, "--dataset-tokens", SiBase::kDecimal), "tokens in one epoch, e.g. 2e9 or 500M")
      ("epochs", BoundedValue(&s.epochs, 1e6, "--epochs"), "passes over the data (default 1)")
      ("optimizer", po::value(&in.optimizer), "adamw (default), adamw-8bit, paged-adamw-8bit, adafactor, sgd")
      ("framework", po::value(&in.framework), "hf (PEFT + Trainer + accelerate, default) or torchtune")
      ("chunked-loss", po::bool_switch(&s.chunked_loss), "chunked cross-entropy (torchtune's CEWithChunkedOutputLoss)")
      ("logits-copy", po::bool_switch(&s.logits_copy), "the training loop keeps a shifted fp32 copy of the logits through backward (logits[..., :-1, :].contiguous(), as torchtune 0.1)")
      ("compile", po::bool_switch(&s.compile), "torch.compile (element-wise operators fused)")
      ("optimizer-in-backward", po::bool_switch(&s.optimizer_in_backward), "torchtune: optimizer step fused into backward (one GPU)")
      ("host-memory", po::value(&in.host_memory),
       "host memory per node, e.g. 512Gi (default: the GPU's server's, else 1 TiB on 8-GPU "
       "servers)")
      ("price", BoundedValue(&q.price_per_gpu_hour, 1e6, "--price"), "price of one GPU-hour: rank by cost")
      ("top", PositiveValue(&q.top, "--top"), "plans to show (default 8)")
      ("format", po::value(&in.format), "table (default), json or csv")
      ("out", po::value(&in.out_dir), "write plan 1's files for --framework into this directory")
      ("hf-model", po::value(&s.hf_model_id), "Hugging Face id the emitted files load (default: a marked placeholder)")
      ("help,h", po::bool_switch(&in.help), "this help");
}

// `text` split at `separator`, every piece named: "8,", ",8", "q+" and "" are refused (Split
// drops empty pieces).
std::vector<std::string> Pieces(const std::string& text, char separator, const char* flag) {
  const std::vector<std::string> pieces = Split(text, separator);
  const auto separators = std::count(text.begin(), text.end(), separator);
  const bool all_named = std::none_of(pieces.begin(), pieces.end(),
                                      [](const std::string& p) { return p.empty(); });
  if (text.empty() || !all_named || static_cast<int64_t>(pieces.size()) != separators + 1) {
    throw InputError(flag, "expected values separated by '" + std::string(1, separator) +
                               "', got '" + text + "'");
  }
  return pieces;
}

// One target set: attention, mlp, all, or parts joined by '+' (q+v, q+k+v+o+mlp).
AdapterTargets ParseTargets(const std::string& typed) {
  if (typed == "attention") return kAttentionTargets;
  if (typed == "mlp") return kMlpTargets;
  if (typed == "all") return kAllTargets;
  AdapterTargets t{.q = false, .k = false, .v = false, .o = false, .mlp = false};
  const std::vector<std::string> parts = Pieces(typed, '+', "--lora-targets");
  for (const std::string& part : parts) {
    bool* flag = part == "q" ? &t.q : part == "k" ? &t.k : part == "v" ? &t.v
               : part == "o" ? &t.o : part == "mlp" ? &t.mlp : nullptr;
    if (flag == nullptr) {
      throw InputError("--lora-targets", "unknown value '" + typed +
                                             "'; expected attention, mlp, all or parts of "
                                             "q, k, v, o, mlp joined by +");
    }
    *flag = true;
  }
  return t;
}

// The adapter lists: one value fixes the plan's, several are ranked side by side.
void ResolveAdapters(const FinetuneInput& in, FinetuneQuery& q) {
  const bool adapters =
      std::any_of(q.methods.begin(), q.methods.end(), [](FinetuneMethod m) { return UsesAdapters(m); });
  if (!adapters && (!in.ranks.empty() || !in.targets.empty())) {
    throw InputError(in.ranks.empty() ? "--lora-targets" : "--lora-rank",
                     "applies to --method lora or qlora, not the methods given");
  }
  q.adapter_targets.clear();
  for (const std::string& typed :
       Pieces(in.targets.empty() ? "attention" : in.targets, ',', "--lora-targets")) {
    q.adapter_targets.push_back(ParseTargets(typed));
  }
  q.base.targets = q.adapter_targets.front();
  if (q.adapter_targets.size() == 1) q.adapter_targets.clear();
  for (const std::string& typed : in.ranks.empty() ? std::vector<std::string>{}
                                                   : Pieces(in.ranks, ',', "--lora-rank")) {
    const double r = ParseSize(typed, "--lora-rank", SiBase::kDecimal);
    if (!(r >= 1 && r <= 65536) || r != std::floor(r)) {
      throw InputError("--lora-rank", "expected ranks 1..65536, got " + typed);
    }
    q.lora_ranks.push_back(static_cast<int>(r));
  }
  if (q.lora_ranks.size() == 1) {
    q.base.lora_rank = q.lora_ranks.front();
    q.base.lora_alpha = 2 * q.base.lora_rank;
    q.lora_ranks.clear();
  }
  if (in.master == "none") {
    q.setup.master = MasterWeights::kNone;
  } else if (!in.master.empty() && in.master != "fp32") {
    throw InputError("--master-weights", "unknown value '" + in.master + "'; expected fp32 or none");
  }
  if (q.setup.framework == FinetuneFramework::kTorchtune) {
    if (in.master == "fp32") {
      throw InputError("--master-weights", "torchtune's recipes train in pure bf16: give none");
    }
    q.setup.master = MasterWeights::kNone;
  }
}

int ResolveOffload(const std::string& t) {
  if (t.empty()) return -1;
  if (t == "none") return 0;
  if (t == "optimizer") return 1;
  if (t == "all") return 3;
  throw InputError("--offload", "unknown value '" + t + "'; expected none, optimizer or all");
}

// The flags typed as names, into the query.
void ResolveNames(const FinetuneInput& in, FinetuneQuery& q) {
  q.methods = ParseNames(in.method, "--method", FinetuneMethod::kGalore, FinetuneMethodName);
  if (q.methods.empty()) throw InputError("--method", "expected at least one method");

  if (!in.base_weights.empty()) {
    q.base.base_weights =
        ParseOne(in.base_weights, "--base-weights", BaseWeights::kNf4, BaseWeightsName);
  }
  q.shardings = ParseNames(in.sharding, "--sharding", Sharding::kFsdpGradOp, ShardingName);
  q.checkpointing =
      ParseNames(in.checkpointing, "--checkpointing", Checkpointing::kFull, CheckpointingName);
  q.offload = ResolveOffload(in.offload);
  q.setup.optimizer = ParseOne(in.optimizer, "--optimizer", FinetuneOptimizer::kSgd,
                               FinetuneOptimizerName);
  q.setup.framework = ParseOne(in.framework, "--framework", FinetuneFramework::kTorchtune,
                               FinetuneFrameworkName);
  ResolveAdapters(in, q);
  if (q.setup.logits_copy && q.setup.chunked_loss) {
    throw InputError("--logits-copy", "chunked cross-entropy never holds the whole logits; give "
                                      "one of --logits-copy and --chunked-loss");
  }
  if (!in.host_memory.empty()) q.setup.host_bytes_per_node = HostMemoryBytes(in.host_memory);
}

// Batch and data: the global batch is the user's (64 sequences of 2048 tokens unless given).
void ResolveBatch(const FinetuneInput& in, FinetuneQuery& q) {
  FinetuneSetup& s = q.setup;
  if (s.seq_len == 0) s.seq_len = 2048;
  if (s.seq_len > ModelLimits::kSeqLen) throw InputError("--seq-len", "is beyond 16M tokens");
  if (in.spec.tokens_per_batch > 0) {
    if (s.global_batch > 0) {
      throw InputError("--tokens-per-batch", "give --global-batch or --tokens-per-batch, not both");
    }
    if (in.spec.tokens_per_batch % s.seq_len != 0) {
      throw InputError("--tokens-per-batch", "is not a multiple of --seq-len");
    }
    s.global_batch = in.spec.tokens_per_batch / s.seq_len;
  }
  if (s.global_batch == 0) s.global_batch = 64;
  if (s.global_batch > ModelLimits::kGlobalBatch) {
    throw InputError("--global-batch", "is beyond 10M sequences");
  }
  s.dataset_tokens = static_cast<double>(in.dataset_tokens);
  if (s.epochs <= 0) throw InputError("--epochs", "must be positive");
  if (q.gpus > 65536) throw InputError("--gpus", "is beyond 65536");
  if (q.micro_batch > 4096) throw InputError("--micro-batch", "is beyond 4096");
}

}  // namespace

// `planner evaluate --method ...` scores one fine-tuning plan: every choice the search would
// make must be given, and the GPU count is exact.
void RequireOnePlan(const FinetuneInput& in, FinetuneQuery& q) {
  const std::pair<bool, const char*> fixed[] = {
      {q.gpus > 0, "--gpus"},
      {!in.sharding.empty() && in.sharding.find(',') == std::string::npos, "--sharding"},
      {!in.offload.empty(), "--offload"},
      {!in.checkpointing.empty() && in.checkpointing.find(',') == std::string::npos,
       "--checkpointing"},
      {q.micro_batch > 0, "--micro-batch"},
      {in.method.find(',') == std::string::npos, "--method"},
      {in.ranks.find(',') == std::string::npos, "--lora-rank"},
      {in.targets.find(',') == std::string::npos, "--lora-targets"}};
  for (const auto& [given, flag] : fixed) {
    if (!given) {
      throw InputError(flag, "evaluate scores one fine-tuning plan: give one value (or use "
                             "planner finetune to search)");
    }
  }
  q.exact_gpus = true;
  q.top = 1;
}

int RunFinetuneCommand(const std::vector<std::string>& args, std::ostream& out, bool evaluate) {
  FinetuneInput in;
  FinetuneQuery q;
  po::options_description d(evaluate ? "planner evaluate --method options"
                                     : "planner finetune options");
  AddFinetuneOptions(d, in, q);
  ParseOptions(args, d, nullptr);
  if (in.help) {
    out << d;
    return 0;
  }
  if (evaluate) RequireOnePlan(in, q);
  const Format format = CheckedFormat(in.format, {Format::kTable, Format::kJson, Format::kCsv});
  ResolveNames(in, q);
  ResolveBatch(in, q);
  const Catalog catalog = LoadCatalog(in.spec);
  if (in.spec.model.empty()) throw InputError("--model", "is required");
  const Model model = FindModel(catalog, in.spec.model, "--model");
  const Cluster cluster = ClusterFromFlags(catalog, in.spec, q.gpus);
  const FinetuneResult r = SearchFinetune(model, cluster, q);
  const FinetuneContext ctx{.model = model, .cluster = cluster, .query = q};
  // The files first: a directory that cannot be written is an error before any answer prints.
  if (!in.out_dir.empty() && !r.plans.empty()) {
    WriteFinetuneFiles(in.out_dir, EmitFinetune(model, cluster, r.plans.front().plan, q.setup));
  }
  if (format == Format::kJson) {
    out << FinetuneJson(ctx, r);
  } else if (format == Format::kCsv) {
    out << FinetuneCsv(ctx, r);
  } else {
    PrintFinetuneTable(out, ctx, r);
    if (!in.out_dir.empty() && !r.plans.empty()) {
      out << "\nPlan 1's " << FinetuneFrameworkName(q.setup.framework) << " files are in "
          << in.out_dir << "/ (NOTES.txt says where they differ from the plan, if anywhere).\n";
    }
  }
  return r.plans.empty() ? 1 : 0;
}

bool IsFinetuneMemory(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--mode=finetune") return true;
    if (args[i] == "--mode" && i + 1 < args.size() && args[i + 1] == "finetune") return true;
  }
  return false;
}

int RunFinetuneMemory(const std::vector<std::string>& args, std::ostream& out) {
  // memory's own names for the same choices: --batch is the micro-batch, --recompute the
  // checkpointing; the answer is the best plan and its breakdown (or the smallest that does not
  // fit).
  std::vector<std::string> rewritten;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--mode=finetune") continue;
    if (args[i] == "--mode") {
      ++i;
      continue;
    }
    if (args[i] == "--batch") {
      rewritten.push_back("--micro-batch");
    } else if (args[i] == "--recompute") {
      rewritten.push_back("--checkpointing");
    } else {
      rewritten.push_back(args[i]);
    }
  }
  rewritten.insert(rewritten.end(), {"--top", "1"});
  return RunFinetuneCommand(rewritten, out);
}

}  // namespace planner
