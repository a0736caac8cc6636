// The command line's --emit and --out: which configuration files to write for the plans, where.
#include <boost/program_options.hpp>

#include "cli_common.h"
#include "planner/model/error.h"

namespace planner {
namespace po = boost::program_options;

void AddEmitOptions(po::options_description& d, EmitInput& e) {
  d.add_options()
      ("emit", po::value(&e.emit),
       "write configuration for each plan: megatron,deepspeed,launch,bridge (any of them; needs "
       "--out)")
      ("out", po::value(&e.out), "directory for --emit: DIR/plan-N/ (default --emit: all)");
}

std::optional<EmitSet> ResolveEmit(const EmitInput& e) {
  if (e.emit.empty() && e.out.empty()) return std::nullopt;
  if (e.out.empty()) throw InputError("--out", "is required with --emit");
  if (e.emit.empty()) return kEmitAll;
  return ParseEmitSet(e.emit, "--emit");
}

}  // namespace planner
