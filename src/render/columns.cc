#include "planner/render/columns.h"

#include <algorithm>

namespace planner {

void PrintColumns(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                  const std::set<size_t>& left_aligned) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      line += left_aligned.contains(i) ? row[i] + pad : pad + row[i];
      if (i + 1 < row.size()) line += "  ";
    }
    out << line.substr(0, line.find_last_not_of(' ') + 1) << "\n";
  }
}

}  // namespace planner
