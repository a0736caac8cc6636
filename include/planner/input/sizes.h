// Sizes as people write them on a command line: 4M, 128k, 2T, 4Mi.
#pragma once

#include <string>

namespace planner {

/// What a bare 'k' (and M, G, T) multiplies by.
enum class SiBase {
  kDecimal,  ///< k = 10^3, M = 10^6, ...: token counts ("2T tokens", "4M tokens")
  kBinary,   ///< k = 2^10, ...: context lengths ("128k context" is 131072 tokens)
};

/// A number with an optional suffix: k, M, G, T (by `base`) or Ki, Mi, Gi, Ti (always 2^10...),
/// e.g. "4M", "128k", "2T", "4Mi", "1e12", "4096". Throws InputError(where, ...) for anything
/// else; the value is not range-checked here.
double ParseSize(const std::string& text, const std::string& where, SiBase base);

}  // namespace planner
