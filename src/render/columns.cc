#include "planner/render/columns.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

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

std::string Thousands(double x) {
  const bool negative = x < 0;
  const std::string digits = std::to_string(static_cast<long long>(std::llround(std::fabs(x))));
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return negative ? "-" + s : s;
}

std::string Si(double x) {
  static const char* const kSuffix[] = {"", "k", "M", "G", "T"};
  size_t i = 0;
  while (std::fabs(x) >= 999.5 && i + 1 < std::size(kSuffix)) {
    x /= 1000;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", x, kSuffix[i]);
  return buf;
}

namespace {

std::string WrapParagraph(const std::string& text, size_t width) {
  std::string out;
  std::string line;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    if (!word.empty()) line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line + "\n";
}

}  // namespace

std::string Wrap(const std::string& text, size_t width) {
  // Each line of `text` is its own paragraph; a final newline ends the text, not a paragraph.
  const std::string body = !text.empty() && text.back() == '\n' ? text.substr(0, text.size() - 1)
                                                                 : text;
  if (body.empty()) return "";
  std::string out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    out += WrapParagraph(body.substr(start, end - start), width);
    start = end + 1;
  }
  return out;
}

}  // namespace planner
