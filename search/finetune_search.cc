#include "planner/search/finetune_search.h"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace planner {
namespace {

constexpr int64_t kMostGpus = 1024;
constexpr int kOffloadOptimizer = 1;
constexpr int kOffloadParams = 2;

bool Torchtune(const FinetuneQuery& q) {
  return q.setup.framework == FinetuneFramework::kTorchtune;
}

// GPU counts to try: powers of two up to the given count and the count itself; without one,
// powers of two up to kMostGpus (the search stops at the first count where a plan fits).
std::vector<int64_t> GpuCounts(const FinetuneQuery& q) {
  if (q.exact_gpus && q.gpus > 0) return {q.gpus};
  std::vector<int64_t> out;
  const int64_t most = q.gpus > 0 ? q.gpus : kMostGpus;
  for (int64_t n = 1; n <= most; n *= 2) out.push_back(n);
  if (out.back() != most) out.push_back(most);
  return out;
}

// Tensor parallelism: torchtune's distributed recipes have it (tensor_parallel_dim), inside a
// node, splitting the query and KV heads evenly; PEFT with the Trainer has none.
std::vector<int> TpSizes(const Model& m, const Cluster& c, const FinetuneQuery& q, int64_t n) {
  if (q.tp > 0) return {q.tp};
  std::vector<int> out{1};
  if (!Torchtune(q)) return out;
  for (int tp = 2; tp <= c.gpus_per_node && tp <= n; tp *= 2) {
    if (n % tp == 0 && m.heads % tp == 0 && m.kv_heads % tp == 0) out.push_back(tp);
  }
  return out;
}

std::vector<Sharding> Shardings(const FinetuneQuery& q) {
  if (!q.shardings.empty()) return q.shardings;
  if (Torchtune(q)) return {Sharding::kNone, Sharding::kFsdp};
  return {Sharding::kNone,  Sharding::kZero1, Sharding::kZero2,
          Sharding::kZero3, Sharding::kFsdp,  Sharding::kFsdpGradOp};
}

std::vector<int> Offloads(const FinetuneQuery& q) {
  if (q.offload >= 0) return {q.offload};
  return {0, kOffloadOptimizer, kOffloadOptimizer | kOffloadParams};
}

std::vector<Checkpointing> CheckpointingChoices(const FinetuneQuery& q) {
  if (!q.checkpointing.empty()) return q.checkpointing;
  return {Checkpointing::kNone, Checkpointing::kSelective, Checkpointing::kFull};
}

// The adapter settings to try, each with alpha = 2 x rank (the ratio of the default 16 / 32 and
// of torchtune's recipes); methods without adapters take the base's one.
std::vector<FinetunePlan> AdapterChoices(const FinetuneQuery& q, FinetuneMethod method) {
  if (method != FinetuneMethod::kLora && method != FinetuneMethod::kQlora) return {q.base};
  const std::vector<int> ranks =
      q.lora_ranks.empty() ? std::vector<int>{q.base.lora_rank} : q.lora_ranks;
  const std::vector<AdapterTargets> targets =
      q.adapter_targets.empty() ? std::vector<AdapterTargets>{q.base.targets} : q.adapter_targets;
  std::vector<FinetunePlan> out;
  for (const int r : ranks) {
    for (const AdapterTargets& t : targets) {
      FinetunePlan p = q.base;
      p.lora_rank = r, p.targets = t;
      if (!q.lora_ranks.empty()) p.lora_alpha = 2 * r;
      out.push_back(p);
    }
  }
  return out;
}

std::vector<int> MicroBatches(const FinetuneQuery& q, int64_t per_rank) {
  if (q.micro_batch > 0) return {q.micro_batch};
  std::vector<int> out;
  for (int b = 1; b <= 64 && b <= per_rank; b *= 2) {
    if (per_rank % b == 0) out.push_back(b);
  }
  return out.empty() ? std::vector<int>{1} : out;
}

// What the frameworks run: ZeRO-Offload moves optimizer states with any ZeRO stage and weights
// with stage 3 only; FSDP's CPUOffload moves weights, gradients and states together; torchtune
// shards with FSDP2 only and fuses the optimizer into backward on one device only.
bool Supported(const FinetunePlan& p, const FinetuneQuery& q) {
  const bool fsdp = p.sharding == Sharding::kFsdp || p.sharding == Sharding::kFsdpGradOp;
  const bool zero3 = p.sharding == Sharding::kZero3;
  if (p.offload_params && !(zero3 || p.sharding == Sharding::kFsdp)) return false;
  if (p.offload_optimizer && p.sharding == Sharding::kNone) return false;
  if (fsdp && p.offload_optimizer != p.offload_params) return false;
  // One GPU: sharding only carries offload (ZeRO-Offload runs on one GPU).
  if (p.dp == 1 && p.sharding != Sharding::kNone && !p.offload_optimizer) return false;
  if (p.dp > 1 && p.sharding == Sharding::kNone && Torchtune(q)) return false;
  if (q.setup.optimizer_in_backward && p.gpus > 1) return false;
  if (p.tp > 1 && !Torchtune(q)) return false;
  // DeepSpeed's bf16 mode keeps fp32 master partitions whatever the model's dtype: pure bf16
  // runs without ZeRO (DDP, FSDP).
  const bool zero = p.sharding == Sharding::kZero1 || p.sharding == Sharding::kZero2 || zero3;
  if (q.setup.master == MasterWeights::kNone && zero && !Torchtune(q)) return false;
  return true;
}

// Time to train the data (or per token without a data size); with a price, GPU-seconds.
double RankKey(const FinetuneEvaluation& e, const FinetuneQuery& q) {
  if (e.time.tokens_per_s <= 0) return 1e300;
  const double seconds = e.train_s > 0 ? e.train_s : 1.0 / e.time.tokens_per_s;
  return q.price_per_gpu_hour > 0 ? seconds * e.plan.gpus : seconds;
}

auto PlanKey(const FinetuneEvaluation& e) {
  const FinetunePlan& p = e.plan;
  return std::make_tuple(p.gpus, static_cast<int>(p.sharding), p.offload_optimizer,
                         p.offload_params, static_cast<int>(p.checkpointing), p.tp, -p.micro_batch,
                         static_cast<int>(p.method), p.lora_rank, AdapterTargetsName(p.targets));
}

}  // namespace

const char* FinetuneReasonName(FinetuneReason r) {
  switch (r) {
    case FinetuneReason::kFits: return "fits";
    case FinetuneReason::kUnsupported: return "unsupported";
    case FinetuneReason::kIndivisible: return "indivisible";
    case FinetuneReason::kOutOfMemory: return "out_of_memory";
    case FinetuneReason::kHostMemory: return "host_memory";
    case FinetuneReason::kCount: break;
  }
  return "?";
}

FinetuneEvaluation EvaluateFinetunePlan(const Model& m, const Cluster& c, const FinetunePlan& p,
                                        const FinetuneQuery& q) {
  FinetuneEvaluation e{.plan = p};
  const FinetuneSetup& s = q.setup;
  if (!Supported(p, q)) {
    e.reason = FinetuneReason::kUnsupported;
    return e;
  }
  if (s.global_batch % (static_cast<int64_t>(p.dp) * p.micro_batch) != 0 ||
      m.heads % p.tp != 0 || m.kv_heads % p.tp != 0) {
    e.reason = FinetuneReason::kIndivisible;
    return e;
  }
  e.memory = FinetuneMemoryOf(m, c, p, s);
  const double host = s.host_bytes_per_node > 0 ? s.host_bytes_per_node : c.HostBytesPerNode();
  if (e.memory.peak() > c.gpu.usable_bytes()) {
    e.reason = FinetuneReason::kOutOfMemory;
  } else if (e.memory.host_bytes > host) {
    e.reason = FinetuneReason::kHostMemory;
  }
  e.time = FinetuneTimeOf(m, c, p, s);
  if (s.dataset_tokens > 0 && e.time.tokens_per_s > 0) {
    e.train_s = s.dataset_tokens * s.epochs / e.time.tokens_per_s;
    e.gpu_hours = e.train_s * p.gpus / 3600.0;
    e.cost = e.gpu_hours * q.price_per_gpu_hour;
  }
  return e;
}

namespace {

// Every candidate of one GPU count, in a fixed order.
std::vector<FinetunePlan> Candidates(const Model& m, const Cluster& c, const FinetuneQuery& q,
                                     int64_t n) {
  std::vector<FinetunePlan> out;
  std::vector<std::pair<FinetuneMethod, FinetunePlan>> bases;
  for (const FinetuneMethod method : q.methods) {
    for (const FinetunePlan& b : AdapterChoices(q, method)) bases.emplace_back(method, b);
  }
  for (const auto& [method, base] : bases) {
    for (const int tp : TpSizes(m, c, q, n)) {
      if (n % tp != 0) continue;
      const int dp = static_cast<int>(n / tp);
      const int64_t per_rank = std::max<int64_t>(1, q.setup.global_batch / dp);
      for (const Sharding sh : Shardings(q)) {
        for (const int off : Offloads(q)) {
          for (const Checkpointing ck : CheckpointingChoices(q)) {
            for (const int mb : MicroBatches(q, per_rank)) {
              FinetunePlan p = base;
              p.method = method;
              if (method == FinetuneMethod::kQlora) p.base_weights = BaseWeights::kNf4;
              p.gpus = static_cast<int>(n), p.tp = tp, p.dp = dp, p.sharding = sh;
              p.offload_optimizer = (off & kOffloadOptimizer) != 0;
              p.offload_params = (off & kOffloadParams) != 0;
              p.checkpointing = ck, p.micro_batch = mb;
              p.grad_accum = static_cast<int>(std::max<int64_t>(1, per_rank / mb));
              out.push_back(p);
            }
          }
        }
      }
    }
  }
  return out;
}

bool RanksBefore(const FinetuneEvaluation& a, const FinetuneEvaluation& b,
                 const FinetuneQuery& q) {
  const double ka = RankKey(a, q), kb = RankKey(b, q);
  if (ka != kb) return ka < kb;
  if (a.memory.peak() != b.memory.peak()) return a.memory.peak() < b.memory.peak();
  return PlanKey(a) < PlanKey(b);
}

// The rows of the answer: the best plan of each GPU count, method, sharding, offload and tensor
// parallelism; with several adapter settings, the best of each adapter setting instead, so that
// every rank and target set asked for is shown beside the others.
using PlanGroup = std::tuple<int, int, bool, bool, int, int, int, std::string>;
PlanGroup KeyOf(const FinetunePlan& p, const FinetuneQuery& q) {
  if (q.lora_ranks.size() > 1 || q.adapter_targets.size() > 1) {
    return {p.gpus,      static_cast<int>(p.method),   false, false, 0, 0,
            p.lora_rank, AdapterTargetsName(p.targets)};
  }
  return {p.gpus,           static_cast<int>(p.method),   p.offload_optimizer,
          p.offload_params, static_cast<int>(p.sharding), p.tp,
          p.lora_rank,      AdapterTargetsName(p.targets)};
}

}  // namespace

FinetuneResult SearchFinetune(const Model& m, const Cluster& c, const FinetuneQuery& q) {
  FinetuneResult r;
  std::map<PlanGroup, FinetuneEvaluation> best;
  for (const int64_t n : GpuCounts(q)) {
    const std::vector<FinetunePlan> plans = Candidates(m, c, q, n);
    std::vector<FinetuneEvaluation> scored(plans.size());
    // Each plan is scored alone into its own slot: the same answer for any thread count.
    tbb::parallel_for(size_t{0}, plans.size(), [&](size_t i) {
      scored[i] = EvaluateFinetunePlan(m, c, plans[i], q);
    });
    for (const FinetuneEvaluation& e : scored) {
      ++r.evaluated;
      ++r.pruned[static_cast<int>(e.reason)];
      const bool scored_memory = e.reason != FinetuneReason::kUnsupported &&
                                 e.reason != FinetuneReason::kIndivisible;
      if (scored_memory && (r.smallest.memory.peak() == 0 ||
                            e.memory.peak() < r.smallest.memory.peak())) {
        r.smallest = e;
      }
      if (!e.feasible()) continue;
      const auto key = KeyOf(e.plan, q);
      const auto it = best.find(key);
      if (it == best.end() || RanksBefore(e, it->second, q)) best.insert_or_assign(key, e);
    }
    if (q.gpus == 0 && !best.empty()) break;  // the fewest GPUs that fit
  }
  for (const auto& [key, e] : best) r.plans.push_back(e);
  std::sort(r.plans.begin(), r.plans.end(),
            [&](const FinetuneEvaluation& a, const FinetuneEvaluation& b) {
              return RanksBefore(a, b, q);
            });
  if (r.plans.size() > static_cast<size_t>(std::max(1, q.top))) r.plans.resize(q.top);
  return r;
}

}  // namespace planner
