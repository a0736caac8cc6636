// `planner list`: the catalog as a table or JSON.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "planner/cost/calibration.h"
#include "planner/model/units.h"
#include "planner/render/calibration_output.h"
#include "planner/render/output.h"

namespace planner {
namespace {

void ListModels(const Catalog& c, nlohmann::ordered_json& j, std::vector<std::string>& lines) {
  char buf[256];
  for (const Model& m : c.models) {
    const ParamCounts p = CountParameters(m);
    j.push_back({{"name", m.name}, {"parameters", p.total}, {"active_parameters", p.active},
                 {"layers", m.layers}, {"hidden", m.hidden}, {"heads", m.heads},
                 {"kv_heads", m.kv_heads}, {"ffn_hidden", m.ffn_hidden}, {"vocab", m.vocab},
                 {"seq_len", m.seq_len}, {"mlp", m.mlp == MlpKind::kSwiglu ? "swiglu" : "gelu"},
                 {"tied_embeddings", m.tied_embeddings}, {"experts", m.experts},
                 {"experts_per_token", m.experts_per_token}, {"source", m.source}});
    std::snprintf(buf, sizeof buf, "%-16s %8.2fB  L=%-4lld h=%-6lld heads=%-4lld kv=%-4lld ffn=%-6lld vocab=%-7lld seq=%lld%s",
                  m.name.c_str(), p.total / 1e9, static_cast<long long>(m.layers),
                  static_cast<long long>(m.hidden), static_cast<long long>(m.heads),
                  static_cast<long long>(m.kv_heads), static_cast<long long>(m.ffn_hidden),
                  static_cast<long long>(m.vocab), static_cast<long long>(m.seq_len),
                  IsMoe(m) ? (" experts=" + std::to_string(m.experts) + " top-" +
                              std::to_string(m.experts_per_token)).c_str() : "");
    lines.push_back(buf);
  }
}

void ListGpus(const Catalog& c, nlohmann::ordered_json& j, std::vector<std::string>& lines) {
  char buf[256];
  for (const Gpu& g : c.gpus) {
    j.push_back({{"name", g.name}, {"aliases", g.aliases}, {"hbm_bytes", g.hbm_bytes},
                 {"usable_bytes", g.usable_bytes()}, {"bf16_flops", g.bf16_flops},
                 {"fp8_flops", g.fp8_flops}, {"hbm_bytes_per_s", g.hbm_bytes_per_s},
                 {"intra_link", g.intra_link}, {"inter_link", g.inter_link},
                 {"source", g.source}});
    const Cluster cluster{.gpu = g, .calibration = BuiltinCalibration(g)};
    j.back()["calibration"] = CalibrationJson(cluster);
    std::snprintf(buf, sizeof buf, "%-10s %6.1f GiB (%.1f usable)  bf16 %6.1f TFLOP/s  fp8 %6.1f  HBM %6.0f GB/s  %s / %s  %s",
                  g.name.c_str(), g.hbm_bytes / kGiB, g.usable_bytes() / kGiB,
                  g.bf16_flops / kTera, g.fp8_flops / kTera, g.hbm_bytes_per_s / kGB,
                  g.intra_link.c_str(), g.inter_link.c_str(), ShortProvenance(cluster).c_str());
    lines.push_back(buf);
  }
}

void ListLinks(const Catalog& c, nlohmann::ordered_json& j, std::vector<std::string>& lines) {
  char buf[256];
  for (const Link& l : c.links) {
    j.push_back({{"name", l.name}, {"one_way_bytes_per_s", l.one_way_bytes_per_s},
                 {"two_way_bytes_per_s", l.two_way_bytes_per_s}, {"latency_s", l.latency_s},
                 {"source", l.source}});
    std::snprintf(buf, sizeof buf, "%-10s %7.1f GB/s one way  %7.1f GB/s both ways  %5.1f us",
                  l.name.c_str(), l.one_way_bytes_per_s / kGB, l.two_way_bytes_per_s / kGB,
                  l.latency_s * 1e6);
    lines.push_back(buf);
  }
}

}  // namespace

void PrintCatalog(std::ostream& out, const Catalog& c, CatalogPart part, Format format) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  std::vector<std::string> lines;
  switch (part) {
    case CatalogPart::kModels: ListModels(c, j, lines); break;
    case CatalogPart::kGpus: ListGpus(c, j, lines); break;
    case CatalogPart::kLinks: ListLinks(c, j, lines); break;
  }
  if (format == Format::kJson) {
    out << j.dump(2) << "\n";
  } else {
    for (const std::string& l : lines) out << l << "\n";
  }
}

}  // namespace planner
