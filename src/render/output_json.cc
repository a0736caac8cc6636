#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "planner/cost/framework.h"
#include "planner/render/calibration_output.h"
#include "planner/render/emit.h"
#include "planner/render/output.h"

namespace planner {
namespace {

using nlohmann::ordered_json;

// Bytes are whole: 14483456000, not 1.4483456e+10 (a double's dump).
int64_t Bytes(double bytes) { return std::llround(bytes); }

ordered_json MemoryJson(const MemoryBreakdown& m) {
  ordered_json j = {{"weights", Bytes(m.weights)},     {"gradients", Bytes(m.gradients)},
                    {"optimizer", Bytes(m.optimizer)}, {"activations", Bytes(m.activations)},
                    {"overhead", Bytes(m.overhead)},   {"total", Bytes(m.total())}};
  // Host memory per GPU, only when something is offloaded (--offload optimizer).
  if (m.host > 0) j["host"] = Bytes(m.host);
  return j;
}

ordered_json TimeJson(const TimeBreakdown& t) {
  return {{"compute", t.compute},   {"recompute", t.recompute}, {"tp_comm", t.tp_comm},
          {"pp_comm", t.pp_comm},   {"dp_comm", t.dp_comm},     {"ep_comm", t.ep_comm},
          {"bubble", t.bubble},     {"optimizer", t.optimizer}, {"offload", t.offload},
          {"total", t.step()}};
}

ordered_json PlanJson(const Specs& specs, const Evaluation& e, const CostInput& cost,
                      const PlanJsonOptions& options) {
  const Plan& p = e.plan;
  ordered_json j = {{"tp", p.tp},
                    {"pp", p.pp},
                    {"dp", p.dp},
                    {"cp", p.cp},
                    {"ep", p.ep},
                    {"micro_batch", p.micro_batch},
                    {"grad_accum_steps", p.grad_accum},
                    {"recompute", RecomputeName(p.recompute)},
                    // 0: every layer when recompute is full (Plan::recompute_layers)
                    {"recompute_layers", p.recompute_layers},
                    {"zero_stage", p.zero_stage},
                    {"sequence_parallel", p.sequence_parallel},
                    {"virtual_stages", p.virtual_stages},
                    {"first_stage_layers", p.first_stage_layers},
                    {"last_stage_layers", p.last_stage_layers},
                    // Megatron-core activation offload: layers (Plan::offload_activation_layers)
                    {"offload_activation_layers", p.offload_activation_layers},
                    {"feasible", e.feasible()},
                    {"reason", ReasonName(e.reason)}};
  j["memory_bytes"] = MemoryJson(e.memory);
  j["capacity_bytes"] = Bytes(e.capacity_bytes);
  if (e.memory.host > 0) {
    // What a node's host memory holds for the plan, and what it has (--host-memory).
    j["host_bytes_per_node"] = Bytes(HostBytesUsedPerNode(specs.cluster, e.memory));
    j["host_capacity_bytes_per_node"] = Bytes(specs.cluster.HostBytesPerNode());
  }
  j["step_s"] = e.time.step();
  j["time_s"] = TimeJson(e.time);
  j["tokens_per_s"] = e.tokens_per_s;
  j["tokens_per_s_per_gpu"] = e.tokens_per_s / static_cast<double>(specs.cluster.gpus);
  j["mfu"] = e.mfu;
  if (cost.train_tokens > 0 && e.tokens_per_s > 0) {
    const double seconds = cost.train_tokens / e.tokens_per_s;
    j["train_days"] = seconds / 86400.0;
    j["gpu_hours"] = seconds / 3600.0 * static_cast<double>(specs.cluster.gpus);
    if (cost.gpu_hour_cost > 0) j["train_cost"] = j["gpu_hours"].get<double>() * cost.gpu_hour_cost;
  }
  // Where the constants come from, and each figure's range under their measured errors.
  j["calibration"] = CalibrationJson(specs.cluster);
  j["range"] = BandJson(specs.cluster, e, cost);
  if (!options.snippets) return j;
  // The same snippets `--emit` writes as files (README: "Emitting configuration").
  j["snippets"] = {{"megatron_args", MegatronArgv(specs, p)},
                   {"megatron_sh", MegatronScript(specs, p)},
                   {"ds_config", ordered_json::parse(DeepSpeedConfig(specs, p))},
                   {"deepspeed_sh", DeepSpeedScript(specs, p)},
                   {"launch", LaunchScript(specs, p)},
                   {"bridge_overrides", BridgeOverrideArgv(specs, p)},
                   {"bridge_sh", BridgeScript(specs, p)}};
  return j;
}

ordered_json InputsJson(const Specs& s) {
  const Cluster& c = s.cluster;
  ordered_json j = {{"model", s.model.name},
                    {"gpu", c.gpu.name},
                    {"gpus", c.gpus},
                    {"gpus_per_node", c.gpus_per_node},
                    {"intra_link", c.intra.name},
                    {"inter_link", c.inter.name},
                    {"nics_per_node", c.nics_per_node},
                    {"scale_up_gpus", c.ScaleUpDomain()},
                    {"host_bytes_per_node", c.HostBytesPerNode()},
                    {"seq_len", s.setup.seq_len},
                    {"global_batch", s.setup.global_batch},
                    {"precision", PrecisionName(s.setup.precision)},
                    {"optimizer", OptimizerName(s.setup.optimizer)},
                    {"schedule", ScheduleName(s.setup.schedule)},
                    {"flash_attention", s.setup.flash_attention},
                    {"framework", FrameworkName(s.setup.framework)},
                    {"grad_precision", s.setup.fp32_grads ? "fp32" : "16bit"},
                    {"comm_overlap", s.setup.comm_overlap},
                    {"overlap_grad_reduce", s.setup.overlap_grad_reduce},
                    {"cuda_graphs", s.setup.cuda_graphs}};
  // Only when the sequence length defaulted below the model's maximum context.
  if (!s.seq_len_note.empty()) j["seq_len_note"] = s.seq_len_note;
  return j;
}

}  // namespace

ordered_json SearchJsonValue(const Specs& specs, const SearchResult& r, const CostInput& cost,
                             const PlanJsonOptions& options) {
  ordered_json j;
  j["inputs"] = InputsJson(specs);
  ordered_json plans = ordered_json::array();
  for (const Evaluation& e : r.plans) plans.push_back(PlanJson(specs, e, cost, options));
  j["plans"] = plans;
  // A failed search says why, as the table does.
  if (r.plans.empty()) j["reason"] = NoPlanSummary(r);
  // How many of the top plans are within plan 1's range: a tie the model cannot break.
  j["tied_plans"] = TiedPlans(specs.cluster, r.plans);
  ordered_json pruned = ordered_json::object();
  for (int i = 1; i < static_cast<int>(Reason::kCount); ++i) {
    pruned[ReasonName(static_cast<Reason>(i))] = r.stats.pruned[i];
  }
  j["search"] = {{"evaluated", r.stats.evaluated},
                 {"feasible", r.stats.feasible},
                 {"pruned", pruned},
                 {"min_shortfall_bytes", Bytes(r.stats.min_shortfall_bytes)},
                 {"seconds", r.stats.seconds},
                 {"threads", r.stats.threads}};
  return j;
}

std::string SearchJson(const Specs& specs, const SearchResult& r, const CostInput& cost) {
  return SearchJsonValue(specs, r, cost, {}).dump(2) + "\n";
}

ordered_json EvaluationJsonValue(const Specs& specs, const Evaluation& e, const CostInput& cost,
                                 const PlanJsonOptions& options) {
  ordered_json j;
  j["inputs"] = InputsJson(specs);
  j["plan"] = PlanJson(specs, e, cost, options);
  return j;
}

std::string EvaluationJson(const Specs& specs, const Evaluation& e, const CostInput& cost) {
  return EvaluationJsonValue(specs, e, cost, {}).dump(2) + "\n";
}

}  // namespace planner
