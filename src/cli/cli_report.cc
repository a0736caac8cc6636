// `--report FILE.html` of search, evaluate, sweep and merge: the option and the page's file.
#include "cli_common.h"
#include "planner/model/files.h"

namespace planner {
namespace po = boost::program_options;

void AddReportOption(po::options_description& d, std::string& report) {
  d.add_options()("report", po::value(&report),
                  "also write an HTML report with charts to FILE (one file that opens offline)");
}

namespace {

// An argument as a POSIX shell reads it back: bare when it is plain, else in single quotes.
std::string ShellWord(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of(
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "abcdefghijklmnopqrstuvwxyz"
                                       "0123456789_./:=,+-@%") == std::string::npos;
  if (plain) return s;
  std::string quoted = "'";
  for (const char ch : s) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

}  // namespace

std::string CommandLine(const std::string& command, const std::vector<std::string>& args) {
  std::string line = "planner " + command;
  for (const std::string& a : args) line += " " + ShellWord(a);
  return line;
}

void WriteReport(const std::string& path, const std::string& html) {
  WriteFileAtomically(path, html, "--report");
}

}  // namespace planner
