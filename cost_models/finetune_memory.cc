// Fine-tuning memory of one GPU, term by term from each method's mechanism: frozen base weights
// at their precision, adapters with their gradients and optimizer states, saved activations,
// the logits and loss, QLoRA's dequantization buffer, and what offloading moves to the host.
#include <algorithm>

#include "planner/cost/finetune.h"
#include "planner/cost/memory_model.h"

namespace planner {
namespace {

constexpr double kGiB = 1073741824.0;

bool ShardsGrads(Sharding s) { return s != Sharding::kNone && s != Sharding::kZero1; }

// The layers whose weights train under kFreeze: LLaMA-Factory's freeze_trainable_layers
// default is 2 (counted from the top).
int64_t FrozenTopLayers(const Model& m, const FinetunePlan& p) {
  const int64_t n = p.trainable_layers > 0 ? p.trainable_layers : 2;
  return std::min<int64_t>(n, m.layers);
}

// LoRA adds A (in x r) and B (r x out) beside each adapted matrix (Hu et al. 2021).
double AdapterParamsOf(const Model& m, const FinetunePlan& p) {
  const double r = p.lora_rank;
  const double h = static_cast<double>(m.hidden);
  const AttentionShape a = AttentionOf(m);
  double per_layer = 0;
  const AdapterTargets& t = p.targets;
  if (t.q) per_layer += r * (h + a.q_width);
  if (t.k) per_layer += r * (h + a.k_width);
  if (t.v) per_layer += r * (h + a.v_width);
  if (t.o) per_layer += r * (a.out_width + h);
  if (p.targets.mlp) {
    const bool moe = IsMoe(m);
    const double f = static_cast<double>(moe ? ExpertFfnHidden(m) : m.ffn_hidden);
    const double mlps = moe ? static_cast<double>(m.experts + m.shared_experts) : 1.0;
    const double mats = IsGatedMlp(m) ? 3.0 : 2.0;
    per_layer += mlps * mats * r * (h + f);
  }
  return per_layer * static_cast<double>(m.layers);
}

// Bytes per trainable value as each framework keeps them. torchtune trains in pure bf16
// (weights, gradients and AdamW moments in bf16, no master copy: its recipes' dtype=bf16).
// Hugging Face: bf16 weights and gradients with an fp32 master copy in the optimizer (ZeRO's
// 2 + 2 + 12 bytes, Rajbhandari et al. 2020); PEFT keeps adapters in fp32
// (autocast_adapter_dtype=True), so they need no master copy.
// With MasterWeights::kNone (a bf16 model, bf16=True) the Trainer path is pure bf16 as well,
// adapters included (get_peft_model(..., autocast_adapter_dtype=False)).
struct TrainBytes {
  double weights = 2, gradients = 2, master = 0, state = 2;
};
TrainBytes TrainBytesOf(const FinetunePlan& p, const FinetuneSetup& s) {
  if (s.framework == FinetuneFramework::kTorchtune) return {};
  if (s.master == MasterWeights::kNone) return {};
  if (UsesAdapters(p.method)) return {.weights = 4, .gradients = 4, .master = 0, .state = 4};
  return {.weights = 2, .gradients = 2, .master = 4, .state = 4};
}

// GaLore keeps the moments of r x n projected gradients and an m x r projector per matrix
// (Zhao et al. 2024, Table 1): about 3 r / hidden fp32 values per weight of a linear layer.
double GaloreStateBytes(const Model& m, const FinetunePlan& p, double linear, double other,
                        const FinetuneSetup& s, double state) {
  const double adam = OptimizerBytesPerParam(s.optimizer, state, m.hidden);
  return linear * 12.0 * p.galore_rank / static_cast<double>(m.hidden) + other * adam;
}

}  // namespace

FinetuneParams FinetuneParamsOf(const Model& m, const FinetunePlan& p) {
  const ParamCounts c = CountParameters(m);
  const double layers = static_cast<double>(m.layers);
  FinetuneParams out;
  out.other = c.embedding + c.output + c.final_norm + c.norms_per_layer * layers;
  out.linear = c.total - out.other;
  const bool moe = IsMoe(m);
  const double f = static_cast<double>(moe ? ExpertFfnHidden(m) : m.ffn_hidden);
  const AttentionShape a = AttentionOf(m);
  out.largest_matrix = std::max(a.in_weights, static_cast<double>(m.hidden) * f);
  out.adapters = UsesAdapters(p.method) ? AdapterParamsOf(m, p) : 0.0;
  if (UsesAdapters(p.method)) {
    out.trainable = out.adapters;
  } else if (p.method == FinetuneMethod::kFreeze) {
    const double per_layer = (out.linear + c.norms_per_layer * layers) / layers;
    out.trainable = per_layer * static_cast<double>(FrozenTopLayers(m, p)) + c.output +
                    c.final_norm;
  } else {
    out.trainable = c.total;
  }
  return out;
}

double BaseBytesPerParam(BaseWeights b) {
  switch (b) {
    case BaseWeights::kBf16: return 2.0;
    case BaseWeights::kInt8: return 1.0;
    case BaseWeights::kNf4: return 0.5;
  }
  return 2.0;
}

double QuantConstantBytesPerParam(BaseWeights b, bool double_quant) {
  if (b != BaseWeights::kNf4) return 0.0;
  // QLoRA section 3: 32/64 bits without, 8/64 + 32/(64 * 256) = 0.127 bits with double quant.
  const double bits = double_quant ? 8.0 / 64.0 + 32.0 / (64.0 * 256.0) : 32.0 / 64.0;
  return bits / 8.0;
}

double OptimizerBytesPerParam(FinetuneOptimizer o, double state_bytes, int64_t hidden) {
  switch (o) {
    case FinetuneOptimizer::kAdamW: return 2.0 * state_bytes;
    case FinetuneOptimizer::kAdamW8bit:
    case FinetuneOptimizer::kPagedAdamW8bit: return 2.0;
    case FinetuneOptimizer::kAdafactor: return 4.0 * 2.0 / static_cast<double>(hidden);
    case FinetuneOptimizer::kSgd: return 0.0;
  }
  return 2.0 * state_bytes;
}

double TrainableStateBytes(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  const TrainBytes b = TrainBytesOf(p, s);
  return b.master + OptimizerBytesPerParam(s.optimizer, b.state, m.hidden);
}

double FinetuneMemory::peak() const {
  const double saved = activations - recomputed;
  const double loss = saved + logits_loss + loss_grads + loss_weights + root_grads;
  const double backward = recomputed + logits_held + root_grads + layer_grads +
                          (grads_freed ? saved + gradients : std::max(saved, gradients));
  return base_weights + quant_constants + adapters + optimizer + dequant_buffer + overhead +
         std::max(loss, backward);
}

namespace {

// One layer's activations as the forward pass leaves them, no checkpointing.
double LayerBytes(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  const double tokens = static_cast<double>(s.seq_len) * p.micro_batch;
  double bytes = LayerActivationBytes(m, s.seq_len, p.micro_batch, p.tp, false, Recompute::kNone,
                                      true);
  if (!s.compile) bytes += EagerActivationBytes(m, tokens, p.tp);
  // LoRA keeps x A (tokens x r, 16-bit) of every adapted matrix for B's gradient.
  const AdapterTargets& t = p.targets;
  const double adapted = t.q + t.k + t.v + t.o + (t.mlp ? 3.0 : 0.0);
  if (UsesAdapters(p.method)) bytes += adapted * tokens * p.lora_rank * 2.0;
  return bytes;
}

// Saved activations of the layers backward reaches, and the layer being recomputed. Freeze
// stops backward at the lowest trained layer, so the layers below keep nothing.
void AddActivations(const Model& m, const FinetunePlan& p, const FinetuneSetup& s,
                    FinetuneMemory& mem) {
  const double layer = LayerBytes(m, p, s);
  const double layers = static_cast<double>(
      p.method == FinetuneMethod::kFreeze ? FrozenTopLayers(m, p) : m.layers);
  double saved = layer;  // kNone
  if (p.checkpointing == Checkpointing::kFull) {
    saved = LayerActivationBytes(m, s.seq_len, p.micro_batch, p.tp, false, Recompute::kFull,
                                 true);
  } else if (p.checkpointing == Checkpointing::kSelective) {
    saved = OpCheckpointBytes(m, s.seq_len, p.micro_batch, p.tp);
  }
  const double working = p.checkpointing == Checkpointing::kNone ? 0.0 : layer;
  mem.recomputed = working;
  if (p.offload_activations) {
    // torchtune streams saved activations to pinned host memory; about two layers' worth are in
    // flight on the GPU while the copies run.
    mem.activations = working + 2.0 * saved;
    mem.host_activations = saved * layers;
  } else {
    mem.activations = working + saved * layers;
  }
  // Logits and loss per token and vocabulary entry: unchunked, the bf16 logits (2), their fp32
  // copy kept by log-softmax (4) and its fp32 gradient (4); chunked (torchtune's
  // CEWithChunkedOutputLoss), the bf16 logits and, in eager mode, the fp32 copy of every chunk,
  // which compiled cross-entropy recomputes instead.
  // A loop that keeps `logits[..., :-1, :].contiguous()` in a variable (torchtune 0.1's recipes,
  // recipes/full_finetune_distributed.py at 0217d44c) holds that fp32 copy, 4 bytes, through the
  // loss and the whole backward.
  const double values = static_cast<double>(s.seq_len) * p.micro_batch *
                        static_cast<double>(m.vocab) / p.tp;
  const double per_value = s.chunked_loss ? (s.compile ? 2.0 : 6.0) : 10.0;
  mem.logits_held = s.logits_copy && !s.chunked_loss ? 4.0 * values : 0.0;
  mem.logits_loss = values * per_value + mem.logits_held;
}

// What FSDP holds beyond the shards and the two gathered layers. The root unit (the parameters
// no decoder layer holds) is gathered for the forward and kept until backward ends: FSDP1 does
// not reshard the root after forward (torch/distributed/fsdp/_runtime_utils.py,
// _post_forward_reshard), and fully_shard's root gets reshard_after_forward=False (torchtune
// training/_distributed.py, shard_model). Hugging Face's TRANSFORMER_BASED_WRAP leaves the
// embeddings, final norm and LM head in it, so their unsharded copy, and with full fine-tuning
// the root's whole flat gradient from the loss on, stay for the step. torchtune's files as the
// planner writes them shard an untied model's embeddings and output on their own
// (ShardsEmbeddingsApart): the output layer is gathered for the loss, next to the one decoder
// layer prefetched for backward.
void AddFsdpUnits(const Model& m, const FinetunePlan& p, const FinetuneSetup& s,
                 double layer_weights, FinetuneMemory& mem) {
  const ParamCounts c = CountParameters(m);
  const TrainBytes b = TrainBytesOf(p, s);
  const bool trained = TrainsBase(p.method) || p.method == FinetuneMethod::kFreeze;
  const double bytes = (trained ? b.weights : 2.0) / p.tp;
  const double unsharded = 1.0 - 1.0 / static_cast<double>(p.dp);
  const bool grads_held = trained && !mem.grads_freed;
  // Backward makes each trained layer's gradient whole before reduce-scattering it, in its own
  // stream while the next layer's backward runs: two layers' unsharded gradients at a time.
  if (grads_held) mem.layer_grads = 2.0 * layer_weights / b.weights * b.gradients;
  if (ShardsEmbeddingsApart(s.framework, m.tied_embeddings)) {
    mem.loss_weights = std::max(0.0, c.output * bytes * unsharded - layer_weights);
    return;
  }
  const double root = c.embedding + c.output + c.final_norm;
  // With parameters offloaded the shard is on the host, so the whole gathered copy is new.
  mem.base_weights += root * bytes * (p.offload_params ? 1.0 : unsharded);
  if (grads_held) {
    mem.root_grads = root * b.gradients / p.tp * unsharded;  // its shard comes after
    mem.loss_grads = 0.0;  // the output layer's gradient is part of the root's
  }
}

// Weights, gradients and optimizer states of one GPU under the plan's sharding and offload.
void AddStates(const Model& m, const FinetunePlan& p, const FinetuneSetup& s,
               const FinetuneParams& n, double gpus_in_node, FinetuneMemory& mem) {
  const TrainBytes b = TrainBytesOf(p, s);
  const double dp = p.dp;
  const double w_shard = (ShardsParams(p.sharding) ? dp : 1.0) * p.tp;
  const double base_bytes = TrainsBase(p.method) || p.method == FinetuneMethod::kFreeze
                                ? n.linear * b.weights + n.other * b.weights
                                : n.linear * BaseBytesPerParam(p.base_weights) + n.other * 2.0;
  const double resident = base_bytes / w_shard;
  mem.quant_constants =
      n.linear * QuantConstantBytesPerParam(p.base_weights, p.double_quant) / w_shard;
  mem.adapters = n.adapters * b.weights / w_shard;
  double optimizer = n.trainable * TrainableStateBytes(m, p, s);
  if (p.method == FinetuneMethod::kGalore) {
    optimizer = GaloreStateBytes(m, p, n.linear, n.other, s, b.state) + n.trainable * b.master;
  }
  optimizer /= (p.sharding == Sharding::kNone ? 1.0 : dp) * p.tp;
  double grads = n.trainable * b.gradients / ((ShardsGrads(p.sharding) ? dp : 1.0) * p.tp);
  // Optimizer in backward frees each gradient once applied: the largest tensor's remains.
  if (s.optimizer_in_backward) {
    const double largest = TrainsBase(p.method)
                               ? static_cast<double>(m.vocab * m.hidden)
                               : n.largest_matrix;
    grads = std::min(grads, largest * b.gradients / p.tp);
  }
  mem.gradients = grads;
  mem.grads_freed = s.optimizer_in_backward;
  // The loss's backward writes the output layer's gradient while the logits' gradients are
  // still alive; unsharded until reduced.
  const bool trains_output = TrainsBase(p.method) || p.method == FinetuneMethod::kFreeze;
  mem.loss_grads =
      trains_output ? static_cast<double>(m.vocab * m.hidden) * b.gradients / p.tp : 0.0;
  if (p.offload_optimizer) {
    // ZeRO-Offload keeps fp32 states and the gradients on the host: the GPU streams each
    // gradient bucket out as backward produces it (about two of the largest matrices).
    mem.host_bytes += (optimizer + grads) * gpus_in_node;
    mem.optimizer = 0.0;
    mem.gradients = std::min(grads, 2.0 * n.largest_matrix * b.gradients / p.tp);
  } else {
    mem.optimizer = optimizer;
  }
  // Sharded weights are gathered one layer (FSDP unit) at a time, the next prefetched.
  const double layer_weights = base_bytes / static_cast<double>(m.layers) / p.tp;
  const double gathered = ShardsParams(p.sharding) && dp > 1 ? 2.0 * layer_weights : 0.0;
  if (p.offload_params) {
    mem.host_bytes += resident * gpus_in_node;
    mem.base_weights = gathered > 0 ? gathered : 2.0 * layer_weights;
  } else {
    mem.base_weights = resident + gathered;
  }
  if (p.sharding == Sharding::kFsdp && dp > 1) AddFsdpUnits(m, p, s, layer_weights, mem);
}

}  // namespace

FinetuneMemory FinetuneMemoryOf(const Model& m, const Cluster& c, const FinetunePlan& p,
                                const FinetuneSetup& s) {
  const FinetuneParams n = FinetuneParamsOf(m, p);
  FinetuneMemory mem;
  // Host memory is per node: the GPUs of the plan in one node share it.
  const double gpus_in_node = static_cast<double>(std::min<int64_t>(p.gpus, c.gpus_per_node));
  AddStates(m, p, s, n, gpus_in_node, mem);
  AddActivations(m, p, s, mem);
  mem.host_bytes += mem.host_activations * gpus_in_node;
  // QLoRA dequantizes one weight at a time to bf16 for its matmul; the next one's copy may
  // already be allocated (bitsandbytes dequantize_4bit output, freed after use).
  if (p.base_weights == BaseWeights::kNf4 && !TrainsBase(p.method)) {
    mem.dequant_buffer = 2.0 * n.largest_matrix * 2.0 / p.tp;
  }
  // cuBLAS workspaces and the caching allocator's slack over activations (PyTorch's reserved -
  // allocated is 5-15 % in training); NCCL's buffers when more than one GPU talks.
  mem.overhead = 0.05 * (mem.activations + mem.logits_loss) + (p.gpus > 1 ? 0.25 * kGiB : 0.0);
  return mem;
}

}  // namespace planner
