// `planner list`: the catalog as a table or JSON.
#include <nlohmann/json.hpp>

#include "planner/cost/calibration.h"
#include "planner/model/text.h"
#include "planner/model/units.h"
#include "planner/render/calibration_output.h"
#include "planner/render/columns.h"
#include "planner/render/output.h"

namespace planner {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Whole below 100,000 (4096 reads as itself), else with an SI suffix (131072 -> 131k).
std::string Count(int64_t v) { return v < 100000 ? std::to_string(v) : Si(static_cast<double>(v)); }

// A catalog table fits 80 columns; the JSON (--format json) has every field.
void ListModels(const Catalog& c, nlohmann::ordered_json& j, Rows& rows) {
  rows.push_back({"model", "params", "active", "layers", "heads/kv", "vocab", "seq", "experts"});
  for (const Model& m : c.models) {
    const ParamCounts p = CountParameters(m);
    j.push_back({{"name", m.name}, {"parameters", p.total}, {"active_parameters", p.active},
                 {"layers", m.layers}, {"hidden", m.hidden}, {"heads", m.heads},
                 {"kv_heads", m.kv_heads}, {"ffn_hidden", m.ffn_hidden}, {"vocab", m.vocab},
                 {"seq_len", m.seq_len}, {"mlp", m.mlp == MlpKind::kSwiglu ? "swiglu" : "gelu"},
                 {"tied_embeddings", m.tied_embeddings}, {"experts", m.experts},
                 {"experts_per_token", m.experts_per_token}, {"source", m.source}});
    rows.push_back({m.name, Printf("%.3gB", p.total / 1e9), Printf("%.3gB", p.active / 1e9),
                    std::to_string(m.layers),
                    std::to_string(m.heads) + "/" + std::to_string(m.kv_heads), Count(m.vocab),
                    Count(m.seq_len),
                    IsMoe(m) ? std::to_string(m.experts) + " top-" +
                                   std::to_string(m.experts_per_token)
                             : "-"});
  }
}

// "fitted 19 runs", "borrowed a100", "file calib.json": the constants' source in a column.
std::string ConstantsCell(const Cluster& c) {
  const Provenance& p = c.calibration.provenance;
  if (p.source == CalibrationSource::kFitted) return "fitted " + std::to_string(p.runs) + " runs";
  if (p.source == CalibrationSource::kFile) return "file " + p.file;
  // Scaled sets name the donor and the scale; the legend says they are borrowed (80 columns).
  if (p.matmul_scale != 1.0) return p.from + Printf(" x%.2f", p.matmul_scale);
  return "borrowed " + p.from;
}

void ListGpus(const Catalog& c, nlohmann::ordered_json& j, Rows& rows) {
  rows.push_back({"gpu", "GiB", "bf16", "fp8", "HBM GB/s", "intra", "constants"});
  for (const Gpu& g : c.gpus) {
    j.push_back({{"name", g.name}, {"aliases", g.aliases}, {"hbm_bytes", g.hbm_bytes},
                 {"usable_bytes", g.usable_bytes()}, {"bf16_flops", g.bf16_flops},
                 {"fp8_flops", g.fp8_flops}, {"matmul_flops", g.matmul_flops},
                 {"hbm_bytes_per_s", g.hbm_bytes_per_s},
                 {"intra_link", g.intra_link}, {"inter_link", g.inter_link},
                 {"arch", ArchName(g.arch)}, {"p2p", g.p2p},
                 // 0: a node (scale_up_gpus), PCIe of the generation (host link), the default
                 // rule of Cluster::HostBytesPerNode (host memory).
                 {"scale_up_gpus", g.scale_up_gpus},
                 {"host_link_bytes_per_s", g.host_link_bytes_per_s},
                 {"host_memory_bytes", g.host_bytes},
                 {"source", g.source}});
    const Cluster cluster{.gpu = g, .calibration = BuiltinCalibration(g)};
    j.back()["calibration"] = CalibrationJson(cluster);
    rows.push_back({g.name, Printf("%.0f", g.hbm_bytes / kGiB), Printf("%.0f", g.bf16_flops / kTera),
                    g.fp8_flops > 0 ? Printf("%.0f", g.fp8_flops / kTera) : "-",
                    Printf("%.0f", g.hbm_bytes_per_s / kGB), g.intra_link,
                    ConstantsCell(cluster)});
  }
}

void ListLinks(const Catalog& c, nlohmann::ordered_json& j, Rows& rows) {
  rows.push_back({"link", "one way GB/s", "both ways GB/s", "latency us"});
  for (const Link& l : c.links) {
    j.push_back({{"name", l.name}, {"one_way_bytes_per_s", l.one_way_bytes_per_s},
                 {"two_way_bytes_per_s", l.two_way_bytes_per_s}, {"latency_s", l.latency_s},
                 {"source", l.source}});
    rows.push_back({l.name, Printf("%.1f", l.one_way_bytes_per_s / kGB),
                    Printf("%.1f", l.two_way_bytes_per_s / kGB), Printf("%.1f", l.latency_s * 1e6)});
  }
}

}  // namespace

void PrintCatalog(std::ostream& out, const Catalog& c, CatalogPart part, Format format) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  Rows rows;
  switch (part) {
    case CatalogPart::kModels: ListModels(c, j, rows); break;
    case CatalogPart::kGpus: ListGpus(c, j, rows); break;
    case CatalogPart::kLinks: ListLinks(c, j, rows); break;
  }
  if (format == Format::kJson) {
    out << j.dump(2) << "\n";
  } else {
    PrintColumns(out, rows, {0, part == CatalogPart::kGpus ? size_t{5} : size_t{0},
                             part == CatalogPart::kGpus ? size_t{6} : size_t{0},
                             part == CatalogPart::kModels ? size_t{7} : size_t{0}});
    if (part == CatalogPart::kGpus) {
      out << "bf16, fp8: dense TFLOP/s; constants: where step-time constants come from;\n"
             "\"h100-sxm x0.95\": borrowed from h100-sxm, tensor-core constants scaled by the\n"
             "GPU's measured matmul rate.\n";
    }
  }
}

}  // namespace planner
