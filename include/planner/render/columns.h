// Text columns for the terminal tables of every command.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace planner {

/// Prints `rows` as columns two spaces apart, each padded to its widest cell: right-aligned
/// (numbers) unless its index is in `left_aligned` (names). Lines carry no trailing spaces.
void PrintColumns(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                  const std::set<size_t>& left_aligned = {});

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole),
/// each ending in a newline. Each line of `text` wraps on its own; a blank line stays blank.
std::string Wrap(const std::string& text, size_t width = 80);

/// `x` rounded to a whole number with thousands separators: 1234567.8 -> "1,234,568".
std::string Thousands(double x);
/// `x` in three significant digits with an SI suffix (k, M, G, T): 349864 -> "350k".
std::string Si(double x);

}  // namespace planner
