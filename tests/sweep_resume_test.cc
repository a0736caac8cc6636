// Sweep runs on disk: resume after a torn line or a SIGKILL, shards and merge equal one run.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "planner/cli/cli.h"
#include "planner/model/error.h"
#include "planner/sweep/sweep.h"
#include "test_util.h"

namespace planner {
namespace {

namespace fs = std::filesystem;

// This process's scratch directory, removed when the tests end.
fs::path Scratch() {
  return fs::path(testing::TempDir()) / ("planner_sweep_test_" + std::to_string(::getpid()));
}
class RemoveScratch : public testing::Environment {
 public:
  void TearDown() override { fs::remove_all(Scratch()); }
};
const testing::Environment* const kRemoveScratch =
    testing::AddGlobalTestEnvironment(new RemoveScratch);

// A fresh, empty path under the scratch directory.
std::string FreshDir(const std::string& name) {
  const fs::path dir = Scratch() / name;
  fs::remove_all(dir);
  fs::create_directories(Scratch());
  return dir.string();
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines of a file, sorted: the comparison the issue asks for ("order aside").
std::vector<std::string> SortedLines(const fs::path& path) {
  std::vector<std::string> lines;
  std::istringstream in(Read(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}


// 3 models x 2 GPUs x 2 counts = 12 small scenarios: a whole run takes well under a second.
struct Small {
  SweepSpec spec = ParseSweepJson(R"({
    "models": ["llama2-7b", "llama3-8b", "llama2-13b"],
    "gpus": ["a100-80gb", "h100-sxm"],
    "gpu_counts": [16, 32],
    "prices": {"a100-80gb": 1.8, "h100-sxm": 2.9}
  })", "small.json");
  ScenarioSet scenarios{spec, LoadSweepCatalog(spec)};

  SweepRunResult Run(const std::string& dir, Shard shard = {}, int threads = 0) const {
    return RunSweep(spec, scenarios, {.out_dir = dir, .shard = shard, .threads = threads});
  }
};

TEST(SweepRun, OneThreadEqualsManyAndEachScenarioHasOneLine) {
  const Small small;
  const std::string one = FreshDir("one_thread"), many = FreshDir("many_threads");
  small.Run(one, {}, 1);
  small.Run(many, {}, 0);  // all cores
  const std::vector<std::string> lines = SortedLines(fs::path(one) / "results.jsonl");
  EXPECT_EQ(lines.size(), static_cast<size_t>(small.scenarios.size()));
  EXPECT_EQ(lines, SortedLines(fs::path(many) / "results.jsonl"));
  EXPECT_EQ(Read(fs::path(one) / "summary.csv"), Read(fs::path(many) / "summary.csv"));
  // A second run finds everything done and searches nothing.
  const SweepRunResult again = small.Run(one);
  EXPECT_EQ(again.progress.resumed, small.scenarios.size());
  EXPECT_EQ(lines, SortedLines(fs::path(one) / "results.jsonl"));
}

TEST(SweepRun, ResumeDropsATornLastLineAndRedoesItsScenario) {
  const Small small;
  const std::string whole = FreshDir("whole"), torn = FreshDir("torn");
  small.Run(whole);
  const std::vector<std::string> expected = SortedLines(fs::path(whole) / "results.jsonl");
  small.Run(torn);
  // A crash mid-write: 5 complete lines, then half of the sixth with no "\n".
  const fs::path results = fs::path(torn) / "results.jsonl";
  const std::string text = Read(results);
  size_t cut = 0;
  for (int i = 0; i < 5; ++i) cut = text.find('\n', cut) + 1;
  const size_t next = text.find('\n', cut);
  std::ofstream(results, std::ios::binary | std::ios::trunc)
      << text.substr(0, cut) + text.substr(cut, (next - cut) / 2);
  const SweepRunResult r = small.Run(torn);
  EXPECT_EQ(r.dropped_lines, 1);
  EXPECT_EQ(r.progress.resumed, 5);
  EXPECT_EQ(SortedLines(results), expected);

  // A whole line whose "\n" never reached the disk counts as torn too: it is redone, not doubled.
  const std::string complete = Read(results);
  std::ofstream(results, std::ios::binary | std::ios::trunc)
      << complete.substr(0, complete.size() - 1);
  EXPECT_EQ(small.Run(torn).dropped_lines, 1);
  EXPECT_EQ(SortedLines(results), expected);
}

TEST(SweepRun, RefusesADirectoryOfAnotherSweepOrShard) {
  const Small small;
  const std::string dir = FreshDir("other");
  small.Run(dir, ParseShard("1/2"));
  InputError e = ErrorOf([&] { small.Run(dir, ParseShard("2/2")); });
  EXPECT_EQ(e.where(), "--out");
  EXPECT_NE(std::string(e.what()).find("holds shard 1/2"), std::string::npos) << e.what();
  const SweepSpec other = ParseSweepJson(
      R"({"models": ["llama2-7b"], "gpus": ["h100-sxm"], "gpu_counts": [16]})", "other.json");
  e = ErrorOf([&] {
    RunSweep(other, ScenarioSet(other, LoadSweepCatalog(other)), {.out_dir = dir});
  });
  EXPECT_EQ(e.where(), "--out");
  EXPECT_NE(std::string(e.what()).find("different sweep"), std::string::npos) << e.what();

  // Another run holding the directory's lock, as a second `planner sweep` on it would.
  const int fd = ::open((fs::path(dir) / ".lock").c_str(), O_RDWR);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  e = ErrorOf([&] { small.Run(dir, ParseShard("1/2")); });
  EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  ::close(fd);
}

TEST(SweepMerge, ThreeShardsMergedEqualTheUnshardedRun) {
  const Small small;
  const std::string whole = FreshDir("merge_whole"), merged = FreshDir("merge_out");
  small.Run(whole);
  std::vector<std::string> parts;
  for (int k = 1; k <= 3; ++k) {
    parts.push_back(FreshDir("part" + std::to_string(k)));
    small.Run(parts.back(), {.k = k, .n = 3});
  }
  MergeSweeps(parts, merged);
  for (const char* file : {"results.jsonl", "summary.csv", "manifest.json"}) {
    EXPECT_EQ(SortedLines(fs::path(merged) / file), SortedLines(fs::path(whole) / file)) << file;
  }
  // summary.csv is in scenario order whatever order the lines were written in.
  EXPECT_EQ(Read(fs::path(merged) / "summary.csv"), Read(fs::path(whole) / "summary.csv"));

  InputError e = ErrorOf([&] { MergeSweeps({parts[0], parts[1]}, FreshDir("merge_missing")); });
  EXPECT_EQ(e.where(), "DIR");
  EXPECT_NE(std::string(e.what()).find("4 of 12 scenarios missing (2, 5, 8, 11)"),
            std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("shard 3/3"), std::string::npos) << e.what();
  e = ErrorOf([&] { MergeSweeps({parts[0], parts[1], parts[2], whole}, FreshDir("merge_twice")); });
  EXPECT_EQ(e.where(), whole);
  EXPECT_NE(std::string(e.what()).find("are also in"), std::string::npos) << e.what();
  EXPECT_FALSE(fs::exists(fs::path(FreshDir("merge_twice")) / "results.jsonl"));
}

// Replaces line `n` (1-based) of `path` with `edit` applied to its JSON.
void EditLine(const fs::path& path, int n, const std::function<void(nlohmann::json&)>& edit) {
  std::istringstream in(Read(path));
  std::string text;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    if (++number == n) {
      nlohmann::json j = nlohmann::json::parse(line);
      edit(j);
      line = j.dump();
    }
    text += line + "\n";
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Editing a model file between an interrupted run and its resume changes the sweep: the resume
// is refused (it went on and mixed two models' results under one name).
TEST(SweepRun, ResumeAfterAModelFileEditIsRefused) {
  const fs::path dir = FreshDir("model_edit");
  fs::create_directories(dir);
  const fs::path model = dir / "tiny.json";
  const std::string tiny = Read(PLANNER_SOURCE_DIR "/tests/data/planner_tiny_model.json");
  std::ofstream(model, std::ios::binary) << tiny;
  const std::string sweep = (dir / "sweep.json").string();
  const std::string text = R"({"models": ["tiny.json"], "gpus": ["h100-sxm"], "gpu_counts": [8]})";
  const auto run = [&] {
    const SweepSpec spec = ParseSweepJson(text, sweep);
    const ScenarioSet s(spec, LoadSweepCatalog(spec));
    RunSweep(spec, s, {.out_dir = (dir / "out").string()});
    return s.At(0).id;
  };
  const std::string before = run();
  std::string edited = tiny;
  edited.replace(edited.find("\"layers\": 4"), 11, "\"layers\": 8");
  std::ofstream(model, std::ios::binary | std::ios::trunc) << edited;
  const InputError e = ErrorOf(run);
  EXPECT_EQ(e.where(), "--out");
  EXPECT_NE(std::string(e.what()).find("model files changed"), std::string::npos) << e.what();
  const SweepSpec spec = ParseSweepJson(text, sweep);
  EXPECT_NE(ExpandScenarios(spec, LoadSweepCatalog(spec))[0].id, before);
}

// A results line is read back from disk, so it is input: valid JSON with a missing or mistyped
// field is refused naming the file, the line and the JSON path (it was an internal error, and
// every resume after it failed the same way).
TEST(SweepRun, ResultsLineWithMissingOrMistypedFieldsIsRefusedNamingLineAndPath) {
  const Small small;
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    const char* message;
  };
  const Case cases[] = {
      {[](nlohmann::json& j) { j.erase("inputs"); }, "line 3: inputs: expected an object"},
      {[](nlohmann::json& j) { j["inputs"]["gpus"] = "16"; },
       "line 3: inputs.gpus: expected an integer, got \"16\""},
      {[](nlohmann::json& j) { j["inputs"]["model"] = 7; }, "line 3: inputs.model: expected a string"},
      {[](nlohmann::json& j) { j["best"] = 1; }, "line 3: best: expected an object or null"},
      {[](nlohmann::json& j) { j["best"] = {{"tokens_per_s", nullptr}}; },
       "line 3: best.tokens_per_s: expected a number, got null"},
      {[](nlohmann::json& j) { j["best"] = {{"offload_activation_layers", "40"}}; },
       "line 3: best.offload_activation_layers: expected an integer, got \"40\""},
  };
  for (const Case& c : cases) {
    const std::string dir = FreshDir("bad_line");
    small.Run(dir);
    EditLine(fs::path(dir) / "results.jsonl", 3, c.edit);
    const InputError e = ErrorOf([&] { small.Run(dir); });
    EXPECT_EQ(e.where(), "--out");
    EXPECT_NE(std::string(e.what()).find("results.jsonl' " + std::string(c.message)),
              std::string::npos) << e.what();
  }
}

TEST(SweepRun, ManifestWithAFormatThatIsNotAStringIsRefused) {
  const Small small;
  const std::string dir = FreshDir("bad_format");
  small.Run(dir);
  const fs::path manifest = fs::path(dir) / "manifest.json";
  nlohmann::json j = nlohmann::json::parse(Read(manifest));
  for (const nlohmann::json& format : {nlohmann::json(5), nlohmann::json(nullptr)}) {
    j["format"] = format;
    std::ofstream(manifest, std::ios::trunc) << j.dump();
    const InputError e = ErrorOf([&] { small.Run(dir); });
    EXPECT_EQ(e.where(), "--out");
    EXPECT_NE(std::string(e.what()).find("is not a planner sweep manifest"), std::string::npos)
        << e.what();
  }
}

// A FIFO where a file is expected is refused at once; opening it to read would wait for a
// writer forever.
TEST(SweepRun, FifoInPlaceOfAStoreOrInputFileIsRefusedWithoutHanging) {
  const Small small;
  const std::string dir = FreshDir("fifo");
  small.Run(dir);
  for (const char* name : {"results.jsonl", "manifest.json"}) {
    const fs::path path = fs::path(dir) / name;
    const std::string saved = Read(path);
    fs::remove(path);
    ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
    const InputError e = ErrorOf([&] { small.Run(dir); });
    EXPECT_EQ(e.where(), "--out") << name;
    fs::remove(path);
    std::ofstream(path, std::ios::binary) << saved;
  }
  const fs::path fifo = fs::path(FreshDir("fifo_inputs")) / "in.json";
  fs::create_directories(fifo.parent_path());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(ErrorOf([&] { ParseSweepFile(fifo.string()); }).where(), fifo.string());
  const std::string sweep = (fifo.parent_path() / "sweep.json").string();
  // The model and catalog files are named relative to the sweep file.
  InputError e = ErrorOf([&] {
    const SweepSpec spec = ParseSweepJson(
        R"({"models": ["in.json"], "gpus": ["h200"], "gpu_counts": [8]})", sweep);
    ExpandScenarios(spec, LoadSweepCatalog(spec));
  });
  EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos) << e.what();
  e = ErrorOf([&] {
    ParseSweepJson(R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_counts": [8],
                       "catalogs": ["in.json"]})", sweep);
  });
  EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos) << e.what();
}

// A part whose results line is malformed is refused naming the part; --out gets nothing.
TEST(SweepMerge, PartWithABadFieldIsRefusedAndOutIsLeftAsItWas) {
  const Small small;
  std::vector<std::string> parts;
  for (int k = 1; k <= 2; ++k) {
    parts.push_back(FreshDir("bad_part" + std::to_string(k)));
    small.Run(parts.back(), {.k = k, .n = 2});
  }
  const std::string out = FreshDir("bad_merge_out");
  const std::vector<ResultLine> lines = MergeSweeps(parts, out);
  const std::string before = Read(fs::path(out) / "results.jsonl");
  EditLine(fs::path(parts[1]) / "results.jsonl", 2,
           [](nlohmann::json& j) { j["inputs"]["seq_len"] = 1.5; });
  const InputError e = ErrorOf([&] { MergeSweeps(parts, out); });
  EXPECT_EQ(e.where(), parts[1]);
  EXPECT_NE(std::string(e.what()).find("line 2: inputs.seq_len: expected an integer"),
            std::string::npos) << e.what();
  EXPECT_EQ(Read(fs::path(out) / "results.jsonl"), before);
  EXPECT_EQ(lines.size(), static_cast<size_t>(small.scenarios.size()));
}

// Runs the real binary with `args`, stdout and stderr to `log`; returns its pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {PLANNER_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (f != nullptr) ::dup2(::fileno(stdout), STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int ExitCode(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SweepRun, KilledPartWayAndRestartedEqualsAnUninterruptedRun) {
  const std::string file = PLANNER_SOURCE_DIR "/examples/sweep-288/sweep.json";
  const std::string whole = FreshDir("kill_whole"), killed = FreshDir("kill_part");
  const std::string log = FreshDir("kill_log") + ".txt";
  ASSERT_EQ(ExitCode(Spawn({"sweep", file, "--out", whole}, log)), 0) << Read(log);

  // One thread, so the run is slow enough to be caught part-way; SIGKILL once 20 lines exist.
  const pid_t pid = Spawn({"sweep", file, "--out", killed, "--threads", "1"}, log);
  const fs::path results = fs::path(killed) / "results.jsonl";
  // A guard against a hung child, not a speed assertion: the run takes a few seconds.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  int status = 0;
  bool exited = false;
  while (!(exited = ::waitpid(pid, &status, WNOHANG) == pid)) {
    const std::string text = Read(results);
    if (std::count(text.begin(), text.end(), '\n') >= 20) break;
    if (std::chrono::steady_clock::now() > give_up) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << "the sweep neither wrote 20 lines nor finished within 5 minutes";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  const bool interrupted = WIFSIGNALED(status);
  RecordProperty("interrupted", interrupted ? "yes" : "no (it finished first)");
  if (interrupted) {
    EXPECT_LT(SortedLines(results).size(), 288u);
  }

  ASSERT_EQ(ExitCode(Spawn({"sweep", file, "--out", killed}, log)), 0) << Read(log);
  const std::vector<std::string> expected = SortedLines(fs::path(whole) / "results.jsonl");
  EXPECT_EQ(expected.size(), 288u);
  EXPECT_EQ(SortedLines(results), expected);
  EXPECT_EQ(Read(fs::path(killed) / "summary.csv"), Read(fs::path(whole) / "summary.csv"));
}

TEST(SweepRun, BestPlanLabelNamesOffloadedLayers) {
  // A nemo plan that offloads 40 layers' activations reads "... off40" in the ranking.
  const Small small;
  const std::string dir = FreshDir("offload_label");
  small.Run(dir);
  std::istringstream lines(Read(fs::path(dir) / "results.jsonl"));
  std::string line;
  std::getline(lines, line);
  nlohmann::json j = nlohmann::json::parse(line);
  ASSERT_TRUE(j.at("best").is_object()) << line;
  j["best"]["recompute"] = "none";  // offload runs without recomputation
  const std::string before = SweepRows({{.scenario = j.at("scenario"), .text = j.dump()}})[0].plan;
  j["best"]["offload_activation_layers"] = 40;
  const std::vector<SweepRow> rows = SweepRows({{.scenario = j.at("scenario"), .text = j.dump()}});
  EXPECT_EQ(rows[0].plan, before + " off40");
}

}  // namespace
}  // namespace planner
