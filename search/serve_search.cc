#include "planner/search/serve_search.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "planner/cost/queueing.h"

namespace planner {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Tensor-parallel sizes an engine runs: powers of two that split the attention heads, inside one
// node (vLLM, SGLang and TensorRT-LLM shard heads evenly; TP across nodes is not worth its
// all-reduces at decode's message sizes).
std::vector<int> TpSizes(const Model& m, const Cluster& c, const ServeQuery& q) {
  if (q.tp > 0) return {q.tp};
  if (q.ep > 1) return {q.ep};  // EP = TP
  std::vector<int> out;
  for (int tp = 1; tp <= c.gpus_per_node; tp *= 2) {
    if (m.heads % tp == 0 && (q.gpus == 0 || q.gpus % tp == 0)) out.push_back(tp);
  }
  return out;
}

// Expert parallelism spans the replica's tensor-parallel group (EP = TP, whole experts per
// rank) or is off; dense models have none.
std::vector<int> EpSizes(const Model& m, int tp, const ServeQuery& q) {
  if (q.ep > 0) return {q.ep};
  if (!IsMoe(m) || tp <= 1 || m.experts % tp != 0) return {1};
  return {1, tp};
}

std::vector<int> PpSizes(const Model& m, int tp, const ServeQuery& q) {
  if (q.pp > 0) return {q.pp};
  std::vector<int> out;
  for (int pp = 1; pp <= 8 && pp <= m.layers; pp *= 2) {
    if (q.gpus == 0 || q.gpus % (static_cast<int64_t>(tp) * pp) == 0) out.push_back(pp);
  }
  return out;
}

// The (pp, ep) pairs of one tensor-parallel size.
std::vector<std::pair<int, int>> SplitsOf(const Model& m, int tp, const ServeQuery& q) {
  std::vector<std::pair<int, int>> out;
  for (const int pp : PpSizes(m, tp, q)) {
    for (const int ep : EpSizes(m, tp, q)) out.emplace_back(pp, ep);
  }
  return out;
}

// Batches per replica worth scoring: the one the load fixes, else powers of two up to what the
// KV cache holds, and that maximum itself.
std::vector<int64_t> Batches(int64_t max_sequences, int64_t fixed) {
  if (fixed > 0) return {fixed};
  std::vector<int64_t> out;
  for (int64_t b = 1; b <= max_sequences; b *= 2) out.push_back(b);
  if (max_sequences > 0 && (out.empty() || out.back() != max_sequences)) {
    out.push_back(max_sequences);
  }
  if (out.empty()) out.push_back(1);  // scored, and judged out of memory
  return out;
}

// Seconds a request holds its batch slot: the replica's cycle, the whole batch's prefill and one
// decode step per further output token, since the other requests' prompts are computed between
// its decode steps (so a slot turns over at the replica's throughput, prompts included).
double SlotSeconds(const ServeQuery& q, const ServeEvaluation& e) {
  return e.time.prefill + std::max<int64_t>(0, q.setup.output_tokens - 1) * e.time.decode_step;
}

void SetQueue(const ServeQuery& q, ServeEvaluation& e) {
  const double per_replica = q.request_rate / e.plan.replicas;
  const double service = SlotSeconds(q, e);
  e.utilization = per_replica * service / static_cast<double>(e.plan.batch);
  e.queue_wait_s = MeanQueueWaitSeconds(e.plan.batch, per_replica, service);
}

// Replicas: as many as the GPUs give, as fixed, or as the load needs: enough slots for the
// concurrency, fewer than the slots' load (utilization < 1), and with a TTFT target, enough that
// the mean wait for a slot plus the prefill meets it (at most 4x the replicas the load needs).
int64_t ReplicasFor(const ServeQuery& q, const ServeEvaluation& e) {
  if (q.replicas > 0) return q.replicas;
  const int64_t per_replica = static_cast<int64_t>(e.plan.tp) * e.plan.pp;
  if (q.gpus > 0) return q.gpus / per_replica;
  int64_t replicas = 1;
  if (q.concurrency > 0) replicas = CeilDiv(q.concurrency, e.plan.batch);
  if (q.request_rate <= 0) return replicas;
  const double busy_slots = q.request_rate * SlotSeconds(q, e);
  replicas = std::max<int64_t>(
      replicas, static_cast<int64_t>(std::floor(busy_slots / static_cast<double>(e.plan.batch))) + 1);
  if (q.ttft_target_s <= 0) return replicas;
  ServeEvaluation trial = e;
  for (const int64_t most = 4 * replicas; replicas < most; ++replicas) {
    trial.plan.replicas = static_cast<int>(replicas);
    SetQueue(q, trial);
    if (trial.time.ttft + trial.queue_wait_s <= q.ttft_target_s) break;
  }
  return replicas;
}

// The replicas the load needs, the wait for a slot at the request rate, and the TTFT target
// judged with that wait.
void ApplyLoad(const ServeQuery& q, ServeEvaluation& e) {
  e.plan.replicas = static_cast<int>(std::max<int64_t>(1, ReplicasFor(q, e)));
  e.gpus = int64_t{e.plan.tp} * e.plan.pp * e.plan.replicas;
  if (q.request_rate <= 0) return;
  SetQueue(q, e);
  if (e.reason != ServeReason::kFits) return;
  if (e.utilization >= 1.0) {
    e.reason = ServeReason::kOverloaded;
  } else if (q.ttft_target_s > 0 && e.time.ttft + e.queue_wait_s > q.ttft_target_s) {
    e.reason = ServeReason::kTtft;
  }
}

bool RanksBefore(const ServeEvaluation& a, const ServeEvaluation& b) {
  if (a.tokens_per_s_per_gpu != b.tokens_per_s_per_gpu) {
    return a.tokens_per_s_per_gpu > b.tokens_per_s_per_gpu;
  }
  const auto key = [](const ServeEvaluation& e) {
    return std::make_tuple(e.gpus, e.plan.tp, e.plan.pp, e.plan.ep, e.plan.batch,
                           static_cast<int>(e.plan.weights), static_cast<int>(e.plan.kv));
  };
  return key(a) < key(b);
}

// Plans no other beats on both per-user and per-GPU throughput, fastest user first.
std::vector<ServeEvaluation> ParetoFront(std::vector<ServeEvaluation> all) {
  std::sort(all.begin(), all.end(), [](const ServeEvaluation& a, const ServeEvaluation& b) {
    if (a.tokens_per_s_per_user != b.tokens_per_s_per_user) {
      return a.tokens_per_s_per_user > b.tokens_per_s_per_user;
    }
    return RanksBefore(a, b);
  });
  std::vector<ServeEvaluation> front;
  for (const ServeEvaluation& e : all) {
    if (front.empty() || e.tokens_per_s_per_gpu > front.back().tokens_per_s_per_gpu) {
      front.push_back(e);
    }
  }
  return front;
}

}  // namespace

const char* ServeReasonName(ServeReason r) {
  switch (r) {
    case ServeReason::kFits: return "fits";
    case ServeReason::kIndivisible: return "indivisible";
    case ServeReason::kOutOfMemory: return "out_of_memory";
    case ServeReason::kTtft: return "ttft_target";
    case ServeReason::kTpot: return "tpot_target";
    case ServeReason::kOverloaded: return "overloaded";
    case ServeReason::kCount: break;
  }
  return "?";
}

ServeEvaluation EvaluateServePlan(const Model& m, const Cluster& c, const ServePlan& p,
                                  const ServeQuery& q) {
  ServeEvaluation e{.plan = p};
  e.memory = ServingMemoryOf(m, c.gpu, p, q.setup);
  e.time = ServingTimeOf(m, c, p, q.setup);
  e.gpus = static_cast<int64_t>(p.tp) * p.pp * p.replicas;
  e.tokens_per_s_per_gpu = e.time.tokens_per_s / (p.tp * p.pp);
  e.tokens_per_s_per_user = e.time.decode_step > 0 ? 1.0 / e.time.decode_step : 0.0;
  const bool ep_splits = p.ep == 1 || (IsMoe(m) && p.ep == p.tp && m.experts % p.ep == 0);
  if (m.heads % p.tp != 0 || p.pp > m.layers || !ep_splits) {
    e.reason = ServeReason::kIndivisible;
  } else if (e.memory.max_sequences < p.batch) {
    e.reason = ServeReason::kOutOfMemory;
  } else if (q.ttft_target_s > 0 && e.time.ttft > q.ttft_target_s) {
    e.reason = ServeReason::kTtft;
  } else if (q.tpot_target_s > 0 && e.time.decode_step > q.tpot_target_s) {
    e.reason = ServeReason::kTpot;
  }
  return e;
}

ServeResult SearchServing(const Model& m, const Cluster& c, const ServeQuery& q) {
  ServeResult r;
  std::vector<ServeEvaluation> fits;
  std::vector<ServeEvaluation> in_memory;
  for (const WeightFormat w : q.weights) {
    for (const Precision kv : q.kv) {
      for (const int tp : TpSizes(m, c, q)) {
        for (const auto& [pp, ep] : SplitsOf(m, tp, q)) {
          ServePlan p{.tp = tp, .pp = pp, .ep = ep, .weights = w, .kv = kv};
          const int64_t capacity = ServingMemoryOf(m, c.gpu, p, q.setup).max_sequences;
          int64_t fixed = 0;
          if (q.concurrency > 0 && q.gpus > 0) {
            const int64_t replicas = q.replicas > 0 ? q.replicas : q.gpus / (int64_t{tp} * pp);
            fixed = CeilDiv(q.concurrency, std::max<int64_t>(1, replicas));
          }
          for (const int64_t batch : Batches(capacity, fixed)) {
            p.batch = batch;
            p.replicas = 1;
            ServeEvaluation e = EvaluateServePlan(m, c, p, q);
            ApplyLoad(q, e);
            ++r.evaluated;
            ++r.pruned[static_cast<int>(e.reason)];
            if (e.reason != ServeReason::kOutOfMemory && e.reason != ServeReason::kIndivisible) {
              in_memory.push_back(e);
            }
            if (e.feasible()) fits.push_back(e);
          }
        }
      }
    }
  }
  std::sort(fits.begin(), fits.end(), RanksBefore);
  if (fits.size() > static_cast<size_t>(std::max(1, q.top))) fits.resize(std::max(1, q.top));
  r.plans = std::move(fits);
  r.pareto = ParetoFront(std::move(in_memory));
  return r;
}

}  // namespace planner
