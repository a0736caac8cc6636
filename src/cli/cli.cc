#include "planner/cli/cli.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>

#include "cli_common.h"
#include "planner/cost/calibration.h"
#include "planner/input/run_file.h"
#include "planner/input/sizes.h"
#include "planner/model/error.h"
#include "planner/render/output.h"
#include "planner/model/text.h"
#include "planner/render/columns.h"
#include "planner/render/report.h"
#include "planner/model/units.h"

namespace planner {
namespace po = boost::program_options;

Catalog LoadCatalog(const SpecInput& in) {
  Catalog catalog = BuiltinCatalog();
  for (const std::string& file : in.catalogs) ExtendCatalog(catalog, file);
  return catalog;
}

Cluster ClusterFromFlags(const Catalog& catalog, const SpecInput& in, int64_t gpus) {
  if (in.gpu.empty()) throw InputError("--gpu", "is required");
  // The ranges training's specs hold to (planner/input/specs.h).
  for (const auto& [v, most, flag] : {std::tuple{gpus, kMaxGpus, "--gpus"},
                                      {in.gpus_per_node, kMaxGpusPerNode, "--gpus-per-node"}}) {
    if (v > most) {
      throw InputError(flag, "must be at most " + std::to_string(most) + ", got " +
                                 std::to_string(v));
    }
  }
  Cluster c{.gpu = FindGpu(catalog, in.gpu, "--gpu"), .gpus = gpus};
  if (in.gpus_per_node > 0) c.gpus_per_node = in.gpus_per_node;
  c.intra = FindLink(catalog, in.intra_link.empty() ? c.gpu.intra_link : in.intra_link,
                     "--intra-link");
  c.inter = FindLink(catalog, c.gpu.inter_link, "--gpu");
  // The GPU's built-in constants or a --calibration file's (serve); the output names which.
  c.calibration = ChooseCalibration(in, c.gpu);
  return c;
}

namespace {

// CSV is one line per ranked plan; evaluate's one plan, with its breakdown, is a table or JSON.
const std::vector<Format> kSearchFormats = {Format::kTable, Format::kJson, Format::kCsv};
const std::vector<Format> kEvaluateFormats = {Format::kTable, Format::kJson};

// For a GPU count with no split at all (a prime), the nearest counts below and above, in whole
// nodes, whose search finds a plan; "" when none within 64 steps does.
std::string NearestWorkingCounts(SpecInput in, const Catalog& catalog, SearchOptions options) {
  options.top = 1;
  const int64_t step = in.gpus_per_node > 0 && in.gpus > in.gpus_per_node ? in.gpus_per_node : 1;
  const int64_t n = in.gpus;
  auto works = [&](int64_t gpus) {
    if (gpus < 1 || gpus > kMaxGpus) return false;
    in.gpus = gpus;
    try {
      const Specs s = BuildSpecs(in, catalog);
      return !Search(s.model, s.cluster, s.setup, options).plans.empty();
    } catch (const InputError&) {
      return false;
    }
  };
  std::vector<std::string> found;
  for (int64_t k = 1; k <= 64 && found.empty(); ++k) {
    if (works(n - k * step)) found.push_back(std::to_string(n - k * step));
  }
  const size_t below = found.size();
  for (int64_t k = 1; k <= 64 && found.size() == below; ++k) {
    if (works(n + k * step)) found.push_back(std::to_string(n + k * step));
  }
  return found.empty() ? "" : "Nearest GPU counts with a plan: " + Join(found, ", ") + ".";
}

// The search's own flags: its options, and each dimension's fixed size (--tp 8) or cap
// (--max-tp 4) as typed.
struct SearchFlags {
  SearchOptions options;
  std::array<int, 5> fixed{}, most{};
  bool wide = false;
  int64_t max_gpus = 0;  ///< --max-gpus; 0: search --gpus only
  std::string recompute;  ///< --recompute; empty: all
  int micro_batch = 0;    ///< --micro-batch; 0: all
};
constexpr const char* kDims[] = {"tp", "cp", "pp", "dp", "zero"};

void AddSearchOptions(po::options_description& d, SearchFlags& f) {
  d.add_options()
      ("top", po::value(&f.options.top), "plans to show (default 5)")
      ("threads", PositiveValue(&f.options.threads, "--threads"),
       "worker threads (default and most: the cores there are)")
      ("allow-cross-node-tp", po::bool_switch(&f.options.limits.allow_cross_node_tp),
       "let tensor parallelism span nodes")
      ("allow-comm-bound", po::bool_switch(&f.options.limits.allow_comm_bound),
       "keep TP sizes below the compute/communication ratio (formulas.md section 6)")
      ("max-cp", po::value(&f.options.max_context_parallel), "largest context-parallel size searched")
      ("wide", po::bool_switch(&f.wide), "every column (the default table fits 80 columns)")
      ("fit-recompute-layers", po::bool_switch(&f.options.fit_recompute_layers),
       "where recomputing every layer fits, also try recomputing only as many layers as memory "
       "needs (Megatron's --recompute-method block), leaving 5% of memory free")
      ("max-gpus", PositiveValue(&f.max_gpus, "--max-gpus"),
       "search every cluster size up to this (instead of --gpus); the most tokens/s per GPU wins")
      ("recompute", po::value(&f.recompute),
       "search only this recomputation: none, selective, full")
      ("micro-batch", PositiveValue(&f.micro_batch, "--micro-batch"),
       "search only this micro-batch size");
  for (size_t i = 0; i < 5; ++i) {
    const std::string name = kDims[i];
    d.add_options()((name).c_str(), po::value(&f.fixed[i]), ("search only this " + name).c_str());
    if (i < 4 && name != "cp") {
      d.add_options()(("max-" + name).c_str(), po::value(&f.most[i]),
                      ("search " + name + " sizes up to this").c_str());
    }
  }
}

// Range checks of the search's flags, and the constraints they set.
void ApplySearchFlags(const std::vector<std::string>& args, SearchFlags& f) {
  SearchOptions& options = f.options;
  // Each worker keeps its best `top` in a sorted vector; beyond 1000 inserting costs seconds.
  if (options.top < 1 || options.top > 1000) {
    throw InputError("--top", "must be 1 to 1000, got " + std::to_string(options.top));
  }
  if (options.threads > 1024) {
    throw InputError("--threads", "must be 1 to 1024, got " + std::to_string(options.threads));
  }
  if (options.max_context_parallel < 1) throw InputError("--max-cp", "must be at least 1");
  if (!f.recompute.empty()) options.recompute = ParseRecompute(f.recompute, "--recompute");
  if (f.micro_batch > 0) {
    if (f.micro_batch > ModelLimits::kGlobalBatch) {
      throw InputError("--micro-batch", "must be 1 to " +
                                            std::to_string(ModelLimits::kGlobalBatch) + ", got " +
                                            std::to_string(f.micro_batch));
    }
    options.micro_batch.least = options.micro_batch.most = f.micro_batch;
    options.max_micro_batch = std::max(options.max_micro_batch, f.micro_batch);
  }
  const auto args_have = [&](const std::string& flag) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
      return a == flag || a.rfind(flag + "=", 0) == 0;
    });
  };
  Bounds* const bounds[] = {&options.tp, &options.cp, &options.pp, &options.dp, &options.zero};
  for (size_t i = 0; i < 5; ++i) {
    const std::string flag = std::string("--") + kDims[i];
    const int least = i == 4 ? 0 : 1;
    if (args_have(flag)) {  // 0 is a value here (--zero 0), so "given" is asked of the args
      if (f.fixed[i] < least || f.fixed[i] > (i == 4 ? 3 : kMaxGpus)) {
        throw InputError(flag, i == 4 ? "must be 0, 1, 2 or 3, got " + std::to_string(f.fixed[i])
                                      : "must be a positive integer, got " +
                                            std::to_string(f.fixed[i]));
      }
      bounds[i]->least = bounds[i]->most = f.fixed[i];
    }
    if (f.most[i] < 0) throw InputError("--max-" + std::string(kDims[i]), "must be at least 1");
    if (f.most[i] > 0) bounds[i]->most = std::min(bounds[i]->most, f.most[i]);
  }
}

void PrintSearch(std::ostream& out, Format format, const SpecInput& in, const Catalog& catalog,
                 const Specs& specs, const SearchResult& r, const OutputInput& o,
                 const SearchFlags& f) {
  if (format == Format::kJson) {
    out << SearchJson(specs, r, o.cost);
    return;
  }
  if (format == Format::kCsv) {
    PrintSearchCsv(out, specs, r, o.cost);
    return;
  }
  PrintSearchTable(out, specs, r, o.cost, f.wide);
  if (r.plans.empty()) out << Wrap(NoPlanSummary(r));
  if (r.plans.empty() && r.stats.evaluated == 0) {
    const std::string nearest = NearestWorkingCounts(in, catalog, f.options);
    if (!nearest.empty()) out << nearest << "\n";
  }
  if (o.explain) PrintSearchExplanation(out, specs, r);
}

int RunSearch(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  SearchFlags f;
  EmitInput emit_input;
  std::string report;
  po::options_description d("planner [search] options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o, kSearchFormats);
  AddEmitOptions(d, emit_input);
  AddReportOption(d, report);
  AddSearchOptions(d, f);
  ParseOptions(args, d, nullptr);
  if (o.help) {
    out << d;
    return 0;
  }
  if (f.max_gpus > 0) CheckMaxGpus(f.max_gpus, in);
  if (in.gpus == 0) throw InputError("--gpus", "is required (or --max-gpus N)");
  ApplySearchFlags(args, f);
  const Format format = CheckedFormat(o.format, kSearchFormats);
  if (o.explain && format != Format::kTable) {
    throw InputError("--explain", "is printed with the table, not with --format " + o.format);
  }
  const std::optional<EmitSet> emit = ResolveEmit(emit_input);
  const Catalog catalog = LoadCatalog(in);
  Specs specs = BuildSpecs(in, catalog);
  std::vector<SizedSearch> sizes;
  if (f.max_gpus > 0) {
    sizes = SearchClusterSizes(specs.model, specs.cluster, specs.setup, f.options, f.max_gpus);
    specs.cluster.gpus = in.gpus = sizes.front().gpus;
  }
  const SearchResult r = sizes.empty()
                             ? Search(specs.model, specs.cluster, specs.setup, f.options)
                             : sizes.front().result;
  if (emit) WritePlanFiles(emit_input.out, specs, r.plans, *emit);
  if (!report.empty()) {
    WriteReport(report, SearchReportHtml(specs, r, o.cost, CommandLine("search", args)));
  }
  if (!sizes.empty() && format == Format::kTable) PrintClusterSizes(out, sizes, o.cost, f.max_gpus);
  PrintSearch(out, format, in, catalog, specs, r, o, f);
  return r.plans.empty() ? 1 : 0;
}

// The value of --run FILE (or --run=FILE), read before the other flags so that they override it.
std::string RunFileArg(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--run" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--run=", 0) == 0) return args[i].substr(6);
  }
  return "";
}

// Switches reset to false when parsed: keep what the run file turned on.
void KeepRunSwitches(const RunFile& run, SpecInput& in, PlanInput& plan_input) {
  in.comm_overlap = in.comm_overlap || run.spec.comm_overlap;
  in.no_comm_overlap = in.no_comm_overlap || run.spec.no_comm_overlap;
  in.eager = in.eager || run.spec.eager;
  in.cuda_graphs = in.cuda_graphs || run.spec.cuda_graphs;
  plan_input.plan.sequence_parallel =
      plan_input.plan.sequence_parallel || run.plan.plan.sequence_parallel;
}

int RunEvaluate(const std::vector<std::string>& args, std::ostream& out) {
  // A fine-tuning method makes it a fine-tuning plan (planner finetune's flags, all fixed).
  for (const std::string& a : args) {
    if (a == "--method" || a.rfind("--method=", 0) == 0) return RunFinetuneCommand(args, out, true);
  }
  SpecInput in;
  OutputInput o;
  PlanInput plan_input;
  EmitInput emit_input;
  std::string report;
  // A run file states what the flags would; flags given with it override its fields.
  std::string run_path = RunFileArg(args);
  const std::optional<RunFile> run =
      run_path.empty() ? std::nullopt : std::optional<RunFile>(LoadRunFile(run_path));
  if (run) {
    in = run->spec;
    plan_input = PlanInput{run->plan.plan, run->plan.dp, run->plan.recompute};
  }
  po::options_description d("planner evaluate options");
  d.add_options()("run", po::value(&run_path), "run file (README: Run files); flags override it");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o, kEvaluateFormats);
  AddEmitOptions(d, emit_input);
  AddReportOption(d, report);
  AddPlanOptions(d, plan_input);
  ParseOptions(args, d, nullptr);
  if (run) KeepRunSwitches(*run, in, plan_input);
  if (o.help) {
    out << d;
    return 0;
  }
  plan_input.plan.recompute = ParseRecompute(plan_input.recompute, "--recompute");
  const Format format = CheckedFormat(o.format, kEvaluateFormats);
  const std::optional<EmitSet> emit = ResolveEmit(emit_input);
  const int64_t model_parallel = CheckPlanSizes(plan_input.plan, plan_input.dp);
  if (in.gpus == 0) {
    // A published run states its parallel sizes; the GPU count follows from them.
    if (plan_input.dp <= 0) throw InputError("--gpus", "is required (or give --dp)");
    in.gpus = model_parallel * plan_input.dp;
  }
  const Specs specs = BuildSpecs(in, LoadCatalog(in));
  // The user named this plan: score it even if its TP is below the ratio bound, and say so.
  const SearchLimits limits{.allow_cross_node_tp = true, .allow_comm_bound = true};
  const Plan p = ResolvePlan(plan_input, specs, limits);
  const Evaluation e = Evaluate(specs.model, specs.cluster, p, specs.setup, limits);
  if (emit) WritePlanFiles(emit_input.out, specs, {e}, *emit);  // DIR/plan-1
  if (!report.empty()) {
    WriteReport(report, EvaluationReportHtml(specs, e, o.cost, CommandLine("evaluate", args)));
  }
  if (format == Format::kJson) {
    out << EvaluationJson(specs, e, o.cost);
  } else {
    PrintEvaluationTable(out, specs, e, o.cost, o.explain);
  }
  return e.feasible() ? 0 : 1;
}

}  // namespace

namespace {

int Dispatch(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;  // a usage error: stderr, like every other
    return 2;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || (command == "help" && args.size() == 1)) {
    out << kUsage;
    return 0;
  }
  if (command == "--version") {
    out << "planner " << kVersion << "\n";
    return 0;
  }
  if (command == "help") {
    if (args.size() > 2) throw InputError("help", "expected one command, e.g. planner help search");
    return Dispatch({args[1], "--help"}, out, err);
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "search") return RunSearch(rest, out);
  if (command == "evaluate") return RunEvaluate(rest, out);
  if (command == "memory") return RunMemory(rest, out);
  if (command == "list") return RunList(rest, out);
  if (command == "sweep") return RunSweepCommand(rest, out, err);
  if (command == "merge") return RunMergeCommand(rest, out);
  if (command == "serve") return RunServeCommand(rest, out);
  if (command == "finetune") return RunFinetuneCommand(rest, out);
  if (command == "calibrate") return RunCalibrateCommand(rest, out);
  if (command.rfind("--", 0) == 0) return RunSearch(args, out);
  const std::vector<std::string> commands = {"search", "evaluate", "memory",    "list",
                                             "sweep",  "merge",    "serve",     "finetune",
                                             "calibrate", "help"};
  const std::string close = ClosestName(command, commands);
  throw InputError("command", "unknown command '" + command + "'; " +
                                  (close.empty() ? "expected " + Join(commands, ", ") +
                                                       " (or options)"
                                                 : "did you mean " + close + "?"));
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    const int rc = Dispatch(args, out, err);
    // A full disk or a closed pipe must not look like success: check the last write too.
    errno = 0;
    out.flush();
    if (!out) {
      const int error = errno;
      err << "planner: output: cannot write"
          << (error != 0 ? std::string(": ") + std::strerror(error) : std::string()) << "\n";
      return 2;
    }
    return rc;
  } catch (const InputError& e) {
    err << "planner: " << e.where() << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "planner: internal error: " << OneLine(e.what()) << "\n";
    return 3;
  }
}

}  // namespace planner
