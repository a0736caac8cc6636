// Small text helpers every layer shares; one copy of each (style.md).
#pragma once

#include <string>
#include <vector>

namespace planner {

/// ASCII lower case.
std::string Lower(std::string s);

/// The parts with `separator` between them.
std::string Join(const std::vector<std::string>& parts, const std::string& separator);
/// `text` cut at each `separator`: "a,,b" -> {"a", "", "b"}; "" -> {}.
std::vector<std::string> Split(const std::string& text, char separator);

/// One number through a printf format ("%.2f"), as the renderers print figures.
std::string Printf(const char* format, double value);

}  // namespace planner
