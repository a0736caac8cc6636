#include "planner/cli.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "planner/error.h"
#include "planner/output.h"
#include "planner/units.h"

namespace planner {
namespace po = boost::program_options;

void AddSpecOptions(po::options_description& d, SpecInput& in) {
  d.add_options()
      ("model", po::value(&in.model), "catalog name or JSON file (planner schema or HF config.json)")
      ("catalog", po::value(&in.catalogs)->composing(), "JSON file adding models, GPUs, links")
      ("gpu", po::value(&in.gpu), "GPU type (planner list gpus)")
      ("gpus", po::value(&in.gpus), "number of GPUs")
      ("gpus-per-node", po::value(&in.gpus_per_node), "GPUs per node (default 8)")
      ("intra-link", po::value(&in.intra_link), "link inside a node (default: the GPU's)")
      ("inter-link", po::value(&in.inter_link), "NIC type between nodes (default: the GPU's)")
      ("nics-per-node", po::value(&in.nics_per_node), "NICs per node (default: GPUs per node)")
      ("seq-len", po::value(&in.seq_len), "tokens per sequence (default: the model's)")
      ("global-batch", po::value(&in.global_batch), "sequences per optimizer step")
      ("tokens-per-batch", po::value(&in.tokens_per_batch), "tokens per optimizer step")
      ("precision", po::value(&in.precision), "bf16 (default), fp16, fp8, fp32, tf32")
      ("grad-precision", po::value(&in.grad_precision), "fp32 (default, Megatron) or 16bit")
      ("optimizer", po::value(&in.optimizer), "adamw (default), adamw-8bit, sgd")
      ("schedule", po::value(&in.schedule), "1f1b (default), interleaved, gpipe, naive")
      ("attention", po::value(&in.attention), "flash (default) or standard");
}

void AddOutputOptions(po::options_description& d, OutputInput& o) {
  d.add_options()
      ("format", po::value(&o.format), "table (default), json, csv")
      ("train-tokens", po::value(&o.cost.train_tokens), "tokens to train, for days and cost")
      ("gpu-hour-cost", po::value(&o.cost.gpu_hour_cost), "price of one GPU-hour")
      ("explain", po::bool_switch(&o.explain), "show the formulas and why plans were rejected")
      ("help,h", po::bool_switch(&o.help), "this help");
}

void ParseOptions(const std::vector<std::string>& args, const po::options_description& d,
                  const po::positional_options_description* positional) {
  try {
    po::command_line_parser parser(args);
    parser.options(d);
    if (positional != nullptr) parser.positional(*positional);
    po::variables_map vm;
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error_with_option_name& e) {
    std::string name = e.get_option_name();
    if (name.empty()) name = "arguments";
    std::string message = e.what();
    throw InputError(name, message);
  } catch (const po::error& e) {
    throw InputError("arguments", e.what());
  }
}

Catalog LoadCatalog(const SpecInput& in) {
  Catalog catalog = BuiltinCatalog();
  for (const std::string& file : in.catalogs) ExtendCatalog(catalog, file);
  return catalog;
}

namespace {

int RunSearch(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  SearchOptions options;
  po::options_description d("planner [search] options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o);
  d.add_options()
      ("top", po::value(&options.top), "plans to show (default 5)")
      ("threads", po::value(&options.threads), "worker threads (default: all cores)")
      ("allow-cross-node-tp", po::bool_switch(&options.limits.allow_cross_node_tp),
       "let tensor parallelism span nodes")
      ("allow-comm-bound", po::bool_switch(&options.limits.allow_comm_bound),
       "keep TP sizes below the compute/communication ratio (formulas.md section 6)")
      ("max-cp", po::value(&options.max_context_parallel), "largest context-parallel size searched");
  ParseOptions(args, d, nullptr);
  if (o.help) {
    out << d;
    return 0;
  }
  if (in.gpus == 0) throw InputError("--gpus", "is required");
  if (options.top < 1 || options.top > 10000) throw InputError("--top", "must be 1 to 10000");
  if (options.threads < 0 || options.threads > 1024) {
    throw InputError("--threads", "must be 0 (all cores) to 1024");
  }
  if (options.max_context_parallel < 1) throw InputError("--max-cp", "must be at least 1");
  const Format format = ParseFormat(o.format, "--format");
  const Specs specs = BuildSpecs(in, LoadCatalog(in));
  const SearchResult r = Search(specs.model, specs.cluster, specs.setup, options);
  if (format == Format::kJson) {
    out << SearchJson(specs, r, o.cost);
  } else if (format == Format::kCsv) {
    PrintSearchCsv(out, specs, r, o.cost);
  } else {
    PrintSearchTable(out, specs, r, o.cost);
    if (r.plans.empty()) out << NoPlanSummary(r) << "\n";
  }
  return r.plans.empty() ? 1 : 0;
}

int RunEvaluate(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  Plan p;
  std::string recompute = "none";
  int64_t dp = 0;
  po::options_description d("planner evaluate options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o);
  d.add_options()
      ("tp", po::value(&p.tp), "tensor-parallel size")
      ("pp", po::value(&p.pp), "pipeline-parallel size")
      ("dp", po::value(&dp), "data-parallel size (default: GPUs / (tp cp pp))")
      ("cp", po::value(&p.cp), "context-parallel size")
      ("ep", po::value(&p.ep), "expert-parallel size")
      ("micro-batch", po::value(&p.micro_batch), "sequences per micro-batch")
      ("recompute", po::value(&recompute), "none, selective, full")
      ("sequence-parallel", po::bool_switch(&p.sequence_parallel), "sequence parallelism")
      ("zero", po::value(&p.zero_stage), "ZeRO stage 0-3 (1 = distributed optimizer)")
      ("virtual-stages", po::value(&p.virtual_stages), "model chunks per pipeline rank")
      ("first-stage-layers", po::value(&p.first_stage_layers), "layers on the first stage")
      ("last-stage-layers", po::value(&p.last_stage_layers), "layers on the last stage");
  ParseOptions(args, d, nullptr);
  if (o.help) {
    out << d;
    return 0;
  }
  p.recompute = ParseRecompute(recompute, "--recompute");
  const Format format = ParseFormat(o.format, "--format");
  if (in.gpus == 0) {
    // A published run states its parallel sizes; the GPU count follows from them.
    if (dp <= 0) throw InputError("--gpus", "is required (or give --dp)");
    in.gpus = static_cast<int64_t>(p.tp) * p.cp * p.pp * dp;
  }
  const Specs specs = BuildSpecs(in, LoadCatalog(in));
  ValidatePlanFlags(p, dp, specs);
  p.dp = static_cast<int>(specs.cluster.gpus / (static_cast<int64_t>(p.tp) * p.cp * p.pp));
  const int64_t per_step = static_cast<int64_t>(p.micro_batch) * p.dp;
  if (specs.setup.global_batch % per_step != 0) {
    throw InputError("--global-batch", "global batch " + std::to_string(specs.setup.global_batch) +
                                           " is not a multiple of micro-batch x dp = " +
                                           std::to_string(per_step));
  }
  p.grad_accum = static_cast<int>(specs.setup.global_batch / per_step);
  // The user named this plan: score it even if its TP is below the ratio bound, and say so.
  const SearchLimits limits{.allow_cross_node_tp = true, .allow_comm_bound = true};
  const Evaluation e = Evaluate(specs.model, specs.cluster, p, specs.setup, limits);
  if (format == Format::kJson) {
    out << EvaluationJson(specs, e, o.cost);
  } else {
    PrintEvaluationTable(out, specs, e, o.cost, o.explain);
  }
  return e.feasible() ? 0 : 1;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      out << kUsage;
      return args.empty() ? 2 : 0;
    }
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "search") return RunSearch(rest, out);
    if (command == "evaluate") return RunEvaluate(rest, out);
    if (command == "memory") return RunMemory(rest, out);
    if (command == "list") return RunList(rest, out);
    if (command.rfind("--", 0) == 0) return RunSearch(args, out);
    throw InputError("command", "unknown command '" + command +
                                    "'; expected search, evaluate, memory, list (or options)");
  } catch (const InputError& e) {
    err << "planner: " << e.where() << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "planner: internal error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace planner
