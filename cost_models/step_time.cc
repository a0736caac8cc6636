#include "planner/cost/step_time.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "planner/cost/activation_offload.h"
#include "planner/cost/collectives.h"
#include "planner/cost/framework.h"
#include "device.h"
#include "planner/cost/memory_model.h"
#include "planner/cost/recompute_layers.h"
#include "planner/cost/zero3.h"

namespace planner {

namespace {

// The forward work of the pipeline's slowest stage for one micro-batch, by kind.
struct StageForward {
  const ForwardCosts& f;
  double layers = 0;     // layers of the stage
  double moe_share = 0;  // share of them with a MoE MLP
  double logits = 0;     // the output layer, when the stage runs it
  // Multi-token-prediction modules, when the stage runs them (the last): each is one more
  // layer, MoE in a MoE model (DeepSeek-V3 sec. 2.2), and one more pass of the shared output
  // head (counted in `logits`). Its 2h -> h projection is under 1 % of the layer and left out.
  double mtp = 0;

  double Mix(double LayerCost::*field) const {
    return layers * ((1.0 - moe_share) * f.dense.*field + moe_share * f.moe.*field) +
           mtp * f.moe.*field;  // f.moe is f.dense in a dense model
  }
  double Compute() const {
    return Mix(&LayerCost::gemm) + Mix(&LayerCost::attention) + Mix(&LayerCost::elementwise) +
           logits;
  }
  double Comm() const { return Mix(&LayerCost::tp_comm) + Mix(&LayerCost::cp_comm); }
  double Ep() const { return Mix(&LayerCost::ep_comm); }
};

// The slowest stage sets the pace: the last one runs the output layer beside its layers, an
// uneven split can give another stage more layers.
StageForward SlowestStage(const Model& m, const Plan& p, const ForwardCosts& f) {
  const int last = p.pp - 1;
  const double moe_share = IsMoe(m) ? static_cast<double>(MoeLayers(m)) / m.layers : 0.0;
  const LayerCost& dense = f.dense;
  const LayerCost& moe = f.moe;
  const double layer_time = (1.0 - moe_share) * (dense.gemm + dense.attention + dense.elementwise) +
                            moe_share * (moe.gemm + moe.attention + moe.elementwise);
  const double mtp = static_cast<double>(m.mtp_layers);
  StageForward stage{.f = f,
                     .layers = static_cast<double>(StageLayers(m, p, last)),
                     .moe_share = moe_share,
                     .logits = (1.0 + mtp) * f.logits,
                     .mtp = mtp};
  const double mtp_time = mtp * (moe.gemm + moe.attention + moe.elementwise);
  const double busiest_other =
      static_cast<double>(std::max(StageLayers(m, p, 0), p.pp > 2 ? StageLayers(m, p, 1) : 0));
  if (p.pp > 1 &&
      busiest_other * layer_time > stage.layers * layer_time + stage.logits + mtp_time) {
    stage.layers = busiest_other;
    stage.logits = 0.0;
    stage.mtp = 0.0;
  }
  return stage;
}

// Seconds of one micro-batch on the slowest stage, by kind.
struct MicroBatchTime {
  double compute = 0;
  double recompute = 0;
  double comm = 0;  // tensor- and context-parallel collectives
  double ep = 0;    // expert-parallel all-to-all
  double Total() const { return compute + recompute + comm + ep; }
};

MicroBatchTime MicroBatchOf(const Plan& p, const TrainingSetup& s, const StageForward& stage) {
  const double fwd_compute = stage.Compute();
  const double fwd_comm = stage.Comm();
  const double fwd_ep = stage.Ep();
  double recompute = 0;
  double recompute_comm = 0;
  if (p.recompute == Recompute::kFull) {
    // The block method reruns only its recomputed layers' forward and collectives.
    const double share = RecomputedShare(p, stage.layers);
    recompute = (fwd_compute - stage.logits) * share;
    recompute_comm = (fwd_comm + fwd_ep) * share;
  } else if (p.recompute == Recompute::kSelective && s.framework == Framework::kTorchtitan) {
    // Op-level checkpointing recomputes every other matmul and all element-wise work.
    recompute = 0.5 * stage.Mix(&LayerCost::gemm) + stage.Mix(&LayerCost::elementwise);
  } else if (p.recompute == Recompute::kSelective && !s.flash_attention) {
    recompute = stage.Mix(&LayerCost::attention);
  }
  // Backward does twice the forward's work and repeats its collectives. Launch gaps and host
  // work stretch the compute by a share fitted per architecture, unless CUDA graphs replay it.
  const double overhead = 1.0 + (s.cuda_graphs ? 0.0 : stage.f.eff.step_overhead);
  return MicroBatchTime{.compute = 3.0 * fwd_compute * overhead,
                        .recompute = recompute * overhead,
                        .comm = 2.0 * fwd_comm + recompute_comm,
                        .ep = 2.0 * fwd_ep};
}

// Activations cross each stage boundary forward and their gradients backward; with
// interleaving v times as often. Megatron sends 1/t of the tensor (scatter/gather).
double PipelineSendSeconds(const Model& m, const Cluster& c, const Plan& p,
                           const TrainingSetup& s, const Efficiency& eff) {
  if (p.pp <= 1) return 0.0;
  const double tokens = static_cast<double>(s.seq_len) / p.cp * p.micro_batch;
  const double h = static_cast<double>(m.hidden);
  const Path path = RingPath(c, 2, static_cast<int64_t>(p.tp) * p.cp * p.dp, eff.link);
  const double send = SendSeconds(tokens * h * BytesPerActivation(s.precision) / p.tp,
                                  path.bytes_per_s, path.latency_s);
  // Overlapped sends hide behind the next chunk's compute except while the pipeline fills and
  // drains.
  const double exposed_sends =
      s.comm_overlap ? p.pp - 1.0 : p.grad_accum * p.virtual_stages + p.pp - 1.0;
  return 2.0 * exposed_sends * send;
}

// What DeepSpeed's ZeRO-3 walk needs of the slowest stage: its model, layers, the largest
// layer's parameters per GPU and one layer's forward seconds.
struct ZeroStage {
  const Model& m;
  double layers = 0;
  double layer_params = 0;
  double layer_forward_s = 0;
};

// The stage's facts when DeepSpeed's ZeRO-3 walk applies, else nothing (std::nullopt).
std::optional<ZeroStage> ZeroStageOf(const Model& m, const Plan& p, const TrainingSetup& s,
                                     const StageForward& stage) {
  if (p.zero_stage < 3 || !FactsOf(s.framework).zero3_gathers_submodules || stage.layers <= 0) {
    return std::nullopt;
  }
  const double layer_s = (stage.Compute() - stage.logits) / stage.layers;
  return ZeroStage{.m = m,
                   .layers = stage.layers,
                   .layer_params = LayerParameters(m, CountParameters(m), p),
                   .layer_forward_s = layer_s * (1.0 + stage.f.eff.step_overhead)};
}

// DeepSpeed ZeRO-3: per micro-batch, the gathers and reduce-scatters of the layers' matrices
// left exposed by its prefetch (cost_models/zero3.cc), and the rest of the stage's
// parameters (embedding, output layer) gathered for the forward, any recomputation and the
// backward and reduce-scattered, on the path without compute to hide behind.
double DeepSpeedZero3Seconds(const ZeroStage& z, const Plan& p, const TrainingSetup& s,
                             const Path& path, const StateBytes& per_param, double params) {
  const int ranks = p.dp * p.cp;
  const Zero3Link link{.ranks = ranks, .bytes_per_s = path.bytes_per_s,
                       .latency_s = path.latency_s};
  const double layers_s = DeepSpeedZero3ExposedSeconds(
      z.m, p, s, z.layer_params, z.layers, z.layer_forward_s, per_param.weights,
      per_param.gradients, link);
  const double rest = std::max(0.0, params - z.layers * z.layer_params);
  // Forward and backward, and the recomputed forward of the recomputed layers' share.
  const double gathers = 2.0 + RecomputedShare(p, z.layers);
  const double rest_s =
      gathers * AllGatherSeconds(rest * per_param.weights, ranks, path.bytes_per_s,
                                 path.latency_s) +
      AllGatherSeconds(rest * per_param.gradients, ranks, path.bytes_per_s, path.latency_s);
  return p.grad_accum * (layers_s + rest_s);
}

// Data parallelism: gradients of this GPU's parameters, reduced over the data- and
// context-parallel ranks together (Megatron) once per step, less what overlaps the backward.
double DataParallelSeconds(const Cluster& c, const Plan& p, const TrainingSetup& s,
                           const Efficiency& eff, const StateBytes& per_param, double params,
                           double per_mb_compute, const std::optional<ZeroStage>& stage) {
  const int dp_cp = p.dp * p.cp;  // ranks that hold the same parameters
  if (dp_cp <= 1) return 0.0;
  const double accum = p.grad_accum;
  const Path path = RingPath(c, dp_cp, p.tp, eff.link);
  const double bw = path.bytes_per_s;
  const double grad_bytes = params * per_param.gradients;
  const double weight_bytes = params * per_param.weights;
  double comm = 0;
  if (p.zero_stage == 0) {
    comm = AllReduceSeconds(grad_bytes, dp_cp, bw, path.latency_s);
  } else if (p.zero_stage <= 2) {
    // Reduce-scatter the gradients, all-gather the updated 16-bit weights.
    comm = AllGatherSeconds(grad_bytes, dp_cp, bw, path.latency_s) +
           AllGatherSeconds(weight_bytes, dp_cp, bw, path.latency_s);
  } else if (stage.has_value()) {
    return DeepSpeedZero3Seconds(*stage, p, s, path, per_param, params);
  } else {
    // ZeRO-3 gathers the weights for every micro-batch's forward and backward; gradients are
    // reduce-scattered once per step (Megatron) or after every micro-batch (DeepSpeed, FSDP2).
    const double reduces = FactsOf(s.framework).zero3_reduce_per_micro_batch ? accum : 1.0;
    comm = accum * 2.0 * AllGatherSeconds(weight_bytes, dp_cp, bw, path.latency_s) +
           reduces * AllGatherSeconds(grad_bytes, dp_cp, bw, path.latency_s);
  }
  // With overlap, buckets are reduced while the last micro-batch's backward runs (ZeRO-3
  // prefetches weights during every micro-batch).
  double window = 0;
  if (s.overlap_grad_reduce) {
    window = (2.0 / 3.0) * per_mb_compute * (p.zero_stage >= 3 ? accum : 1.0);
  }
  return std::max(0.0, comm - window);
}

// The optimizer reads and writes master weights, moments and gradients over this GPU's shard.
double OptimizerSeconds(const Cluster& c, const Plan& p, const Efficiency& eff,
                        const StateBytes& per_param, double params) {
  const double hbm = c.gpu.hbm_bytes_per_s * eff.hbm;
  const double shard = p.zero_stage >= 1 ? params / (p.dp * p.cp) : params;
  return shard * (per_param.optimizer + per_param.gradients + per_param.weights) * 2.0 / hbm;
}

// offload_optimizer: the CPU steps the GPU's shard after the backward and the 16-bit weights
// are copied back before the next forward (stage3.py step: _optimizer_step then
// _reassign_or_swap_out_partitioned_parameters, sub-group by sub-group, not overlapped).
// The gradient shard's copy to the host runs on the reduce stream during the backward
// (overlap_comm) and is not counted.
double OffloadedOptimizerSeconds(const Cluster& c, const Plan& p, const StateBytes& per_param,
                                 double params) {
  const double shard = p.zero_stage >= 1 ? params / (p.dp * p.cp) : params;
  const OptimizerOffload o =
      OptimizerOffloadSeconds(c, shard, per_param.gradients, per_param.weights);
  return o.cpu_step_s + o.to_gpu_s;
}

}  // namespace

TimeBreakdown StepTime(const Model& m, const Cluster& c, const Plan& p, const TrainingSetup& s) {
  const ParamCounts counts = CountParameters(m);
  const double params = std::max({StageParameters(m, counts, p, 0),
                                  p.pp > 2 ? StageParameters(m, counts, p, 1) : 0.0,
                                  StageParameters(m, counts, p, p.pp - 1)});
  return StepTimeFrom(m, c, p, s, ForwardPass(m, c, p, s), params);
}

TimeBreakdown StepTimeFrom(const Model& m, const Cluster& c, const Plan& p,
                           const TrainingSetup& s, const ForwardCosts& f, double params) {
  const StageForward stage = SlowestStage(m, p, f);
  const MicroBatchTime per_mb = MicroBatchOf(p, s, stage);
  const double accum = p.grad_accum;
  TimeBreakdown t;
  t.compute = accum * per_mb.compute;
  t.recompute = accum * per_mb.recompute;
  t.tp_comm = accum * per_mb.comm;
  t.ep_comm = accum * per_mb.ep;
  // Pipeline fill and drain: (p - 1) / v micro-batch slots (Narayanan et al. 2021, section 2.2).
  t.bubble = (p.pp - 1.0) / p.virtual_stages * per_mb.Total();
  t.pp_comm = PipelineSendSeconds(m, c, p, s, f.eff);
  const StateBytes per_param = StateBytesPerParam(s);
  t.dp_comm = DataParallelSeconds(c, p, s, f.eff, per_param, params, per_mb.compute,
                                  ZeroStageOf(m, p, s, stage));
  t.optimizer = s.offload_optimizer ? OffloadedOptimizerSeconds(c, p, per_param, params)
                                    : OptimizerSeconds(c, p, f.eff, per_param, params);
  if (p.offload_activation_layers > 0 && stage.layers > 0) {
    const double layer_forward_s = (stage.Compute() - stage.logits) / stage.layers;
    t.offload = accum * ActivationOffloadSeconds(c.gpu, p, static_cast<int64_t>(stage.layers),
                                                 PlanLayerActivationBytes(m, p, s),
                                                 layer_forward_s);
  }
  return t;
}

}  // namespace planner
