// Scenarios per second of `planner sweep` on the example sweep (examples/sweep-288: 288
// searches), whole runs into a fresh directory: validation, searches, one synced line each.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "planner/model/error.h"
#include "planner/sweep/sweep.h"

namespace {

namespace fs = std::filesystem;

struct Example {
  planner::SweepSpec spec =
      planner::ParseSweepFile(PLANNER_SOURCE_DIR "/examples/sweep-288/sweep.json");
  planner::ScenarioSet scenarios{spec, planner::LoadSweepCatalog(spec)};
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
      static_cast<double>(state.iterations() * example.scenarios.size()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sweep288)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// Parsing and validating the 288 scenarios (BuildSpecs each), the work done before any search.
void BM_Expand288(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Example{});
  state.SetItemsProcessed(state.iterations() * 288);
}
BENCHMARK(BM_Expand288)->Unit(benchmark::kMillisecond);

// A JSON array of `n` distinct integers from `first` in steps of `step`.
std::string Counts(int64_t first, int64_t n, int64_t step = 1) {
  std::string a = "[";
  for (int64_t i = 0; i < n; ++i) a += (i ? "," : "") + std::to_string(first + i * step);
  return a + "]";
}

// 2 models x 2 GPUs x `counts` GPU counts x 2 sequence lengths x 50 global batches.
planner::SweepSpec GridSweep(int64_t counts) {
  return planner::ParseSweepJson(
      R"({"models": ["llama2-7b", "llama3-8b"], "gpus": ["a100-80gb", "h100-sxm"], "gpu_counts": )" +
          Counts(8, counts, 8) + R"(, "seq_lens": [2048, 4096], "global_batches": )" +
          Counts(64, 50, 64) + "}",
      "grid.json");
}

// Checking (resolving, numbering, naming) a grid of 100,000 (Arg 250) or 1,000,000 (Arg 2500)
// scenarios: the work and memory before any search. Peak RSS: /usr/bin/time -v
// build/release/sweep_bench --benchmark_filter=Expand/2500.
void BM_Expand(benchmark::State& state) {
  const planner::SweepSpec spec = GridSweep(state.range(0));
  const planner::Catalog catalog = planner::LoadSweepCatalog(spec);
  for (auto _ : state) benchmark::DoNotOptimize(planner::ScenarioSet(spec, catalog));
  state.SetItemsProcessed(state.iterations() * 400 * state.range(0));
}
BENCHMARK(BM_Expand)->Arg(250)->Arg(2500)->Unit(benchmark::kMillisecond)->Iterations(1);

// A sweep of 10,000,001 scenarios is refused from its counts, before anything is expanded.
void BM_RefuseOverCap(benchmark::State& state) {
  const planner::SweepSpec spec = planner::ParseSweepJson(
      R"({"models": ["llama2-7b"], "gpus": ["h100-sxm"], "gpu_counts": )" + Counts(1, 10'000) +
          R"(, "seq_lens": )" + Counts(1, 1'000) +
          R"(, "scenarios": [{"model": "llama2-7b", "gpu": "h200", "gpus": 8}]})",
      "huge.json");
  const planner::Catalog catalog = planner::LoadSweepCatalog(spec);
  for (auto _ : state) {
    try {
      planner::ScenarioSet(spec, catalog);
      state.SkipWithError("not refused");
    } catch (const planner::InputError&) {
    }
  }
}
BENCHMARK(BM_RefuseOverCap)->Unit(benchmark::kMillisecond);

// A whole run of 100,000 scenarios (searches, lines, syncs, summary.csv), once: minutes, so
// only with --benchmark_filter=Sweep100k.
void BM_Sweep100k(benchmark::State& state) {
  const planner::SweepSpec spec = GridSweep(250);
  const planner::ScenarioSet scenarios(spec, planner::LoadSweepCatalog(spec));
  const fs::path dir =
      fs::temp_directory_path() / ("planner_sweep_bench_100k_" + std::to_string(::getpid()));
  for (auto _ : state) {
    fs::remove_all(dir);
    planner::RunSweep(spec, scenarios, {.out_dir = dir.string()});
  }
  fs::remove_all(dir);
  state.counters["scenarios_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * 100'000), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sweep100k)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
