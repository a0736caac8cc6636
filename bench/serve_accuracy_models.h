// The planner's name for the model a serving run's source names (bench/serve_accuracy.cc).
#pragma once

#include <string>

namespace bench {

/// A catalog name or a model file of bench/models/; "" when the planner does not know it.
std::string ModelFor(const std::string& text);

}  // namespace bench
