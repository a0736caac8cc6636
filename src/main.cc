// The planner executable: only this file prints to the terminal and chooses the exit code.
#include <iostream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  return planner::RunCli(args, std::cout, std::cerr);
}
