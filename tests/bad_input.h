// The bad-input tables' shared parts: fixture files, rows and the check every row passes.
#pragma once

#include <string>
#include <vector>

namespace planner {

/// One refused command line: its words, the place its error names and a part of the message.
struct BadInputRow {
  std::vector<std::string> args;
  std::string where;    ///< "{dir}" stands for the fixture directory
  std::string message;  ///< a part of the message
};

/// The fixture directory, its bad model, catalog and sweep files written on first use.
const std::string& BadInputDir();
/// `s` with "{dir}" replaced by the fixture directory.
std::string Expand(std::string s);
/// The words of a command line, for failure messages.
std::string Shown(const std::vector<std::string>& args);
/// Every row exits with 2, one stderr line "planner: <where>: ..." holding its message, nothing
/// on stdout and no file written.
void ExpectEachRowRefused(const std::vector<BadInputRow>& rows);

}  // namespace planner
