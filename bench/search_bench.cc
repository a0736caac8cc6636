// Candidate evaluations per second of the search, per thread count, for the headline search
// (llama2-70b on 2048 RTX 4090s) and gpt3-175b on 1024 A100 80GB.
//   build/release/search_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include "planner/search/search.h"
#include "planner/input/specs.h"

namespace planner {
namespace {

Specs MakeSpecs(const char* model, int64_t gpus, const char* gpu) {
  return BuildSpecs(SpecInput{.model = model, .gpu = gpu, .gpus = gpus}, BuiltinCatalog());
}

void RunSearch(benchmark::State& state, const Specs& specs) {
  const SearchOptions options{.threads = static_cast<int>(state.range(0))};
  int64_t evaluated = 0;
  int64_t scored = 0;  // went through memory and step time, not only the structural checks
  for (auto _ : state) {
    const SearchResult r = Search(specs.model, specs.cluster, specs.setup, options);
    benchmark::DoNotOptimize(r.plans.data());
    evaluated += r.stats.evaluated;
    scored += r.stats.feasible + r.stats.pruned[static_cast<int>(Reason::kOutOfMemory)];
  }
  state.counters["scored_per_s"] = benchmark::Counter(static_cast<double>(scored),
                                                      benchmark::Counter::kIsRate);
  state.counters["candidates"] = static_cast<double>(evaluated) / state.iterations();
  state.counters["evals_per_s"] = benchmark::Counter(static_cast<double>(evaluated),
                                                     benchmark::Counter::kIsRate);
  state.counters["evals_per_s_per_thread"] = benchmark::Counter(
      static_cast<double>(evaluated) / state.range(0), benchmark::Counter::kIsRate);
}

void BM_HeadlineLlama2_70bOn2048Rtx4090(benchmark::State& state) {
  RunSearch(state, MakeSpecs("llama2-70b", 2048, "4090"));
}
void BM_Gpt3_175bOn1024A100(benchmark::State& state) {
  RunSearch(state, MakeSpecs("gpt3-175b", 1024, "a100-80gb"));
}

BENCHMARK(BM_HeadlineLlama2_70bOn2048Rtx4090)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpt3_175bOn1024A100)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace planner

BENCHMARK_MAIN();
