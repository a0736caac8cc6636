#include "planner/input/sizes.h"

#include <cmath>
#include <cstdlib>

#include "planner/model/error.h"

namespace planner {

double ParseSize(const std::string& text, const std::string& where, SiBase base) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double number = std::strtod(begin, &end);
  const std::string suffix(end);
  if (end == begin || text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) {
    throw InputError(where, "expected a number such as 4096, 128k or 4M, got '" + text + "'");
  }
  static const std::string kLetters = "kMGT";
  double scale = 1;
  if (!suffix.empty()) {
    const size_t power = kLetters.find(suffix[0] == 'K' ? 'k' : suffix[0]);
    const bool binary = suffix.size() == 2 && suffix[1] == 'i';
    if (power == std::string::npos || suffix.size() > 2 || (suffix.size() == 2 && !binary)) {
      throw InputError(where, "unknown suffix '" + suffix +
                                  "' in '" + text + "'; expected k, M, G, T (or Ki, Mi, Gi, Ti)");
    }
    const double unit = binary || base == SiBase::kBinary ? 1024.0 : 1000.0;
    scale = std::pow(unit, static_cast<double>(power + 1));
  }
  return number * scale;
}

}  // namespace planner
