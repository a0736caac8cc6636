// The command line beyond bad input: usage, version and help, output that cannot be written,
// and what a successful run reports about itself.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "test_util.h"
#include "planner/input/sizes.h"
#include "planner/model/error.h"

namespace planner {
namespace {


TEST(Cli, NoArgumentsIsAUsageErrorOnStderr) {
  const Outcome r = Cli({});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("planner --model"), std::string::npos) << r.err;
}

TEST(Cli, VersionAndHelpExitZeroOnStdout) {
  const Outcome version = Cli({"--version"});
  EXPECT_EQ(version.rc, 0);
  EXPECT_EQ(version.out.rfind("planner ", 0), 0u) << version.out;
  for (const char* command : {"search", "evaluate", "memory", "list", "sweep", "merge"}) {
    const Outcome help = Cli({"help", command});
    EXPECT_EQ(help.rc, 0) << command << "\n" << help.err;
    EXPECT_NE(help.out.find("--help"), std::string::npos) << command << "\n" << help.out;
    EXPECT_TRUE(help.err.empty()) << command << "\n" << help.err;
  }
  const Outcome list = Cli({"list", "--help"});
  EXPECT_EQ(list.rc, 0) << list.err;
  EXPECT_NE(list.out.find("--format"), std::string::npos) << list.out;
}

// A stream whose every write fails, as stdout does on /dev/full.
class FullBuf : public std::streambuf {
 protected:
  int overflow(int) override { return traits_type::eof(); }
  std::streamsize xsputn(const char*, std::streamsize) override { return 0; }
};

TEST(Cli, OutputThatCannotBeWrittenIsAnError) {
  FullBuf full;
  std::ostream out(&full);
  std::ostringstream err;
  const int rc = RunCli({"list", "gpus", "--format", "json"}, out, err);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(err.str().rfind("planner: output: cannot write", 0), 0u) << err.str();
  EXPECT_EQ(err.str().find('\n'), err.str().size() - 1) << err.str();
}

TEST(Cli, ThreadsAboveTheCoresReportTheCountUsed) {
  const Outcome r = Cli({"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--threads",
                     "1024", "--format", "json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out.find("\"threads\": 1024"), std::string::npos) << r.out.substr(0, 2000);
}

TEST(Cli, ExplainShowsTheFormulasAndAnExamplePerReason) {
  const Outcome r = Cli({"--model", "llama2-70b", "--gpus", "64", "--gpu", "4090", "--explain"});
  EXPECT_NE(r.out.find("Formulas:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("out_of_memory: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("short by"), std::string::npos) << r.out;
}

// The ranked table fits a terminal of 80 columns (it was 98 to 149); --wide shows every column.
TEST(Cli, TheSearchTableFitsEightyColumns) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--model", "llama2-70b", "--gpus", "2048", "--gpu", "4090"},
        {"--model", "gpt3-175b", "--gpus", "1024", "--gpu", "a100-80gb"},
        {"--model", "mixtral-8x7b", "--gpus", "64", "--gpu", "h100-sxm"}}) {
    const Outcome r = Cli(args);
    ASSERT_EQ(r.rc, 0) << r.err;
    // Every line: the header sentence, the table, the footer's prose and the Megatron-LM
    // arguments (they were 139, 149, 114 and 97 columns before the prose was wrapped).
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_LE(line.size(), 80u) << line;
    }
    EXPECT_EQ(r.out.find("0.0 us"), std::string::npos) << r.out;
  }
  const Outcome wide = Cli({"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--wide"});
  EXPECT_NE(wide.out.find("VP"), std::string::npos) << wide.out;
}

// Every line of the catalog lists, the serving answer (its engine commands broken with
// backslashes) and the fine-tuning answer fits 80 columns; they were 114, 149, 92-254 and
// (lists) unaligned. So do evaluate's prose, memory's header line, the DeepSpeed preview and
// the usage texts (86-89 columns before).
TEST(Cli, ListServeAndFinetuneFitEightyColumns) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list", "models"},
        {"list", "gpus"},
        {"list", "links"},
        {"serve", "--model", "llama3-70b", "--gpu", "h100-sxm", "--input-tokens", "2048",
         "--output-tokens", "512", "--tpot-ms", "50"},
        {"serve", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--gpus", "8", "--input-tokens",
         "1024", "--output-tokens", "256", "--weights", "int4-gptq", "--kv-cache", "fp8"},
        {"finetune", "--model", "llama3-70b", "--method", "full", "--gpus", "64", "--gpu",
         "h100-sxm", "--dataset-tokens", "2e9", "--epochs", "3"},
        {"finetune", "--model", "llama3-8b", "--method", "qlora", "--gpu", "4090"},
        {"serve", "--model", "llama3-8b", "--gpu", "4090", "--input-tokens", "1024",
         "--output-tokens", "256"},
        {"evaluate", "--model", "llama2-70b", "--gpus", "64", "--gpu", "h100-sxm", "--tp", "8",
         "--pp", "4", "--train-tokens", "1e12", "--explain"},
        {"memory", "--model", "llama2-70b", "--mode", "inference", "--gpu", "a100-80gb"},
        {"--model", "llama2-70b", "--gpus", "64", "--gpu", "h100-sxm", "--framework",
         "deepspeed", "--explain"},
        {"--help"},
        {"sweep", "--help"}}) {
    const Outcome r = Cli(args);
    ASSERT_EQ(r.rc, 0) << r.err;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_LE(line.size(), 80u) << args[0] << ": " << line;
    }
  }
}

TEST(Cli, MoneyHasItsCurrencyAndThousandsSeparators) {
  const Outcome r = Cli({"--model", "llama2-70b", "--gpus", "2048", "--gpu", "h100-sxm",
                         "--train-tokens", "2e12", "--gpu-hour-cost", "2.5", "--currency", "EUR"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const size_t cost = r.out.find(", cost ");
  ASSERT_NE(cost, std::string::npos) << r.out;
  // The sentence may wrap: read it up to its end, not its line's.
  std::string figure = r.out.substr(cost, r.out.find(")\n", cost) - cost);
  std::replace(figure.begin(), figure.end(), '\n', ' ');
  EXPECT_NE(figure.find(','), std::string::npos) << figure;
  EXPECT_NE(figure.find(" EUR"), std::string::npos) << figure;
}

// One parser for sizes (src/input/sizes.cc): k, M, G, T are powers of 1000 for token counts,
// of 1024 for --seq-len (a "128k context" is 131072 tokens); Ki, Mi, ... are always binary.
TEST(Cli, SizesTakeSuffixes) {
  EXPECT_EQ(ParseSize("4M", "x", SiBase::kDecimal), 4e6);
  EXPECT_EQ(ParseSize("4Mi", "x", SiBase::kDecimal), 4194304);
  EXPECT_EQ(ParseSize("128k", "x", SiBase::kBinary), 131072);
  EXPECT_EQ(ParseSize("2T", "x", SiBase::kDecimal), 2e12);
  EXPECT_EQ(ParseSize("4096", "x", SiBase::kBinary), 4096);
  EXPECT_THROW(ParseSize("4X", "x", SiBase::kDecimal), InputError);
  EXPECT_THROW(ParseSize("M", "x", SiBase::kDecimal), InputError);
  const Outcome r = Cli({"--model", "llama3-8b", "--gpus", "64", "--gpu", "h100-sxm",
                         "--seq-len", "8k", "--tokens-per-batch", "4Mi", "--train-tokens", "2T",
                         "--format", "json", "--top", "1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["inputs"]["seq_len"], 8192);
  EXPECT_EQ(j["inputs"]["global_batch"], 512);  // 4Mi tokens / 8192
}

// Constraints fix or cap a dimension of the search; every listed plan keeps them.
TEST(Cli, SearchConstraintsHoldForEveryPlan) {
  const Outcome fixed = Cli({"--model", "llama2-70b", "--gpus", "64", "--gpu", "h100-sxm", "--tp",
                             "8", "--pp", "1", "--zero", "1", "--format", "json", "--top", "20"});
  ASSERT_EQ(fixed.rc, 0) << fixed.err;
  const nlohmann::json f = nlohmann::json::parse(fixed.out);
  ASSERT_FALSE(f["plans"].empty());
  for (const auto& p : f["plans"]) {
    EXPECT_EQ(p["tp"], 8);
    EXPECT_EQ(p["pp"], 1);
    EXPECT_EQ(p["zero_stage"], 1);
  }
  const Outcome capped = Cli({"--model", "llama2-70b", "--gpus", "64", "--gpu", "h100-sxm",
                              "--max-tp", "2", "--max-pp", "2", "--format", "json", "--top",
                              "20"});
  ASSERT_EQ(capped.rc, 0) << capped.err;
  const nlohmann::json c = nlohmann::json::parse(capped.out);  // kept: the loop reads into it
  ASSERT_FALSE(c["plans"].empty());
  for (const auto& p : c["plans"]) {
    EXPECT_LE(p["tp"].get<int>(), 2);
    EXPECT_LE(p["pp"].get<int>(), 2);
  }
}

TEST(Cli, SearchJsonHasWholeBytesAndAFailedSearchSaysWhy) {
  const Outcome ok = Cli({"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--format",
                      "json", "--top", "1"});
  ASSERT_EQ(ok.rc, 0) << ok.err;
  const nlohmann::json j = nlohmann::json::parse(ok.out);
  EXPECT_TRUE(j["plans"][0]["memory_bytes"]["total"].is_number_integer()) << ok.out;
  EXPECT_TRUE(j["plans"][0]["capacity_bytes"].is_number_integer());
  EXPECT_FALSE(j.contains("reason"));
  // 2039 is prime (see BadInput.APrimeGpuCountHasNoPlanAndSaysWhy).
  const Outcome none = Cli({"--model", "llama2-70b", "--gpus", "2039", "--gpu", "h100-sxm",
                        "--gpus-per-node", "1", "--format", "json"});
  ASSERT_EQ(none.rc, 1) << none.err;
  const nlohmann::json f = nlohmann::json::parse(none.out);
  EXPECT_NE(f["reason"].get<std::string>().find("no split of the GPUs"), std::string::npos);
  EXPECT_TRUE(f["search"]["min_shortfall_bytes"].is_number_integer());
}

}  // namespace
}  // namespace planner

namespace planner {
namespace {

// A sequence length the planner chose (the model's default, below its maximum context) is said
// once in the table and in the JSON inputs; a given one, or a model trained at its full
// context, says nothing. Qwen3-8B: trains at 4096 here, max_position_embeddings 40960.
TEST(Cli, DefaultedSequenceLengthBelowTheMaximumContextIsNoted) {
  const std::vector<std::string> base = {"--model", "qwen3-8b", "--gpus", "8", "--gpu", "h100-sxm"};
  const std::string note =
      "trains at 4096 tokens, the model's default; its maximum context is 40960 (--seq-len to "
      "change)";
  const Outcome table = Cli(base);
  EXPECT_EQ(table.rc, 0) << table.err;
  std::string prose = table.out;  // the note wraps at 80 columns like the header above it
  std::replace(prose.begin(), prose.end(), '\n', ' ');
  EXPECT_NE(prose.find(" Note: " + note + " "), std::string::npos) << table.out;
  std::vector<std::string> json = base;
  json.insert(json.end(), {"--format", "json"});
  const Outcome j = Cli(json);
  EXPECT_NE(j.out.find("\"seq_len_note\": \"" + note + "\""), std::string::npos) << j.out;
  std::vector<std::string> given = base;
  given.insert(given.end(), {"--seq-len", "4096"});
  EXPECT_EQ(Cli(given).out.find("Note: trains at"), std::string::npos);
  const Outcome llama = Cli({"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm"});
  EXPECT_EQ(llama.out.find("Note: trains at"), std::string::npos) << llama.out;
}

}  // namespace
}  // namespace planner
