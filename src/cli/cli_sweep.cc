// The `sweep` and `merge` subcommands: many searches from one file, and joining sharded parts.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>

#include "cli_common.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/render/calibration_output.h"
#include "planner/sweep/sweep.h"
#include "planner/sweep/sweep_report.h"
#include "planner/model/text.h"

namespace planner {
namespace po = boost::program_options;
namespace {

using Clock = std::chrono::steady_clock;

const char* const kSweepUsage =
    "planner sweep FILE --out DIR [--shard K/N] [--threads N] [--show N]\n"
    "              [--report FILE.html]\n"
    "  Searches every scenario of FILE (README, \"Sweeps\"): one line each in\n"
    "  DIR/results.jsonl, one row each in DIR/summary.csv. Run it again with the same\n"
    "  arguments to resume. --shard K/N runs part K of N (1 <= K <= N; scenario i,\n"
    "  from 0, is in part i % N + 1); join the parts with:\n"
    "  planner merge DIR1 DIR2 ... --out DIR\n\n";

const char* const kMergeUsage =
    "planner merge DIR1 DIR2 ... --out DIR [--report FILE.html]\n"
    "  Joins the output directories of a sharded sweep; fails naming any scenario\n"
    "  missing or given twice.\n\n";

std::string Duration(double s) {
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return std::to_string(t / 3600) + " h " + std::to_string(t / 60 % 60) + " min";
  if (t >= 60) return std::to_string(t / 60) + " min " + std::to_string(t % 60) + " s";
  return std::to_string(t) + " s";
}

// Scenarios done / total, rate and time left: a bar redrawn in place on a terminal, a plain line
// every 10 s otherwise (a log file, a Slurm job's output).
class ProgressReport {
 public:
  ProgressReport(std::ostream& err, bool terminal) : err_(err), terminal_(terminal) {}

  void Update(const SweepProgress& p) {
    const Clock::time_point now = Clock::now();
    if (!started_) {
      started_ = true;
      start_ = last_ = now;
      if (!terminal_) {
        err_ << "planner sweep: " << p.total << " scenarios, " << p.resumed << " done before, "
             << p.total - p.resumed << " to search\n";
      }
      return;
    }
    const bool last = p.done == p.total;
    if (!last &&
        now - last_ < (terminal_ ? std::chrono::milliseconds(100) : std::chrono::seconds(10))) {
      return;
    }
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(p.done - p.resumed) / elapsed : 0;
    std::string left = "done in " + Duration(elapsed);
    if (!last) {
      left = rate > 0 ? Duration(static_cast<double>(p.total - p.done) / rate) + " left" : "";
    }
    if (terminal_) {
      constexpr int kWidth = 30;
      const int filled = p.total > 0 ? static_cast<int>(kWidth * p.done / p.total) : kWidth;
      err_ << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
           << p.done << "/" << p.total << "  " << Printf("%.1f", rate) << " scenarios/s  " << left
           << "   " << std::flush;
      drawn_ = true;
    } else {
      err_ << "planner sweep: " << p.done << "/" << p.total << " scenarios, "
           << Printf("%.1f", rate) << " scenarios/s" << (left.empty() ? "" : ", " + left) << "\n";
    }
  }
  void Finish() {
    if (drawn_) err_ << "\n";
  }

 private:
  std::ostream& err_;
  bool terminal_;
  bool started_ = false;
  bool drawn_ = false;
  Clock::time_point start_{}, last_{};
};

// What the run did: scenarios, those resumed, the rate, the repaired lines, where results went.
void PrintSweepSummary(std::ostream& out, const std::string& file, size_t scenarios,
                       const Shard& shard, const SweepRunResult& r, double seconds,
                       const std::string& out_dir) {
  const int64_t searched = r.progress.done - r.progress.resumed;
  out << "Sweep " << file << ": " << scenarios << " scenarios";
  if (shard.n > 1) out << ", " << r.progress.total << " in shard " << ShardName(shard);
  out << "; " << r.progress.resumed << " done before, ";
  if (searched == 0) {
    out << "nothing left to search\n";
  } else {
    out << searched << " searched in " << Printf("%.2f", seconds) << " s ("
        << Printf("%.1f", static_cast<double>(searched) / std::max(seconds, 1e-9))
        << " scenarios/s)\n";
  }
  if (r.dropped_lines > 0) {
    out << r.dropped_lines << " torn or repeated lines from an interrupted run were dropped"
        << " and their scenarios searched again\n";
  }
  out << "Results: " << out_dir << "/results.jsonl, " << out_dir << "/summary.csv\n";
}

// Every scenario costed with the file's constants; the file's text joins the sweep's hash, so a
// sweep resumed with other constants starts afresh instead of mixing results.
void ApplyCalibration(SweepSpec& spec, const std::string& path) {
  spec.defaults.calibration = path;
  for (Scenario& s : spec.listed) s.input.calibration = path;
  spec.hash = HashHex(spec.hash + ReadTextFile(path, "--calibration"));
}

}  // namespace

int RunSweepCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string file, out_dir, report_file, shard_text = "1/1", calibration;
  int threads = 0;
  int show = 10;
  bool help = false;
  po::options_description d("planner sweep options");
  d.add_options()
      ("file", po::value(&file), "the sweep JSON file (the first argument)")
      ("out", po::value(&out_dir), "directory for manifest.json, results.jsonl, summary.csv")
      ("shard", po::value(&shard_text), "run part K of N, 1 <= K <= N (default 1/1)")
      ("threads", po::value(&threads), "worker threads (default: all cores)")
      ("show", po::value(&show), "clusters per model in each ranking (default 10)")
      ("calibration", po::value(&calibration),
       "constants from `planner calibrate --out FILE` for every scenario (all on its GPU)")
      ("help,h", po::bool_switch(&help), "this help");
  AddReportOption(d, report_file);
  po::positional_options_description positional;
  positional.add("file", 1);
  ParseOptions(args, d, &positional);
  if (help) {
    out << kSweepUsage << d;
    return 0;
  }
  if (file.empty()) throw InputError("FILE", "is required: planner sweep FILE --out DIR");
  if (out_dir.empty()) throw InputError("--out", "is required: the directory for the results");
  const Shard shard = ParseShard(shard_text);
  if (threads < 0 || threads > 1024) throw InputError("--threads", "must be 0 (all cores) to 1024");
  if (show < 0) throw InputError("--show", "must not be negative");
  // Every scenario is checked before any is searched.
  SweepSpec spec = ParseSweepFile(file);
  if (!calibration.empty()) ApplyCalibration(spec, calibration);
  const ScenarioSet scenarios(spec, LoadSweepCatalog(spec));

  ProgressReport report(err, &err == &std::cerr && ::isatty(STDERR_FILENO) == 1);
  const Clock::time_point start = Clock::now();
  const SweepRunResult r = RunSweep(
      spec, scenarios,
      {.out_dir = out_dir, .shard = shard, .threads = threads,
       .on_progress = [&](const SweepProgress& p) { report.Update(p); }});
  report.Finish();
  PrintSweepSummary(out, file, static_cast<size_t>(scenarios.size()), shard, r,
                    std::chrono::duration<double>(Clock::now() - start).count(), out_dir);
  if (shard.n > 1) out << "This shard only; join the parts with planner merge.\n";
  const std::vector<SweepRow>& rows = r.rows;
  PrintSweepRanking(out, rows, show);
  // One cluster per GPU the results name: the constants' provenance is the GPU's (and the
  // --calibration file's), so the scenarios need not all be resolved again.
  std::vector<Cluster> clusters;
  std::set<std::string> seen;
  for (const SweepRow& row : rows) {
    if (seen.insert(row.gpu).second) clusters.push_back(scenarios.At(row.scenario).specs.cluster);
  }
  out << ProvenanceSummary(clusters);
  if (!report_file.empty()) {
    const std::string title = "Sweep " + file + (shard.n > 1 ? ", shard " + ShardName(shard) : "") +
                              ": days to train against cost, per model";
    WriteReport(report_file, SweepReportHtml(rows, title, CommandLine("sweep", args)));
  }
  return 0;
}

int RunMergeCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::vector<std::string> dirs;
  std::string out_dir, report_file;
  int show = 10;
  bool help = false;
  po::options_description d("planner merge options");
  d.add_options()
      ("dirs", po::value(&dirs)->composing(), "the parts' output directories (the arguments)")
      ("out", po::value(&out_dir), "a new directory for the joined output")
      ("show", po::value(&show), "clusters per model in each ranking (default 10)")
      ("help,h", po::bool_switch(&help), "this help");
  AddReportOption(d, report_file);
  po::positional_options_description positional;
  positional.add("dirs", -1);
  ParseOptions(args, d, &positional);
  if (help) {
    out << kMergeUsage << d;
    return 0;
  }
  if (dirs.empty()) {
    throw InputError("DIR", "give the parts: planner merge DIR1 DIR2 ... --out DIR");
  }
  if (out_dir.empty()) throw InputError("--out", "is required: a new directory for the output");
  if (show < 0) throw InputError("--show", "must not be negative");
  const std::vector<ResultLine> lines = MergeSweeps(dirs, out_dir);
  out << "Merged " << dirs.size() << " parts: " << lines.size() << " scenarios in " << out_dir
      << "/results.jsonl, " << out_dir << "/summary.csv\n";
  const std::vector<SweepRow> rows = SweepRows(lines);
  PrintSweepRanking(out, rows, show);
  if (!report_file.empty()) {
    const std::string title = "Sweep merged from " + std::to_string(dirs.size()) +
                              " parts: days to train against cost, per model";
    WriteReport(report_file, SweepReportHtml(rows, title, CommandLine("merge", args)));
  }
  return 0;
}

}  // namespace planner
