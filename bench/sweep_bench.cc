// Scenarios per second of `planner sweep` on the example sweep (examples/sweep-288: 288
// searches), whole runs into a fresh directory: validation, searches, one synced line each.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "planner/sweep/sweep.h"

namespace {

namespace fs = std::filesystem;

struct Example {
  planner::SweepSpec spec =
      planner::ParseSweepFile(PLANNER_SOURCE_DIR "/examples/sweep-288/sweep.json");
  std::vector<planner::Scenario> scenarios =
      planner::ExpandScenarios(spec, planner::LoadSweepCatalog(spec));
};

// Arg: worker threads, 0 for all cores.
void BM_Sweep288(benchmark::State& state) {
  const Example example;
  const fs::path dir =
      fs::temp_directory_path() / ("planner_sweep_bench_" + std::to_string(::getpid()));
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(dir);
    state.ResumeTiming();
    planner::RunSweep(example.spec, example.scenarios,
                      {.out_dir = dir.string(), .threads = static_cast<int>(state.range(0))});
  }
  fs::remove_all(dir);
  state.counters["scenarios_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * static_cast<int64_t>(example.scenarios.size())),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sweep288)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// Parsing and validating the 288 scenarios (BuildSpecs each), the work done before any search.
void BM_Expand288(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Example{});
  state.SetItemsProcessed(state.iterations() * 288);
}
BENCHMARK(BM_Expand288)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
