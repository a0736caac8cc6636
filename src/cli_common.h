// Pieces the subcommands share (internal to the command line).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "planner/output.h"
#include "planner/specs.h"

namespace planner {

struct OutputInput {
  std::string format = "table";
  CostInput cost;
  bool explain = false;
  bool help = false;
};

void AddSpecOptions(boost::program_options::options_description& d, SpecInput& in);
void AddOutputOptions(boost::program_options::options_description& d, OutputInput& o);
/// Parses into the bound variables; unknown or malformed options become InputError(flag).
void ParseOptions(const std::vector<std::string>& args,
                  const boost::program_options::options_description& d,
                  const boost::program_options::positional_options_description* positional);
Catalog LoadCatalog(const SpecInput& in);

/// Range checks of evaluate's plan flags, each naming its flag.
void ValidatePlanFlags(const Plan& p, int64_t dp, const Specs& specs);
/// "No feasible plan: ..." naming the constraint that removed the most, with the shortfall.
std::string NoPlanSummary(const SearchResult& r);

int RunMemory(const std::vector<std::string>& args, std::ostream& out);
int RunList(const std::vector<std::string>& args, std::ostream& out);

extern const char* const kUsage;

}  // namespace planner
