// Helpers the test files share: one copy each (style.md).
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "planner/model/error.h"

namespace planner {

/// The InputError that `f` throws (a test failure if it throws none).
inline InputError ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError";
  return InputError("", "");
}

}  // namespace planner
