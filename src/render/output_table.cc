#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "planner/cost/compute_model.h"
#include "planner/cost/memory_model.h"
#include "planner/render/emit.h"
#include "planner/cost/framework.h"
#include "planner/render/output.h"
#include "planner/model/units.h"
#include "planner/render/calibration_output.h"
#include "planner/render/columns.h"
#include "planner/model/text.h"

namespace planner {
namespace {

// "-" for a term that is absent (no pipeline, no recomputation), never "0.0 us".
std::string Duration(double s) {
  if (s <= 0) return "-";
  if (s < 1e-3) return Printf("%.1f us", s * 1e6);
  if (s < 1.0) return Printf("%.1f ms", s * 1e3);
  return Printf("%.2f s", s);
}

std::string Header(const Specs& s) {
  const Cluster& c = s.cluster;
  return s.model.name + " on " + std::to_string(c.gpus) + " x " + c.gpu.name + " (" +
         std::to_string(c.gpus_per_node) + " per node, " + c.intra.name + " inside, " +
         std::to_string(c.nics_per_node) + " x " + c.inter.name + " between nodes); global batch " +
         std::to_string(s.setup.global_batch) + " x " + std::to_string(s.setup.seq_len) +
         " tokens, " + PrecisionName(s.setup.precision) + ", " + ScheduleName(s.setup.schedule) +
         ", " + FrameworkName(s.setup.framework) + (s.setup.comm_overlap ? " (comm overlap)" : "") +
         (s.seq_len_note.empty() ? "" : "\nNote: " + s.seq_len_note);
}

void PrintCost(std::ostream& out, const Specs& s, const Evaluation& e, const CostInput& cost) {
  if (cost.train_tokens <= 0 || e.tokens_per_s <= 0) return;
  const double seconds = cost.train_tokens / e.tokens_per_s;
  const double gpu_hours = seconds / 3600.0 * static_cast<double>(s.cluster.gpus);
  const Range days = StepRange(seconds / 86400.0, s.cluster.calibration.provenance.band);
  std::string text = "Training " + Printf("%.3g", cost.train_tokens) +
                     " tokens with the best plan: " + Printf("%.1f", seconds / 86400.0) +
                     " days (" + RangeText(days, "%.1f") + "), " + Thousands(gpu_hours) +
                     " GPU-hours";
  if (cost.gpu_hour_cost > 0) {
    const double cost_of_day = gpu_hours * cost.gpu_hour_cost / (seconds / 86400.0);
    text += ", cost " + Thousands(gpu_hours * cost.gpu_hour_cost) + " " + cost.currency + " (" +
            Thousands(days.low * cost_of_day) + "-" + Thousands(days.high * cost_of_day) + ")";
  }
  out << Wrap(text);
}

// Pasteable: words wrapped to 80 columns with shell line continuations.
void PrintShellWords(std::ostream& out, const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& word : words) {
    if (!line.empty() && line.size() + 1 + word.size() > 76) {
      out << "  " << line << " \\\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  out << "  " << line << "\n";
}

void PrintMegatronArgs(std::ostream& out, const Specs& s, const Plan& p) {
  out << "\n"
      << Wrap("Megatron-LM arguments of plan 1 (all files: --emit megatron,deepspeed,launch "
              "--out DIR):");
  std::vector<std::string> items;
  for (const auto& [flag, value] : MegatronArgs(s, p)) {
    // Values with shell syntax in them (--moe-layer-freq's list expression) are quoted.
    const bool plain = value.find_first_of("()[]*+ ") == std::string::npos;
    std::string item = flag;
    if (!value.empty()) item += plain ? " " + value : " '" + value + "'";
    items.push_back(std::move(item));
  }
  PrintShellWords(out, items);
}

// NeMo's Megatron-Bridge: run_recipe.py's recipe and the plan's overrides, wrapped as pasteable
// shell words.
void PrintBridgeOverrides(std::ostream& out, const Specs& s, const Plan& p) {
  const char* recipe = BridgeRecipe(s.model);
  out << "\n"
      << Wrap("Megatron-Bridge run_recipe.py overrides of plan 1" +
              std::string(recipe ? " (--recipe " + std::string(recipe) + ")" : "") +
              " (all files: --emit bridge,launch --out DIR):");
  PrintShellWords(out, BridgeOverrideArgv(s, p));
}

// Plan 1 as the chosen framework takes it: Megatron-LM flags (megatron), Megatron-Bridge
// overrides (nemo), the DeepSpeed config, or a note where no emitter exists yet (torchtitan).
void PrintPlanPreview(std::ostream& out, const Specs& s, const Plan& p) {
  if (s.setup.framework == Framework::kDeepSpeed) {
    out << "\n"
        << Wrap("DeepSpeed config of plan 1 (all files: --emit megatron,deepspeed,launch "
                "--out DIR):")
        << DeepSpeedConfig(s, p) << "\n";
  } else if (s.setup.framework == Framework::kTorchtitan) {
    out << "\n"
        << Wrap("No torchtitan emitter yet: set its [parallelism] degrees to the plan's tp, "
                "cp, pp and dp (FSDP shard degree).");
  } else if (s.setup.framework == Framework::kFsdp) {
    out << "\n"
        << Wrap("No FSDP emitter yet: in Composer's fsdp_config set sharding_strategy "
                "FULL_SHARD (zero 3) or SHARD_GRAD_OP (zero 2) and "
                "device_train_microbatch_size to the plan's.");
  } else if (s.setup.framework == Framework::kNemo) {
    PrintBridgeOverrides(out, s, p);
  } else {
    PrintMegatronArgs(out, s, p);
  }
}

// Below the table: the funnel's counts, the best plan's step by term, costs, units.
void PrintSearchFooter(std::ostream& out, const Specs& specs, const SearchResult& r,
                       const CostInput& cost) {
  std::string searched = "Searched " + std::to_string(r.stats.evaluated) + " plans in " +
                         Duration(r.stats.seconds) + " on " + std::to_string(r.stats.threads) +
                         " threads: " + std::to_string(r.stats.feasible) + " feasible";
  for (int i = 1; i < static_cast<int>(Reason::kCount); ++i) {
    searched += ", " + std::to_string(r.stats.pruned[i]) + " " +
                ReasonName(static_cast<Reason>(i));
  }
  out << "\n" << Wrap(searched + ".");
  if (!r.plans.empty()) {
    const Evaluation& best = r.plans.front();
    const TimeBreakdown& t = best.time;
    // Only the terms the plan has: no "bubble 0.0 us" for a plan without a pipeline.
    std::vector<std::string> terms;
    for (const auto& [name, s] : {std::pair{"compute", t.compute}, {"recompute", t.recompute},
                                  {"bubble", t.bubble}, {"TP comm", t.tp_comm},
                                  {"PP comm", t.pp_comm}, {"DP comm", t.dp_comm},
                                  {"EP comm", t.ep_comm}, {"optimizer", t.optimizer},
                                  {"offload", t.offload}}) {
      if (s > 0) terms.push_back(std::string(name) + " " + Duration(s));
    }
    out << Wrap("Best plan's step: " + Join(terms, ", ") + ".")
        << Wrap(RangesLine(specs.cluster, best, "Plan 1") + TieNote(specs.cluster, r.plans));
    PrintCost(out, specs, best, cost);
  }
  out << Wrap("Memory in GiB (2^30 bytes) per GPU, of " +
              Gib(specs.cluster.gpu.usable_bytes()) + " usable; MFU = model FLOPs / peak (" +
              Printf("%.4g", specs.cluster.gpu.PeakFlops(specs.setup.precision) / kTera) +
              " TFLOP/s " + PrecisionName(specs.setup.precision) + ").");
}

}  // namespace

std::string Gib(double bytes) { return Printf("%.2f", bytes / kGiB); }

void PrintSearchTable(std::ostream& out, const Specs& specs, const SearchResult& r,
                      const CostInput& cost, bool wide) {
  out << Wrap(Header(specs)) << "\n";
  // CP, EP, SP and VP are shown when a plan uses them (or with --wide): 80 columns otherwise.
  // (The header sentence above is prose, and wraps like prose.)
  auto any = [&](auto used) {
    return wide || std::any_of(r.plans.begin(), r.plans.end(),
                               [&](const Evaluation& e) { return used(e.plan); });
  };
  const bool cp = any([](const Plan& p) { return p.cp > 1; });
  const bool ep = any([](const Plan& p) { return p.ep > 1; });
  const bool sp = any([](const Plan& p) { return p.sequence_parallel; });
  const bool vp = any([](const Plan& p) { return p.virtual_stages > 1; });
  std::vector<std::vector<std::string>> rows(1);
  auto add = [&](std::vector<std::string>& row, bool shown, std::string cell) {
    if (shown) row.push_back(std::move(cell));
  };
  auto cells = [&](std::vector<std::string>& row, const std::vector<std::string>& c) {
    // GA (accumulation steps) follows from the batch, DP and MB: only with --wide.
    const bool shown[] = {true, true, cp, true, true, ep, true, wide, true, true, sp, vp};
    for (size_t i = 0; i < c.size(); ++i) add(row, i >= std::size(shown) || shown[i], c[i]);
  };
  cells(rows[0], {"#", "TP", "CP", "PP", "DP", "EP", "MB", "GA", "recompute", "ZeRO", "SP", "VP",
                  wide ? "mem GiB" : "GiB", "step", wide ? "tokens/s" : "tok/s", "MFU"});
  int rank = 1;
  for (const Evaluation& e : r.plans) {
    const Plan& p = e.plan;
    rows.emplace_back();
    cells(rows.back(),
          {std::to_string(rank++), std::to_string(p.tp), std::to_string(p.cp),
           std::to_string(p.pp), std::to_string(p.dp), std::to_string(p.ep),
           std::to_string(p.micro_batch), std::to_string(p.grad_accum),
           RecomputeCell(p, LargestStageLayers(specs.model, p)),
           std::to_string(p.zero_stage), p.sequence_parallel ? "yes" : "no",
           std::to_string(p.virtual_stages),
           wide ? Gib(e.memory.total()) + "/" + Gib(e.capacity_bytes) : Gib(e.memory.total()),
           Duration(e.time.step()), wide ? Thousands(e.tokens_per_s) : Si(e.tokens_per_s),
           Printf("%.1f%%", 100.0 * e.mfu)});
  }
  if (!r.plans.empty()) PrintColumns(out, rows);
  out << Wrap(ProvenanceLine(specs.cluster));
  PrintSearchFooter(out, specs, r, cost);
  if (!r.plans.empty()) PrintPlanPreview(out, specs, r.plans.front().plan);
}

void PrintSearchCsv(std::ostream& out, const Specs& specs, const SearchResult& r,
                    const CostInput& cost) {
  out << "rank,tp,cp,pp,dp,ep,micro_batch,grad_accum_steps,recompute,recompute_layers,"
         "offload_activation_layers,zero_stage,"
         "sequence_parallel,virtual_stages,memory_bytes,capacity_bytes,step_s,tokens_per_s,mfu,"
         "step_s_low,step_s_high,calibration";
  if (cost.train_tokens > 0) out << ",train_days";
  out << "\n";
  int rank = 1;
  for (const Evaluation& e : r.plans) {
    const Plan& p = e.plan;
    out << rank++ << "," << p.tp << "," << p.cp << "," << p.pp << "," << p.dp << "," << p.ep
        << "," << p.micro_batch << "," << p.grad_accum << "," << RecomputeName(p.recompute) << ","
        << p.recompute_layers << "," << p.offload_activation_layers << "," << p.zero_stage << ","
        << (p.sequence_parallel ? "true" : "false") << ","
        << p.virtual_stages << "," << Printf("%.0f", e.memory.total()) << ","
        << Printf("%.0f", e.capacity_bytes) << "," << Printf("%.6g", e.time.step()) << ","
        << Printf("%.6g", e.tokens_per_s) << "," << Printf("%.4f", e.mfu);
    const Provenance& prov = specs.cluster.calibration.provenance;
    const Range step = StepRange(e.time.step(), prov.band, e.mfu);
    out << "," << Printf("%.6g", step.low) << "," << Printf("%.6g", step.high) << ","
        << CalibrationSourceName(prov.source);
    if (cost.train_tokens > 0) out << "," << Printf("%.3f", cost.train_tokens / e.tokens_per_s / 86400);
    out << "\n";
  }
}

void PrintEvaluationTable(std::ostream& out, const Specs& specs, const Evaluation& e,
                          const CostInput& cost, bool explain) {
  out << Wrap(Header(specs));
  const Plan& p = e.plan;
  out << Wrap("Plan: tp " + std::to_string(p.tp) + ", cp " + std::to_string(p.cp) + ", pp " +
              std::to_string(p.pp) + ", dp " + std::to_string(p.dp) + ", ep " +
              std::to_string(p.ep) + ", micro-batch " + std::to_string(p.micro_batch) +
              ", accumulation " + std::to_string(p.grad_accum) + ", recompute " +
              RecomputeLabel(p, LargestStageLayers(specs.model, p)) + ", ZeRO " +
              std::to_string(p.zero_stage) + ", SP " +
              (p.sequence_parallel ? "yes" : "no") + ", virtual stages " +
              std::to_string(p.virtual_stages));
  const MemoryBreakdown& m = e.memory;
  out << "\nMemory per GPU (most loaded stage), GiB:\n";
  PrintColumns(out, {{"weights", Gib(m.weights)},
                     {"gradients", Gib(m.gradients)},
                     {"optimizer", Gib(m.optimizer)},
                     {"activations", Gib(m.activations)},
                     {"overhead", Gib(m.overhead)},
                     {"total", Gib(m.total())},
                     {"usable", Gib(e.capacity_bytes)}});
  if (m.host > 0) {
    const Plan& p = e.plan;
    const std::string what =
        p.offload_activation_layers > 0
            ? "the activations of " + std::to_string(p.offload_activation_layers) + " layers"
            : "optimizer states, fp32 master weights, gradient shard";
    out << Wrap("Offloaded to host memory: " + Gib(m.host) + " GiB per GPU (" + what + "); " +
                Gib(HostBytesUsedPerNode(specs.cluster, m)) + " GiB per node, of " +
                Gib(specs.cluster.HostBytesPerNode()) + " GiB (--host-memory).");
  }
  const TimeBreakdown& t = e.time;
  out << "\nStep time:\n";
  PrintColumns(out, {{"compute", Duration(t.compute)},
                     {"recompute", Duration(t.recompute)},
                     {"bubble", Duration(t.bubble)},
                     {"TP/CP comm", Duration(t.tp_comm)},
                     {"PP comm", Duration(t.pp_comm)},
                     {"DP comm", Duration(t.dp_comm)},
                     {"EP comm", Duration(t.ep_comm)},
                     {"optimizer", Duration(t.optimizer)},
                     {"offload", Duration(t.offload)},
                     {"step", Duration(t.step())}});
  out << "\n" << Printf("%.6g", e.tokens_per_s) << " tokens/s ("
      << Printf("%.5g", e.tokens_per_s / static_cast<double>(specs.cluster.gpus)) << " per GPU), MFU "
      << Printf("%.1f%%", 100.0 * e.mfu) << "\n";
  out << Wrap(RangesLine(specs.cluster, e, "The plan") + ProvenanceLine(specs.cluster));
  PrintCost(out, specs, e, cost);
  out << Wrap("Verdict: " + Explain(specs.model, specs.cluster, e, specs.setup));
  if (explain) {
    out << "\n"
        << Wrap(std::string("Formulas: weights/gradients/optimizer = parameters on the stage / "
                            "tp x bytes per parameter (2/4/12 for mixed-precision AdamW), / dp "
                            "for the states ZeRO shards (a routed expert's: / (dp/ep)); "
                            "activations = per-layer bytes (Korthikanti et al. 2022 Table 2, GQA "
                            "and SwiGLU aware) x layers on the stage x micro-batches in flight (") +
                ScheduleName(specs.setup.schedule) +
                "); step = (m + (p-1)/v) x per-micro-batch stage time + exposed DP traffic + "
                "optimizer.");
  }
}

namespace {

const char* const kFormulas =
    "Formulas: weights/gradients/optimizer = parameters on the stage / tp x bytes per "
    "parameter (2/4/12 for mixed-precision AdamW), / dp for the states ZeRO shards (a routed "
    "expert's: / (dp/ep)); activations = per-layer bytes (Korthikanti et al. 2022 Table 2, GQA "
    "and SwiGLU aware) x layers on the stage x micro-batches in flight; step = (m + (p-1)/v) x "
    "per-micro-batch stage time + exposed DP traffic + optimizer; TP is kept at or below the "
    "compute/communication ratio over the link TP crosses (formulas.md section 6).\n";

std::string Describe(const Model& m, const Plan& p) {
  return "tp " + std::to_string(p.tp) + ", cp " + std::to_string(p.cp) + ", pp " +
         std::to_string(p.pp) + ", dp " + std::to_string(p.dp) + ", ep " + std::to_string(p.ep) +
         ", micro-batch " + std::to_string(p.micro_batch) + ", ZeRO " +
         std::to_string(p.zero_stage) + ", recompute " +
         RecomputeLabel(p, LargestStageLayers(m, p)) +
         (p.virtual_stages > 1 ? ", virtual stages " + std::to_string(p.virtual_stages) : "");
}

}  // namespace

void PrintSearchExplanation(std::ostream& out, const Specs& specs, const SearchResult& r) {
  out << "\n" << Wrap(kFormulas);
  bool any = false;
  for (int i = 1; i < static_cast<int>(Reason::kCount); ++i) {
    const std::optional<Evaluation>& example = r.stats.examples[i];
    if (r.stats.pruned[i] == 0 || !example) continue;
    if (!any) out << "\nPlans set aside, by reason (the example is the closest to passing):\n";
    any = true;
    out << Wrap("- " + std::string(ReasonName(static_cast<Reason>(i))) + ": " +
                std::to_string(r.stats.pruned[i]) + " plans; e.g. " +
                Describe(specs.model, example->plan) +
                ": " + Explain(specs.model, specs.cluster, *example, specs.setup));
  }
}

std::string NoPlanSummary(const SearchResult& r) {
  if (r.stats.evaluated == 0) {
    return "No feasible plan: no split of the GPUs into tp x cp x pp x dp divides the heads, the "
           "layers and the global batch; try a GPU count with more factors of 2, or "
           "--global-batch.";
  }
  int worst = 1;
  for (int i = 1; i < static_cast<int>(Reason::kCount); ++i) {
    if (r.stats.pruned[i] > r.stats.pruned[worst]) worst = i;
  }
  std::string s = "No feasible plan: most candidates failed on " +
                  std::string(ReasonName(static_cast<Reason>(worst)));
  if (r.stats.min_shortfall_bytes >= 0) {
    s += "; the plan closest to fitting needs " + Gib(r.stats.min_shortfall_bytes) +
         " GiB more per GPU";
  }
  const int64_t host_bound = r.stats.pruned[static_cast<int>(Reason::kHostMemory)];
  if (host_bound > 0) {
    s += "; " + std::to_string(host_bound) +
         " plans fit the GPUs but offload more than a node's host memory (--host-memory)";
  }
  return s + ".";
}

}  // namespace planner
