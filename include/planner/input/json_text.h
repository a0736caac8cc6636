// Parsing JSON that users wrote (model, catalog and sweep files), internal to the input readers.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace planner {

/// Deepest nesting of arrays and objects accepted; real files stay under 10. The limit keeps
/// dump() and comparisons, which recurse, off the end of the stack on a pasted "[[[[...".
inline constexpr int kMaxJsonDepth = 100;

/// Parses `text`; any syntax error, out-of-range number (1e400) or nesting deeper than
/// kMaxJsonDepth throws InputError(where, "malformed JSON: ...") on one line.
nlohmann::json ParseJsonText(const std::string& text, const std::string& where);

/// A JSON value for an error message: one line (dump() escapes newlines), at most 40 characters.
std::string ShownJson(const nlohmann::json& v);

/// Unknown keys are errors (style.md): at the first key of the object `obj` not among `keys`,
/// throws InputError(place(key), "unknown key; did you mean <closest>?"), or `otherwise` when
/// no key is close.
void RejectUnknownKeys(const nlohmann::json& obj, const std::vector<std::string>& keys,
                       const std::function<std::string(const std::string&)>& place,
                       const std::string& otherwise);

}  // namespace planner
