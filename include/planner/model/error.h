// The one error type for bad input: it names the place (flag or JSON path) and what was expected.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace planner {

/// `text` on one line of valid UTF-8: control characters and the line separators U+0085, U+2028
/// and U+2029 become spaces, bytes that are not UTF-8 become "\xNN".
std::string OneLine(std::string text);

/// Bad user input. `where` is a flag ("--gpu") or a JSON path ("models[2].hidden"); main prints
/// "planner: <where>: <message>" and exits with code 2.
class InputError : public std::runtime_error {
 public:
  /// Control characters (a newline inside a JSON string the user typed) become spaces, so that
  /// the message main prints is one line.
  InputError(std::string where, const std::string& message)
      : std::runtime_error(OneLine(message)), where_(OneLine(std::move(where))) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

/// The closest of `choices` to `typed` by edit distance, or "" when none is close.
std::string ClosestName(const std::string& typed, const std::vector<std::string>& choices);

}  // namespace planner
