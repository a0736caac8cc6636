// A sweep's summaries, read back from its results lines: summary.csv and the ranking table.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "planner/sweep/sweep_store.h"
#include "planner/input/json_text.h"
#include "sweep_line.h"
#include "planner/render/columns.h"
#include "planner/model/text.h"

namespace planner {
namespace {

using nlohmann::json;

// summary.csv's columns: name and where in a results line the value is ("" for computed ones).
struct Column {
  const char* name;
  const char* pointer;
};
constexpr Column kColumns[] = {
    {"scenario", "/scenario"},         {"id", "/id"},
    {"model", "/inputs/model"},        {"gpu", "/inputs/gpu"},
    {"gpus", "/inputs/gpus"},          {"gpus_per_node", "/inputs/gpus_per_node"},
    {"intra_link", "/inputs/intra_link"}, {"inter_link", "/inputs/inter_link"},
    {"nics_per_node", "/inputs/nics_per_node"}, {"scale_up_gpus", "/inputs/scale_up_gpus"},
    {"host_bytes_per_node", "/inputs/host_bytes_per_node"}, {"seq_len", "/inputs/seq_len"},
    {"global_batch", "/inputs/global_batch"}, {"precision", "/inputs/precision"},
    {"price_per_gpu_hour", "/inputs/price_per_gpu_hour"}, {"feasible", ""},
    {"tp", "/best/tp"},                {"pp", "/best/pp"},
    {"dp", "/best/dp"},                {"cp", "/best/cp"},
    {"ep", "/best/ep"},                {"micro_batch", "/best/micro_batch"},
    {"grad_accum_steps", "/best/grad_accum_steps"}, {"recompute", "/best/recompute"},
    {"zero_stage", "/best/zero_stage"}, {"sequence_parallel", "/best/sequence_parallel"},
    {"virtual_stages", "/best/virtual_stages"}, {"memory_bytes", "/best/memory_bytes/total"},
    {"capacity_bytes", "/best/capacity_bytes"}, {"step_s", "/best/step_s"},
    {"tokens_per_s", "/best/tokens_per_s"}, {"tokens_per_s_per_gpu", "/best/tokens_per_s_per_gpu"},
    {"mfu", "/best/mfu"},              {"train_days", "/best/train_days"},
    {"gpu_hours", "/best/gpu_hours"},  {"train_cost", "/best/train_cost"},
    {"cost_per_million_tokens", ""},   {"reason", "/reason"}};

std::string Cell(const json& v) {
  if (v.is_null()) return "";
  if (!v.is_string()) return v.dump();  // numbers round-trip exactly; true/false
  const std::string s = v.get<std::string>();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (const char ch : s) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

json At(const json& j, const char* pointer) {
  const json::json_pointer p(pointer);
  return j.contains(p) ? j.at(p) : json(nullptr);
}

std::string Plan(const json& best) {
  const auto n = [&](const char* key) { return best.value(key, 1); };
  std::string s = "tp" + std::to_string(n("tp")) + " pp" + std::to_string(n("pp")) + " dp" +
                  std::to_string(n("dp")) + " mb" + std::to_string(n("micro_batch"));
  if (n("cp") > 1) s += " cp" + std::to_string(n("cp"));
  if (n("ep") > 1) s += " ep" + std::to_string(n("ep"));
  if (n("virtual_stages") > 1) s += " vp" + std::to_string(n("virtual_stages"));
  if (best.value("zero_stage", 0) > 0) s += " zero" + std::to_string(best.value("zero_stage", 0));
  if (best.value("sequence_parallel", false)) s += " sp";
  const std::string recompute = best.value("recompute", "none");
  // Megatron-core's activation offload (nemo plans): "off40", the layers on the host.
  const int offloaded = best.value("offload_activation_layers", 0);
  if (offloaded > 0) s += " off" + std::to_string(offloaded);
  return recompute == "none" ? s : s + " rc:" + recompute;
}

SweepRow Row(const json& j) {
  const json& in = j.at("inputs");
  SweepRow r{.scenario = j.at("scenario"),
             .model = in.value("model", ""),
             .gpu = in.value("gpu", ""),
             .intra_link = in.value("intra_link", ""),
             .inter_link = in.value("inter_link", ""),
             .gpus = in.value("gpus", int64_t{0}),
             .gpus_per_node = in.value("gpus_per_node", int64_t{0}),
             .seq_len = in.value("seq_len", int64_t{0}),
             .global_batch = in.value("global_batch", int64_t{0}),
             .price_per_gpu_hour = in.value("price_per_gpu_hour", 0.0)};
  const json best = j.value("best", json(nullptr));
  if (!best.is_object()) return r;
  r.feasible = true;
  r.plan = Plan(best);
  r.tokens_per_s = best.value("tokens_per_s", 0.0);
  r.train_days = best.value("train_days", 0.0);
  r.train_cost = best.value("train_cost", 0.0);
  if (r.price_per_gpu_hour > 0 && r.tokens_per_s > 0) {
    r.cost_per_million_tokens =
        r.price_per_gpu_hour * static_cast<double>(r.gpus) / 3600.0 / r.tokens_per_s * 1e6;
  }
  return r;
}

// Whole units once they are large enough that cents do not matter.
std::string Money(double v) { return Printf(v >= 100 ? "%.0f" : "%.4g", v); }

void PrintRanking(std::ostream& out, const std::vector<const SweepRow*>& rows, bool by_cost,
                  int limit) {
  const bool days = rows.front()->train_days > 0;
  std::vector<std::string> header = {"#",     "GPU",         "GPUs",      "per node", "intra",
                                     "inter", "batch x seq", "best plan", "tokens/s"};
  if (days) header.push_back("days");
  if (by_cost) {
    header.push_back("price/GPU-h");
    header.push_back(days ? "cost" : "cost/1M tokens");
  }
  std::vector<std::vector<std::string>> table = {header};
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    const SweepRow& r = *rows[i];
    std::vector<std::string> row = {
        std::to_string(i + 1), r.gpu,         std::to_string(r.gpus),
        std::to_string(r.gpus_per_node), r.intra_link, r.inter_link,
        std::to_string(r.global_batch) + " x " + std::to_string(r.seq_len), r.plan,
        Printf("%.4g", r.tokens_per_s)};
    if (days) row.push_back(Printf("%.1f", r.train_days));
    if (by_cost) {
      row.push_back(Printf("%.2f", r.price_per_gpu_hour));
      row.push_back(Money(days ? r.train_cost : r.cost_per_million_tokens));
    }
    table.push_back(row);
  }
  PrintColumns(out, table, {1, 4, 5, 6, 7});
  if (static_cast<int>(rows.size()) > limit) {
    out << "  ... " << rows.size() - static_cast<size_t>(limit) << " more in summary.csv\n";
  }
}

// What a results line must hold for the summaries to read it: the JSON path and the type.
enum class Type { kString, kInteger, kNumber, kBool };
struct Field {
  const char* pointer;
  Type type;
};
constexpr Field kInputFields[] = {
    {"/model", Type::kString},         {"/gpu", Type::kString},
    {"/intra_link", Type::kString},    {"/inter_link", Type::kString},
    {"/gpus", Type::kInteger},         {"/gpus_per_node", Type::kInteger},
    {"/nics_per_node", Type::kInteger}, {"/scale_up_gpus", Type::kInteger},
    {"/host_bytes_per_node", Type::kNumber}, {"/seq_len", Type::kInteger},
    {"/global_batch", Type::kInteger}, {"/price_per_gpu_hour", Type::kNumber},
    {"/train_tokens", Type::kNumber}};
constexpr Field kBestFields[] = {
    {"/tp", Type::kInteger},          {"/pp", Type::kInteger},
    {"/dp", Type::kInteger},          {"/cp", Type::kInteger},
    {"/ep", Type::kInteger},          {"/micro_batch", Type::kInteger},
    {"/virtual_stages", Type::kInteger}, {"/zero_stage", Type::kInteger},
    {"/sequence_parallel", Type::kBool}, {"/recompute", Type::kString},
    {"/offload_activation_layers", Type::kInteger},
    {"/tokens_per_s", Type::kNumber}, {"/train_days", Type::kNumber},
    {"/train_cost", Type::kNumber}};

bool HasType(const json& v, Type t) {
  switch (t) {
    case Type::kString: return v.is_string();
    case Type::kInteger: return v.is_number_integer();
    case Type::kNumber: return v.is_number();
    case Type::kBool: return v.is_boolean();
  }
  return false;
}

// "" when the fields of `obj` listed are absent or of their type; else "PATH: expected ...".
template <size_t N>
std::string FieldProblem(const json& obj, const char* prefix, const Field (&fields)[N]) {
  static const char* const kNames[] = {"a string", "an integer", "a number", "true or false"};
  for (const Field& f : fields) {
    const json::json_pointer p(f.pointer);
    if (!obj.contains(p) || HasType(obj.at(p), f.type)) continue;
    return std::string(prefix) + (f.pointer + 1) + ": expected " +
           kNames[static_cast<int>(f.type)] + ", got " + ShownJson(obj.at(p));
  }
  return "";
}

}  // namespace

std::string ResultLineProblem(const nlohmann::json& line) {
  const auto in = line.find("inputs");
  if (in == line.end() || !in->is_object()) return "inputs: expected an object";
  std::string problem = FieldProblem(*in, "inputs.", kInputFields);
  if (!problem.empty()) return problem;
  const auto best = line.find("best");
  if (best == line.end() || best->is_null()) return "";
  if (!best->is_object()) return "best: expected an object or null, got " + ShownJson(*best);
  return FieldProblem(*best, "best.", kBestFields);
}

std::vector<SweepRow> SweepRows(const std::vector<ResultLine>& lines) {
  std::vector<SweepRow> rows;
  for (const ResultLine& line : lines) rows.push_back(Row(json::parse(line.text)));
  std::sort(rows.begin(), rows.end(),
            [](const SweepRow& a, const SweepRow& b) { return a.scenario < b.scenario; });
  return rows;
}

std::string SummaryCsvHeader() {
  std::string csv;
  for (const Column& c : kColumns) csv += std::string(csv.empty() ? "" : ",") + c.name;
  return csv + "\n";
}

std::string SummaryCsvRow(const nlohmann::json& j, SweepRow& row) {
  row = Row(j);
  std::string cells;
  for (const Column& c : kColumns) {
    json v = At(j, c.pointer[0] == '\0' ? "/none" : c.pointer);
    if (std::string(c.name) == "feasible") v = row.feasible;
    if (std::string(c.name) == "cost_per_million_tokens" && row.cost_per_million_tokens > 0) {
      v = row.cost_per_million_tokens;
    }
    cells += (&c == kColumns ? "" : ",") + Cell(v);
  }
  return cells + "\n";
}

std::string SummaryCsv(const std::vector<ResultLine>& lines) {
  std::vector<const ResultLine*> sorted;
  for (const ResultLine& line : lines) sorted.push_back(&line);
  std::sort(sorted.begin(), sorted.end(),
            [](const ResultLine* a, const ResultLine* b) { return a->scenario < b->scenario; });
  std::string csv = SummaryCsvHeader();
  SweepRow row;
  for (const ResultLine* line : sorted) csv += SummaryCsvRow(json::parse(line->text), row);
  return csv;
}

void PrintSweepRanking(std::ostream& out, const std::vector<SweepRow>& rows, int limit) {
  if (limit <= 0) return;
  std::vector<std::string> models;  // in order of first appearance
  for (const SweepRow& r : rows) {
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
  }
  for (const std::string& model : models) {
    std::vector<const SweepRow*> fit, priced;
    int64_t clusters = 0;
    for (const SweepRow& r : rows) {
      if (r.model != model) continue;
      ++clusters;
      if (r.feasible) fit.push_back(&r);
      if (r.feasible && r.cost_per_million_tokens > 0) priced.push_back(&r);
    }
    out << "\n" << model << ": " << clusters << " clusters, " << fit.size()
        << " with a feasible plan";
    if (fit.empty()) {
      out << "\n";
      continue;
    }
    // Ties go to the earlier scenario, so the table is the same on every run.
    std::stable_sort(fit.begin(), fit.end(), [](const SweepRow* a, const SweepRow* b) {
      return a->tokens_per_s > b->tokens_per_s;
    });
    out << "; fastest first" << (fit.front()->train_days > 0 ? " (days to train)" : "") << "\n";
    PrintRanking(out, fit, false, limit);
    if (priced.empty()) continue;
    std::stable_sort(priced.begin(), priced.end(), [](const SweepRow* a, const SweepRow* b) {
      return a->cost_per_million_tokens < b->cost_per_million_tokens;
    });
    out << model << ": cheapest first (price per GPU-hour x GPU-hours)\n";
    PrintRanking(out, priced, true, limit);
  }
}

}  // namespace planner
