// Parsing JSON that users wrote (model, catalog and sweep files), internal to the input readers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace planner {

/// Deepest nesting of arrays and objects accepted; real files stay under 10. The limit keeps
/// dump() and comparisons, which recurse, off the end of the stack on a pasted "[[[[...".
inline constexpr int kMaxJsonDepth = 100;

/// Parses `text`; any syntax error, out-of-range number (1e400) or nesting deeper than
/// kMaxJsonDepth throws InputError(where, "malformed JSON: ...") on one line.
nlohmann::json ParseJsonText(const std::string& text, const std::string& where);

/// A JSON value for an error message: one line (dump() escapes newlines), at most 40 characters.
std::string ShownJson(const nlohmann::json& v);

}  // namespace planner
