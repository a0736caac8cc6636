// Typed reads of one JSON object's fields for the model readers; every error names the field's
// path. Private to src/input.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "planner/input/json_text.h"
#include "planner/model/error.h"

namespace planner::model_json {

using nlohmann::json;

// `where` is a file ("model.json") or a place inside one ("my.json: models[2]"). A key below a
// file reads "model.json: hidden"; below a place, "my.json: models[2].hidden".
inline std::string Child(const std::string& where, const std::string& key) {
  return where.find(": ") == std::string::npos ? where + ": " + key : where + "." + key;
}

// Typed reads of one JSON object's fields; every error names the field's path.
class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  /// The value of `key`, or nullptr when absent or null.
  const json* Find(const std::string& key) const {
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  const json& Need(const std::string& key) const {
    const json* v = Find(key);
    if (v == nullptr) throw InputError(Child(where_, key), "missing required key '" + key + "'");
    return *v;
  }

  // Each reader takes an optional fallback; without one the key is required.
  int64_t Int(const std::string& key, int64_t min, std::optional<int64_t> fallback = {}) const {
    const json* v = fallback ? Find(key) : &Need(key);
    return v ? ToInt(*v, key, min) : *fallback;
  }
  double Number(const std::string& key, double fallback) const {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) Fail(key, "expected a number, got " + ShownJson(*v));
    if (v->get<double>() < 0) Fail(key, "must not be negative, got " + ShownJson(*v));
    return v->get<double>();
  }
  bool Bool(const std::string& key, std::optional<bool> fallback = {}) const {
    const json* v = fallback ? Find(key) : &Need(key);
    if (v == nullptr) return *fallback;
    if (!v->is_boolean()) Fail(key, "expected true or false, got " + ShownJson(*v));
    return v->get<bool>();
  }
  std::string String(const std::string& key, std::optional<std::string> fallback = {}) const {
    const json* v = fallback ? Find(key) : &Need(key);
    if (v == nullptr) return *fallback;
    if (!v->is_string()) Fail(key, "expected a string, got " + ShownJson(*v));
    return v->get<std::string>();
  }
  const std::string& Where() const { return where_; }
  [[noreturn]] void Fail(const std::string& key, const std::string& message) const {
    throw InputError(Child(where_, key), message);
  }

 private:
  // Integral floats (4096.0) are accepted; 4096.5, negatives and out-of-range values are not.
  int64_t ToInt(const json& v, const std::string& key, int64_t min) const {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t n = 0;
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{kMax}) {
        Fail(key, "is too large: " + ShownJson(v));
      }
      n = v.get<int64_t>();
    } else if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d != std::floor(d) || std::fabs(d) >= static_cast<double>(kMax)) {
        Fail(key, "must be an integer, got " + ShownJson(v));
      }
      n = static_cast<int64_t>(d);
    } else {
      Fail(key, "expected an integer, got " + ShownJson(v));
    }
    if (n < min) {
      Fail(key, std::string(min > 0 ? "must be a positive integer" : "must not be negative") +
                    ", got " + std::to_string(n));
    }
    // ValidateModel bounds each size far lower; this keeps the arithmetic before it (4 x n_embd)
    // within int64.
    if (n > (int64_t{1} << 50)) Fail(key, "is too large: " + ShownJson(v));
    return n;
  }

  const json& obj_;
  std::string where_;
};

}  // namespace planner::model_json
