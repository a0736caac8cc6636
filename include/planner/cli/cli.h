// The command line: parses arguments into specs, runs a subcommand, renders its result.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace planner {

/// Runs `planner <args>`; returns the exit code (0 ok, 1 no feasible plan, 2 bad input).
/// Only main() calls this; everything it prints goes to `out` and `err`.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace planner
