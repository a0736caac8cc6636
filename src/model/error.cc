#include "planner/model/error.h"

#include "planner/model/text.h"

#include <algorithm>
#include <cctype>
#include <string_view>

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

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there starts none.
size_t Utf8Length(const std::string& text, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = at(i);
  if (b < 0x80) return 1;
  size_t n = 0;
  unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) low = 0xa0;
    if (b == 0xed) high = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) low = 0x90;
    if (b == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size() || at(i + 1) < low || at(i + 1) > high) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return n;
}

}  // namespace

std::string OneLine(std::string text) {
  std::string line;
  line.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8Length(text, i);
    const std::string_view ch(text.data() + i, n == 0 ? 1 : n);
    if (n == 0) {
      // Not UTF-8 (a file name in Latin-1): shown as \xNN, so the line stays valid text and
      // JSON can carry it.
      static const char kHex[] = "0123456789abcdef";
      const auto b = static_cast<unsigned char>(text[i]);
      line += "\\x";
      line += kHex[b >> 4];
      line += kHex[b & 15];
    } else if ((n == 1 && (static_cast<unsigned char>(ch[0]) < 0x20 || ch[0] == 0x7f)) ||
               ch == "\u0085" || ch == "\u2028" || ch == "\u2029") {
      line += ' ';  // control characters and the Unicode line and paragraph separators
    } else {
      line += ch;
    }
    i += ch.size();
  }
  return line;
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
