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

#include "cli_common.h"
#include "planner/input/sizes.h"
#include "planner/model/error.h"
#include "planner/render/output.h"
#include "planner/model/text.h"
#include "planner/model/units.h"

namespace planner {
namespace po = boost::program_options;

void AddSpecOptions(po::options_description& d, SpecInput& in) {
  d.add_options()
      ("model", po::value(&in.model), "catalog name or JSON file (planner schema or HF config.json)")
      ("catalog", po::value(&in.catalogs)->composing(), "JSON file adding models, GPUs, links")
      ("gpu", po::value(&in.gpu), "GPU type (planner list gpus)")
      ("gpus", PositiveValue(&in.gpus, "--gpus"), "number of GPUs")
      ("gpus-per-node", PositiveValue(&in.gpus_per_node, "--gpus-per-node"),
       "GPUs per node (default 8)")
      ("intra-link", po::value(&in.intra_link), "link inside a node (default: the GPU's)")
      ("inter-link", po::value(&in.inter_link), "NIC type between nodes (default: the GPU's)")
      ("nics-per-node", PositiveValue(&in.nics_per_node, "--nics-per-node"),
       "NICs per node (default: GPUs per node)")
      ("seq-len", SizeValue(&in.seq_len, "--seq-len", SiBase::kBinary),
       "tokens per sequence, e.g. 4096 or 128k = 131072 (default: the model's)")
      ("global-batch", PositiveValue(&in.global_batch, "--global-batch"),
       "sequences per optimizer step")
      ("tokens-per-batch", SizeValue(&in.tokens_per_batch, "--tokens-per-batch", SiBase::kDecimal),
       "tokens per optimizer step, e.g. 4M = 4000000 or 4Mi = 4194304")
      ("precision", po::value(&in.precision), "bf16 (default), fp16, fp8, fp32, tf32")
      ("grad-precision", po::value(&in.grad_precision), "fp32 (default, Megatron) or 16bit")
      ("optimizer", po::value(&in.optimizer), "adamw (default), adamw-8bit, sgd")
      ("schedule", po::value(&in.schedule), "1f1b (default), interleaved, gpipe, naive")
      ("attention", po::value(&in.attention), "flash (default) or standard")
      ("comm-overlap", po::bool_switch(&in.comm_overlap),
       "overlap TP collectives and pipeline sends with matmuls (Megatron --tp-comm-overlap)");
}

namespace {

const char* FormatName(Format f) {
  switch (f) {
    case Format::kTable: return "table";
    case Format::kJson: return "json";
    case Format::kCsv: return "csv";
  }
  return "table";
}

std::string FormatNames(const std::vector<Format>& formats) {
  std::vector<std::string> names;
  for (const Format f : formats) names.push_back(FormatName(f));
  return Join(names, ", ");
}

}  // namespace

Format CheckedFormat(const std::string& typed, const std::vector<Format>& formats) {
  const Format f = ParseFormat(typed, "--format");
  if (std::find(formats.begin(), formats.end(), f) == formats.end()) {
    throw InputError("--format", "this command has no " + typed +
                                     " output; expected one of: " + FormatNames(formats));
  }
  return f;
}

void AddOutputOptions(po::options_description& d, OutputInput& o,
                      const std::vector<Format>& formats) {
  d.add_options()
      ("format", po::value(&o.format),
       (FormatNames(formats) + " (the first is the default)").c_str())
      ("train-tokens", BoundedValue(&o.cost.train_tokens, 1e18, "--train-tokens"),
       "tokens to train, for days and cost, e.g. 2T = 2e12")
      ("gpu-hour-cost", BoundedValue(&o.cost.gpu_hour_cost, 1e6, "--gpu-hour-cost"),
       "price of one GPU-hour")
      ("currency", po::value(&o.cost.currency)->notifier([](const std::string& c) {
         if (c.empty() || c.size() > 8 || c.find_first_of(" \t\r\n") != std::string::npos) {
           throw InputError("--currency", "expected a currency code such as USD or EUR");
         }
       }),
       "currency of --gpu-hour-cost, printed after money (default USD)")
      ("explain", po::bool_switch(&o.explain), "show the formulas and why plans were rejected")
      ("help,h", po::bool_switch(&o.help), "this help");
}

po::typed_value<std::string>* SizeValue(int64_t* v, const char* flag, SiBase base) {
  return po::value<std::string>()->notifier([v, flag, base](const std::string& text) {
    const double x = ParseSize(text, flag, base);
    // Written so that NaN fails too; 2^62 keeps the integer exact and far from overflow.
    if (!(x >= 1 && x <= 4.6e18) || x != std::floor(x)) {
      throw InputError(flag, "must be a positive integer, got " + text);
    }
    *v = static_cast<int64_t>(x);
  });
}

po::typed_value<std::string>* BoundedValue(double* v, double most, const char* flag) {
  return po::value<std::string>()->notifier([v, most, flag](const std::string& text) {
    const double x = ParseSize(text, flag, SiBase::kDecimal);  // 2T tokens = 2e12
    *v = x;
    // Written so that NaN fails too.
    if (!(x >= 0 && x <= most)) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "must be a number from 0 to %g, got %g", most, x);
      throw InputError(flag, buf);
    }
  });
}

namespace {

// What a flag's value should have looked like, from the type it is read into.
std::string Expected(const po::options_description& d, const std::string& flag) {
  const size_t name = flag.find_first_not_of('-');
  const po::option_description* o =
      name == std::string::npos ? nullptr : d.find_nothrow(flag.substr(name), false);
  const po::value_semantic* v = o == nullptr ? nullptr : o->semantic().get();
  if (dynamic_cast<const po::typed_value<int>*>(v) != nullptr) {
    return "an integer up to " + std::to_string(std::numeric_limits<int>::max());
  }
  if (dynamic_cast<const po::typed_value<int64_t>*>(v) != nullptr) return "an integer";
  if (dynamic_cast<const po::typed_value<double>*>(v) != nullptr) return "a number";
  return "";
}

// "unknown option; did you mean --gpus?" from the long names `d` knows.
std::string UnknownOption(const po::options_description& d, const std::string& flag) {
  std::vector<std::string> names;
  for (const auto& o : d.options()) names.push_back("--" + o->long_name());
  const std::string close = ClosestName(flag, names);
  return close.empty() ? "unknown option; see --help"
                       : "unknown option; did you mean " + close + "?";
}

// Boost fills its error messages by replacing "%value%"-style placeholders with what was typed,
// and loops forever when that contains the placeholder again (`--gpus %value%`). Messages are
// made from a copy of the arguments with '%' swapped for a byte no argument carries, then
// swapped back.
constexpr char kPercentStandIn = '\x1a';

std::string WithPercent(std::string s) {
  std::replace(s.begin(), s.end(), kPercentStandIn, '%');
  return s;
}

// A word no option took: Boost leaves it in the parse with no name and store() drops it, so
// `--gpus 8 16` planned for 8 and `--comm-overlap false` switched overlap on.
void RejectStrayWords(const po::parsed_options& parsed) {
  for (size_t i = 0; i < parsed.options.size(); ++i) {
    const po::option& o = parsed.options[i];
    if (!o.string_key.empty() || o.value.empty()) continue;
    const std::string word = WithPercent(o.value[0]);
    if (i == 0 || parsed.options[i - 1].string_key.empty()) {
      throw InputError("arguments", "unexpected word '" + word + "'; options start with --");
    }
    const po::option& before = parsed.options[i - 1];
    const std::string flag = "--" + WithPercent(before.string_key);
    if (before.value.empty()) {
      throw InputError(flag, "takes no value, got '" + word +
                                 "' (give the flag to turn it on, leave it out for off)");
    }
    throw InputError(flag, "takes one value, got another word '" + word + "'");
  }
}

void Parse(const std::vector<std::string>& args, const po::options_description& d,
           const po::positional_options_description* positional) {
  po::command_line_parser parser(args);
  // Whole names only: Boost's default style guesses `--mod` as --model and `--mode` too.
  parser.options(d).style(po::command_line_style::default_style &
                          ~po::command_line_style::allow_guessing);
  if (positional != nullptr) parser.positional(*positional);
  const po::parsed_options parsed = parser.run();
  RejectStrayWords(parsed);
  po::variables_map vm;
  po::store(parsed, vm);
  po::notify(vm);
}

// The InputError for the error that parsing `args` with `d` raised.
InputError ParseError(std::vector<std::string> args, const po::options_description& d,
                      const po::positional_options_description* positional) {
  for (std::string& a : args) std::replace(a.begin(), a.end(), '%', kPercentStandIn);
  try {
    Parse(args, d, positional);
  } catch (const po::unknown_option& e) {
    const std::string name = e.get_option_name().empty() ? "arguments" : e.get_option_name();
    return InputError(WithPercent(name), UnknownOption(d, WithPercent(name)));
  } catch (const po::invalid_option_value& e) {
    // Boost's text is "the argument ('abc') for option '--gpus' is invalid".
    const std::string what = WithPercent(e.what());
    const size_t open = what.find("('");
    const size_t close = what.rfind("') for option");
    const std::string value =
        open != std::string::npos && close != std::string::npos && open < close
            ? what.substr(open + 2, close - open - 2)
            : "";
    const std::string name =
        e.get_option_name().empty() ? "arguments" : WithPercent(e.get_option_name());
    const std::string expected = Expected(d, name);
    return InputError(name,
                      expected.empty() ? what : "expected " + expected + ", got '" + value + "'");
  } catch (const po::error_with_option_name& e) {
    const std::string name = e.get_option_name().empty() ? "arguments" : e.get_option_name();
    return InputError(WithPercent(name), WithPercent(e.what()));
  } catch (const po::error& e) {
    return InputError("arguments", WithPercent(e.what()));
  }
  return InputError("arguments", "malformed arguments");
}

}  // namespace

void ParseOptions(const std::vector<std::string>& args, const po::options_description& d,
                  const po::positional_options_description* positional) {
  try {
    Parse(args, d, positional);
  } catch (const po::error&) {
    throw ParseError(args, d, positional);  // never e.what(): see kPercentStandIn
  }
}

Catalog LoadCatalog(const SpecInput& in) {
  Catalog catalog = BuiltinCatalog();
  for (const std::string& file : in.catalogs) ExtendCatalog(catalog, file);
  return catalog;
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

int RunSearch(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  SearchOptions options;
  EmitInput emit_input;
  bool wide = false;
  po::options_description d("planner [search] options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o, kSearchFormats);
  AddEmitOptions(d, emit_input);
  d.add_options()
      ("top", po::value(&options.top), "plans to show (default 5)")
      ("threads", PositiveValue(&options.threads, "--threads"),
       "worker threads (default and most: the cores there are)")
      ("allow-cross-node-tp", po::bool_switch(&options.limits.allow_cross_node_tp),
       "let tensor parallelism span nodes")
      ("allow-comm-bound", po::bool_switch(&options.limits.allow_comm_bound),
       "keep TP sizes below the compute/communication ratio (formulas.md section 6)")
      ("max-cp", po::value(&options.max_context_parallel), "largest context-parallel size searched")
      ("wide", po::bool_switch(&wide), "every column (the default table fits 80 columns)");
  // Constraints: a fixed size (--tp 8) or a cap (--max-tp 4) on a dimension of the search.
  std::array<int, 5> fixed{}, most{};
  const char* const kDims[] = {"tp", "cp", "pp", "dp", "zero"};
  for (size_t i = 0; i < 5; ++i) {
    const std::string name = kDims[i];
    d.add_options()((name).c_str(), po::value(&fixed[i]), ("search only this " + name).c_str());
    if (i < 4 && name != "cp") {
      d.add_options()(("max-" + name).c_str(), po::value(&most[i]),
                      ("search " + name + " sizes up to this").c_str());
    }
  }
  ParseOptions(args, d, nullptr);
  if (o.help) {
    out << d;
    return 0;
  }
  const auto args_have = [&](const std::string& flag) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
      return a == flag || a.rfind(flag + "=", 0) == 0;
    });
  };
  if (in.gpus == 0) throw InputError("--gpus", "is required");
  // Each worker keeps its best `top` in a sorted vector; beyond 1000 inserting costs seconds.
  if (options.top < 1 || options.top > 1000) {
    throw InputError("--top", "must be 1 to 1000, got " + std::to_string(options.top));
  }
  if (options.threads > 1024) {
    throw InputError("--threads", "must be 1 to 1024, got " + std::to_string(options.threads));
  }
  if (options.max_context_parallel < 1) throw InputError("--max-cp", "must be at least 1");
  Bounds* const bounds[] = {&options.tp, &options.cp, &options.pp, &options.dp, &options.zero};
  for (size_t i = 0; i < 5; ++i) {
    const std::string flag = std::string("--") + kDims[i];
    const int least = i == 4 ? 0 : 1;
    if (args_have(flag)) {  // 0 is a value here (--zero 0), so "given" is asked of the args
      if (fixed[i] < least || fixed[i] > (i == 4 ? 3 : kMaxGpus)) {
        throw InputError(flag, i == 4 ? "must be 0, 1, 2 or 3, got " + std::to_string(fixed[i])
                                      : "must be a positive integer, got " +
                                            std::to_string(fixed[i]));
      }
      bounds[i]->least = bounds[i]->most = fixed[i];
    }
    if (most[i] < 0) throw InputError("--max-" + std::string(kDims[i]), "must be at least 1");
    if (most[i] > 0) bounds[i]->most = std::min(bounds[i]->most, most[i]);
  }
  const Format format = CheckedFormat(o.format, kSearchFormats);
  if (o.explain && format != Format::kTable) {
    throw InputError("--explain", "is printed with the table, not with --format " + o.format);
  }
  const std::optional<EmitSet> emit = ResolveEmit(emit_input);
  const Catalog catalog = LoadCatalog(in);
  const Specs specs = BuildSpecs(in, catalog);
  const SearchResult r = Search(specs.model, specs.cluster, specs.setup, options);
  if (emit) WritePlanFiles(emit_input.out, specs, r.plans, *emit);
  if (format == Format::kJson) {
    out << SearchJson(specs, r, o.cost);
  } else if (format == Format::kCsv) {
    PrintSearchCsv(out, specs, r, o.cost);
  } else {
    PrintSearchTable(out, specs, r, o.cost, wide);
    if (r.plans.empty()) out << NoPlanSummary(r) << "\n";
    if (r.plans.empty() && r.stats.evaluated == 0) {
      const std::string nearest = NearestWorkingCounts(in, catalog, options);
      if (!nearest.empty()) out << nearest << "\n";
    }
    if (o.explain) PrintSearchExplanation(out, specs, r);
  }
  return r.plans.empty() ? 1 : 0;
}

int RunEvaluate(const std::vector<std::string>& args, std::ostream& out) {
  SpecInput in;
  OutputInput o;
  PlanInput plan_input;
  EmitInput emit_input;
  po::options_description d("planner evaluate options");
  AddSpecOptions(d, in);
  AddOutputOptions(d, o, kEvaluateFormats);
  AddEmitOptions(d, emit_input);
  AddPlanOptions(d, plan_input);
  ParseOptions(args, d, nullptr);
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
  if (command.rfind("--", 0) == 0) return RunSearch(args, out);
  const std::vector<std::string> commands = {"search", "evaluate", "memory", "list",
                                             "sweep",  "merge",    "help"};
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
