#include "planner/model/error.h"

#include "planner/model/text.h"

#include <algorithm>
#include <cctype>

namespace planner {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string OneLine(std::string text) {
  for (char& ch : text) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  }
  return text;
}

std::string ClosestName(const std::string& typed, const std::vector<std::string>& choices) {
  const std::string t = Lower(typed);
  std::string best;
  // Scores are doubled edit distances; a name that contains what was typed ("llama2-70" in
  // "llama2-70b") scores 1, ahead of any name one edit away.
  size_t best_score = 2 * (std::max<size_t>(3, t.size() / 2) + 1);
  for (const std::string& choice : choices) {
    const std::string c = Lower(choice);
    const size_t score = c.find(t) != std::string::npos ? 1 : 2 * EditDistance(t, c);
    if (score < best_score) {
      best_score = score;
      best = choice;
    }
  }
  return best;
}

}  // namespace planner
