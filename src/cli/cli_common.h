// Pieces the subcommands share (internal to the command line).
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "planner/render/emit.h"
#include "planner/model/error.h"
#include "planner/render/output.h"
#include "planner/input/sizes.h"
#include "planner/input/specs.h"
#include "planner/search/cluster_sizes.h"

namespace planner {

struct OutputInput {
  std::string format = "table";
  CostInput cost;
  bool explain = false;
  bool help = false;
};

/// --emit LIST and --out DIR as typed (search and evaluate).
struct EmitInput {
  std::string emit;
  std::string out;
};

/// A flag's value that must be at least 1 when given (0 means "not given" in SpecInput).
template <typename T>
boost::program_options::typed_value<T>* PositiveValue(T* v, const char* flag) {
  return boost::program_options::value(v)->notifier([flag](const T& x) {
    if (x < 1) throw InputError(flag, "must be a positive integer, got " + std::to_string(x));
  });
}
/// A count that may carry a suffix (128k, 4M; src/input/sizes.h), at least 1, into `v`.
boost::program_options::typed_value<std::string>* SizeValue(int64_t* v, const char* flag,
                                                            SiBase base);
/// A flag's number that must be finite and in [0, most].
boost::program_options::typed_value<std::string>* BoundedValue(double* v, double most,
                                                           const char* flag);

void AddSpecOptions(boost::program_options::options_description& d, SpecInput& in);
void AddEmitOptions(boost::program_options::options_description& d, EmitInput& e);
/// The snippets to write, or nullopt when neither flag was given; --out alone means all of them.
/// Throws InputError("--out") for --emit without --out, InputError("--emit") for unknown names.
std::optional<EmitSet> ResolveEmit(const EmitInput& e);
/// --format (advertising only the formats of `formats`), --train-tokens, --gpu-hour-cost,
/// --explain, --help.
void AddOutputOptions(boost::program_options::options_description& d, OutputInput& o,
                      const std::vector<Format>& formats);
/// The --format typed, refused unless it is one of `formats` (each command prints only some).
Format CheckedFormat(const std::string& typed, const std::vector<Format>& formats);
/// Parses into the bound variables; unknown or malformed options become InputError(flag).
void ParseOptions(const std::vector<std::string>& args,
                  const boost::program_options::options_description& d,
                  const boost::program_options::positional_options_description* positional);
Catalog LoadCatalog(const SpecInput& in);
/// The cluster of planner serve and finetune: --gpu (required), --gpus-per-node, --intra-link,
/// the GPU's own NIC between nodes, and the built-in constants the output names.
Cluster ClusterFromFlags(const Catalog& catalog, const SpecInput& in, int64_t gpus);

/// evaluate's plan flags as typed: the plan's sizes, dp (0: from the GPU count), recomputation.
struct PlanInput {
  Plan plan;
  int64_t dp = 0;
  std::string recompute = "none";
};
void AddPlanOptions(boost::program_options::options_description& d, PlanInput& in);
/// The plan the flags state, with dp and accumulation steps from the specs. Throws InputError
/// naming the flag when the plan breaks a divisibility rule of the rule table.
Plan ResolvePlan(const PlanInput& in, const Specs& specs, const SearchLimits& limits);

/// Range checks of evaluate's plan flags that need no specs, each naming its flag; returns
/// tp x cp x pp, which with dp (0: not given) is at most kMaxGpus.
int64_t CheckPlanSizes(const Plan& p, int64_t dp);
/// Range checks of evaluate's plan flags, each naming its flag.
void ValidatePlanFlags(const Plan& p, int64_t dp, const Specs& specs);
/// --recompute-layers against the plan: only with --recompute full, a framework with the block
/// method, and 1 to the layers of the largest stage's model chunk; throws InputError naming it.
void CheckRecomputeLayers(const Plan& p, const Model& m, Framework framework);
/// --offload-activations against the plan: Megatron-core's rules (megatron or nemo, pp 1, no
/// recomputation, fewer layers than the model's, no CUDA graphs); throws InputError naming it.
void CheckActivationOffload(const Plan& p, const Model& m, const TrainingSetup& s);

/// --report FILE (search, evaluate, sweep, merge; src/cli/cli_report.cc).
void AddReportOption(boost::program_options::options_description& d, std::string& report);
/// "planner COMMAND ARGS...", each argument quoted for a POSIX shell where it needs it.
std::string CommandLine(const std::string& command, const std::vector<std::string>& args);
/// Writes the report's page to `path` atomically; throws InputError("--report").
void WriteReport(const std::string& path, const std::string& html);

/// --max-gpus N against the other flags (InputError("--max-gpus") with --gpus or past the limits);
/// sets in.gpus to one node so the specs resolve (each size is searched on a copy).
void CheckMaxGpus(int64_t max_gpus, SpecInput& in);
/// The sizes searched, best first, and why the first was chosen (src/cli/cli_max_gpus.cc).
void PrintClusterSizes(std::ostream& out, const std::vector<SizedSearch>& sizes,
                       const CostInput& cost, int64_t max_gpus);

int RunMemory(const std::vector<std::string>& args, std::ostream& out);
int RunList(const std::vector<std::string>& args, std::ostream& out);
/// `planner sweep FILE --out DIR` (src/cli_sweep.cc); progress goes to `err`.
int RunSweepCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
/// `planner serve --model M --gpu G --input-tokens I --output-tokens O ...` (cli_serve.cc).
int RunServeCommand(const std::vector<std::string>& args, std::ostream& out);
/// `planner finetune --model M --gpu G [--gpus N] --method M ...` (cli_finetune.cc).
/// With `evaluate`, one plan: every choice fixed, --gpus exact (planner evaluate --method).
int RunFinetuneCommand(const std::vector<std::string>& args, std::ostream& out,
                       bool evaluate = false);
/// Whether `planner memory` was asked --mode finetune.
bool IsFinetuneMemory(const std::vector<std::string>& args);
/// `planner memory --mode finetune ...`: the fine-tuning accounting (--method, --gpus,
/// --sharding, ...), --batch as the micro-batch and --recompute as the checkpointing.
int RunFinetuneMemory(const std::vector<std::string>& args, std::ostream& out);
/// `planner calibrate RUNS.jsonl --out FILE` and `--suggest` (cli_calibrate.cc, cli_suggest.cc).
int RunCalibrateCommand(const std::vector<std::string>& args, std::ostream& out);
/// `planner calibrate --suggest`: runs to measure, as JSONL run files.
int RunSuggest(const SpecInput& in, std::ostream& out);
/// `planner merge DIR... --out DIR`.
int RunMergeCommand(const std::vector<std::string>& args, std::ostream& out);

extern const char* const kUsage;
/// The release, from CMakeLists.txt's project(VERSION).
extern const char* const kVersion;

}  // namespace planner
