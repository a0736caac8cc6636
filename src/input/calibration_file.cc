#include "planner/input/calibration_file.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "planner/cost/calibration.h"
#include "planner/input/json_text.h"
#include "planner/model/error.h"
#include "planner/model/files.h"

namespace planner {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

void CheckKeys(const json& obj, const std::string& where, const std::vector<std::string>& keys) {
  if (!obj.is_object()) throw InputError(where, "expected an object, got " + ShownJson(obj));
  RejectUnknownKeys(obj, keys, [&](const std::string& k) { return where + ": " + k; },
                    "unknown key; expected one of the keys `planner calibrate --out` writes");
  for (const std::string& k : keys) {
    if (!obj.contains(k)) throw InputError(where + ": " + k, "is missing");
  }
}

double Number(const json& obj, const std::string& where, const char* key, double least,
              double most) {
  const json& v = obj.at(key);
  const std::string place = where + ": " + key;
  if (!v.is_number()) throw InputError(place, "expected a number, got " + ShownJson(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < least || x > most) {
    throw InputError(place, "must be in [" + json(least).dump() + ", " + json(most).dump() +
                                "], got " + ShownJson(v));
  }
  return x;
}

std::string String(const json& obj, const std::string& where, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_string()) throw InputError(where + ": " + key, "expected a string, got " + ShownJson(v));
  return v.get<std::string>();
}

Efficiency ReadConstants(const json& obj, const std::string& where) {
  CheckKeys(obj, where, {"gemm", "gemm_fp8", "gemm_half_dim", "attention", "hbm", "link",
                         "step_overhead"});
  // A share of peak is in (0, 1]: 0 would divide by zero in the cost models.
  return Efficiency{.gemm = Number(obj, where, "gemm", 0.01, 1.0),
                    .gemm_fp8 = Number(obj, where, "gemm_fp8", 0.01, 1.0),
                    .gemm_half_dim = Number(obj, where, "gemm_half_dim", 0.0, 65536.0),
                    .attention = Number(obj, where, "attention", 0.01, 1.0),
                    .hbm = Number(obj, where, "hbm", 0.01, 1.0),
                    .link = Number(obj, where, "link", 0.01, 1.0),
                    .step_overhead = Number(obj, where, "step_overhead", 0.0, 10.0)};
}

}  // namespace

CalibrationFile ParseCalibrationFile(const std::string& text, const std::string& where) {
  const json doc = ParseJsonText(text, where);
  CheckKeys(doc, where, {"gpu", "runs_file", "runs", "constants", "error"});
  CalibrationFile f;
  f.gpu = String(doc, where, "gpu");
  f.runs_file = String(doc, where, "runs_file");
  f.runs = static_cast<int>(Number(doc, where, "runs", 1, 1e6));
  if (f.runs != doc.at("runs").get<double>()) {
    throw InputError(where + ": runs", "expected a whole number, got " + ShownJson(doc.at("runs")));
  }
  f.eff = ReadConstants(doc.at("constants"), where + ": constants");
  const json& error = doc.at("error");
  const std::string error_where = where + ": error";
  CheckKeys(error, error_where, {"mean", "max", "loo_mean", "loo_max"});
  f.mean_error = Number(error, error_where, "mean", 0, 100);
  f.max_error = Number(error, error_where, "max", 0, 100);
  f.loo_mean_error = Number(error, error_where, "loo_mean", 0, 100);
  f.loo_max_error = Number(error, error_where, "loo_max", 0, 100);
  return f;
}

CalibrationFile LoadCalibrationFile(const std::string& path) {
  return ParseCalibrationFile(ReadTextFile(path, "--calibration"), path);
}

std::string CalibrationFileText(const CalibrationFile& f) {
  const Efficiency& e = f.eff;
  ordered_json j = {{"gpu", f.gpu}, {"runs_file", f.runs_file}, {"runs", f.runs}};
  j["constants"] = {{"gemm", e.gemm},           {"gemm_fp8", e.gemm_fp8},
                    {"gemm_half_dim", e.gemm_half_dim}, {"attention", e.attention},
                    {"hbm", e.hbm},             {"link", e.link},
                    {"step_overhead", e.step_overhead}};
  j["error"] = {{"mean", f.mean_error},
                {"max", f.max_error},
                {"loo_mean", f.loo_mean_error},
                {"loo_max", f.loo_max_error}};
  return j.dump(2) + "\n";
}

Calibration CalibrationOf(const CalibrationFile& f, const std::string& path) {
  double band = std::max(f.loo_max_error, f.max_error);
  if (f.runs < 3) band = std::max(band, kBorrowedBand);
  return Calibration{.eff = f.eff,
                     .provenance = {.source = CalibrationSource::kFile,
                                    .runs = f.runs,
                                    .mean_error = f.mean_error,
                                    .max_error = f.max_error,
                                    .file = path,
                                    .band = std::min(band, kMaxBand)}};
}

}  // namespace planner
