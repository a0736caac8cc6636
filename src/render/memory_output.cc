#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "planner/model/units.h"
#include "planner/render/columns.h"
#include "planner/render/output.h"

namespace planner {

std::string MemoryReportJson(const MemoryReport& r) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["mode"] = MemoryModeName(r.mode);
  j["parameters"] = r.params.total;
  j["active_parameters"] = r.params.active;
  nlohmann::ordered_json parts;
  for (const auto& [name, bytes] : r.parts) parts[name] = std::llround(bytes);
  j["memory_bytes"] = parts;
  if (r.quick_rule_bytes) j["quick_rule_bytes"] = std::llround(*r.quick_rule_bytes);
  if (r.gpu) {
    j["gpu"] = r.gpu->name;
    j["capacity_bytes"] = std::llround(r.gpu->usable_bytes());
    j["gpus_needed"] = r.gpus_needed;
    if (r.mode == MemoryMode::kInference) {
      j["tp"] = r.tp;
      j["pp"] = r.pp;
    }
  }
  return j.dump(2) + "\n";
}

void PrintMemoryReport(std::ostream& out, const MemoryReport& r, bool explain) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "%s, %s: %.4g parameters (%.4g active), sequence %lld, batch %lld",
                r.model.c_str(), MemoryModeName(r.mode), r.params.total, r.params.active,
                static_cast<long long>(r.seq_len), static_cast<long long>(r.batch));
  out << Wrap(buf);
  for (const auto& [name, bytes] : r.parts) {
    std::snprintf(buf, sizeof buf, "  %-12s %10.2f GiB  (%.4g bytes)\n", name.c_str(),
                  bytes / kGiB, bytes);
    out << buf;
  }
  if (r.quick_rule_bytes) {
    std::snprintf(buf, sizeof buf,
                  "  quick rule   %10.2f GiB  (x1.2 of weights, formulas.md s.1)\n",
                  *r.quick_rule_bytes / kGiB);
    out << buf;
  }
  if (r.gpus_needed > 0 && r.mode == MemoryMode::kInference) {
    std::snprintf(buf, sizeof buf,
                  "Fits on %lld x %s split TP %d x PP %d (the parts above are per GPU).\n",
                  static_cast<long long>(r.gpus_needed), r.gpu->name.c_str(), r.tp, r.pp);
    out << buf;
  } else if (r.gpus_needed > 0) {
    std::snprintf(buf, sizeof buf,
                  "At least %lld x %s (%.2f GiB usable each), before any parallelism "
                  "overhead.\n",
                  static_cast<long long>(r.gpus_needed), r.gpu->name.c_str(),
                  r.gpu->usable_bytes() / kGiB);
    out << buf;
  }
  if (explain) {
    for (const std::string& f : r.formulas) out << "  " << f << "\n";
  }
}

}  // namespace planner
