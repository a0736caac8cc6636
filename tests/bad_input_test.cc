// Bad input, as users type it: every row is refused with exit code 2 and one line on stderr,
// "planner: <where>: <message>", naming the flag or JSON path and saying what was expected. The
// expected places and messages are the ones the README promises (a flag or a JSON path, then
// what was wrong); each message part below is written out from the check that gives it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bad_input.h"

namespace planner {
namespace {

namespace fs = std::filesystem;

// Models, GPUs, sizes, words and clusters (settings and commands: bad_input_commands_test.cc).
const std::vector<BadInputRow> kRows = {
      // Models: catalog names and files.
      {{"--model", "llama2-70", "--gpus", "8", "--gpu", "h100-sxm"},
       "--model",
       "unknown model 'llama2-70'; did you mean llama2-70b?"},
      {{"--model", "{dir}/truncated.json", "--gpus", "8", "--gpu", "h100-sxm"},
       "{dir}/truncated.json",
       "malformed JSON: parse error at line 1, column 27"},
      {{"--model", "{dir}/typo.json", "--gpus", "8", "--gpu", "h100-sxm"},
       "{dir}/typo.json: hiden",
       "unknown key; did you mean hidden?"},
      {{"--model", "{dir}/zero_layers.json", "--gpus", "8", "--gpu", "h100-sxm"},
       "{dir}/zero_layers.json: layers",
       "must be a positive integer, got 0"},
      {{"--model", "{dir}/heads.json", "--gpus", "8", "--gpu", "h100-sxm"},
       "{dir}/heads.json: heads",
       "hidden 250 is not divisible by heads 8"},
      {{"--model", "{dir}/string_size.json", "--gpus", "8", "--gpu", "h100-sxm"},
       "{dir}/string_size.json: layers",
       "expected an integer, got \"4\""},
      {{"memory", "--model", "{dir}/overflow.json"},
       "{dir}/overflow.json",
       "malformed JSON: number overflow parsing '1e400'"},
      {{"memory", "--model", "{dir}/deep.json"},
       "{dir}/deep.json",
       "malformed JSON: nested deeper than 100 levels"},
      // Every digit of the count: "1e+13 parameters; at most 1e+13" hid how far over it was.
      {{"memory", "--model", "{dir}/huge.json"},
       "{dir}/huge.json",
       "1319447929290752 parameters (1.319e+15); at most 10000000000000 (10T) are supported"},
      {{"memory", "--model", "llama3-8b", "--host-memory", "1Ti"},
       "--host-memory",
       "is a limit on plans: give it to evaluate or search"},
      {{"memory", "--model", "{dir}/duplicate.json"},
       "{dir}/duplicate.json: layers",
       "key given twice; keep one"},
      {{"memory", "--model", "{dir}/hf_\xe9t\xe9.json"},
       "{dir}/hf_\\xe9t\\xe9.json",
       "unsupported architecture 'BloomForCausalLM'"},
      // U+2028 (a line separator) pasted into a name: shown as a space, so the error is one line.
      {{"--model", "llama2\u2028x", "--gpus", "8", "--gpu", "h100-sxm"},
       "--model",
       "unknown model 'llama2 x'"},
      {{"memory", "--model", "{dir}/hf_huge_hidden.json"},
       "{dir}/hf_huge_hidden.json: hidden_size",
       "must be at most 1048576, got 2097152"},
      {{"memory", "--model", "{dir}/hf_bloom.json"},
       "{dir}/hf_bloom.json",
       "unsupported architecture 'BloomForCausalLM'; supported:"},
      {{"memory", "--model", "{dir}/missing.json"}, "{dir}/missing.json", "cannot read file"},
      // GPUs and links.
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h1000"},
       "--gpu",
       "unknown GPU 'h1000'; did you mean"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "a100"},
       "--gpu",
       "'a100' is ambiguous: a100-40gb, a100-80gb"},
      {{"--model", "llama2-7b", "--gpus", "8"}, "--gpu", "is required (see: planner list gpus)"},
      {{"--model", "llama2-7b", "--gpus", "16", "--gpu", "h100-sxm", "--inter-link", "ib-qdr"},
       "--inter-link",
       "unknown link 'ib-qdr'; did you mean"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--catalog",
        "{dir}/catalog_huge.json"},
       "{dir}/catalog_huge.json: links[0].one_way_gb_per_s",
       "must be between 1e-06 and 1e+09"},
      {{"list", "gpus", "--catalog", "{dir}/catalog_key.json"},
       "{dir}/catalog_key.json: gpu",
       "unknown key; did you mean gpus?"},
      {{"list", "gpus", "--catalog", "{dir}/catalog_arch.json"},
       "{dir}/catalog_arch.json: gpus[0].arch",
       "unknown architecture 'hoper' (known: volta, ampere, ada, hopper, blackwell, cdna3, cdna2, "
       "cdna4, gaudi3); "
       "did you mean hopper?"},
      {{"list", "gpus", "--catalog", "{dir}/catalog_replace.json"},
       "{dir}/catalog_replace.json: gpus[0].name",
       "'h100-sxm' is already in the catalog; to replace it, add \"replace\": [\"h100-sxm\"]"},
      {{"list", "links", "--catalog", "{dir}/catalog_two_way.json"},
       "{dir}/catalog_two_way.json: links[0].two_way_gb_per_s",
       "is less than one_way_gb_per_s"},
      {{"list", "gpus", "--catalog", PLANNER_SOURCE_DIR "/tests/data/catalog_bad_gpu.json"},
       PLANNER_SOURCE_DIR "/tests/data/catalog_bad_gpu.json: gpus[1].bf16_tflops",
       "expected a number, got \""},
      // Sizes.
      {{"--model", "llama2-7b", "--gpu", "h100-sxm"}, "--gpus", "is required"},
      {{"--model", "llama2-7b", "--gpus", "eight", "--gpu", "h100-sxm"},
       "--gpus",
       "expected an integer, got 'eight'"},
      {{"--model", "llama2-7b", "--gpus", "0", "--gpu", "h100-sxm"},
       "--gpus",
       "must be a positive integer, got 0"},
      {{"--model", "llama2-7b", "--gpus=-8", "--gpu", "h100-sxm"},
       "--gpus",
       "must be a positive integer, got -8"},
      {{"--model", "llama2-7b", "--gpus", "2000000", "--gpu", "h100-sxm"},
       "--gpus",
       "must be at most 1000000, got 2000000"},
      {{"--model", "llama2-7b", "--gpus", "99999999999999999999", "--gpu", "h100-sxm"},
       "--gpus",
       "expected an integer, got '99999999999999999999'"},
      // Boost substitutes what was typed for "%value%" in its messages, and looped forever when
      // that was "%value%" again (found by fuzz_cli).
      {{"--model", "llama2-7b", "--gpus", "%value%", "--gpu", "h100-sxm"},
       "--gpus",
       "expected an integer, got '%value%'"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--%canonical_option%"},
       "--%canonical_option%",
       "unknown option"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpus", "16", "--gpu", "h100-sxm"},
       "--gpus",
       "cannot be specified more than once"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--gpus-per-node", "2048"},
       "--gpus-per-node",
       "must be at most 1024, got 2048"},
      // Words no option takes, and boolean flags given a value.
      {{"--model", "llama2-7b", "--gpus", "8", "16", "--gpu", "h100-sxm"},
       "--gpus",
       "takes one value, got another word '16'"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--comm-overlap", "false"},
       "--comm-overlap",
       "takes no value, got 'false'"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--comm-overlap=false"},
       "--comm-overlap",
       "does not take any arguments"},
      {{"evaluate", "--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--tp", "8",
        "--sequence-parallel", "no"},
       "--sequence-parallel",
       "takes no value, got 'no'"},
      {{"memory", "extra", "--model", "llama2-7b"}, "arguments", "unexpected word 'extra'"},
      // Whole option names only: Boost guessed --mod and --prec, and read --mode as --model.
      {{"--mod", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm"},
       "--mod",
       "unknown option; did you mean --model?"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--prec", "bf16"},
       "--prec",
       "unknown option; did you mean --precision?"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "a100-80gb", "--mode", "finetune"},
       "--mode",
       "unknown option; did you mean --model?"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--zero", "4"},
       "--zero",
       "must be 0, 1, 2 or 3, got 4"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--tp", "0"},
       "--tp",
       "must be a positive integer, got 0"},
      // Clusters that cannot be built.
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--gpus-per-node", "16"},
       "--gpus-per-node",
       "16 GPUs per node is more than the 8 GPUs of --gpus"},
      {{"--model", "llama2-7b", "--gpus", "12", "--gpu", "h100-sxm"},
       "--gpus",
       "12 GPUs are not whole nodes of 8; use 8 or 16 (or set --gpus-per-node)"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--nics-per-node", "64"},
       "--nics-per-node",
       "64 NICs is more than one per GPU on a node of 8 GPUs"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--host-memory", "0"},
       "--host-memory",
       "expected a size such as 512Gi, got 0"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--threads", "0"},
       "--threads",
       "must be a positive integer, got 0"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--tokens-per-batch",
        "40960004096"},
       "--tokens-per-batch",
       "40960004096 tokens are 10000001 sequences of 4096 tokens; at most 10000000 sequences"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--seq-len", "0"},
       "--seq-len",
       "must be a positive integer, got 0"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--seq-len", "20000000"},
       "--seq-len",
       "must be at most 16777216, got 20000000"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--global-batch", "20000000"},
       "--global-batch",
       "must be at most 10000000, got 20000000"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--tokens-per-batch", "1000"},
       "--tokens-per-batch",
       "1000 is not a multiple of the sequence length 4096"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--global-batch", "64",
        "--tokens-per-batch", "262144"},
       "--global-batch",
       "give --global-batch or --tokens-per-batch, not both"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--train-tokens", "nan"},
       "--train-tokens",
       "must be a number from 0 to 1e+18, got nan"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--top", "0"},
       "--top",
       "must be 1 to 1000, got 0"},
};

TEST(BadInput, TheTablesHaveAtLeastThirtyRows) { EXPECT_GE(kRows.size(), 30u); }

TEST(BadInput, EachRowExitsWithTwoAndOneLineNamingItsPlace) { ExpectEachRowRefused(kRows); }

// The real binary: its exit code, stderr, and no file where --out points.
struct Outcome {
  int rc = -1;
  std::string out, err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Outcome RunBinary(const std::vector<std::string>& args) {
  const std::string out = BadInputDir() + "/stdout.txt", err = BadInputDir() + "/stderr.txt";
  std::vector<std::string> all = {PLANNER_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (std::freopen(out.c_str(), "w", stdout) == nullptr) ::_exit(126);
    if (std::freopen(err.c_str(), "w", stderr) == nullptr) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return Outcome{.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 .out = ReadFile(out),
                 .err = ReadFile(err)};
}

TEST(BadInput, TheBinaryExitsWithTwoAndWritesNoFile) {
  const std::string out_dir = BadInputDir() + "/binary_out";
  const std::vector<std::vector<std::string>> cases = {
      {"--model", "llama2-7b", "--gpus", "0", "--gpu", "h100-sxm", "--out", out_dir},
      {"--model", BadInputDir() + "/typo.json", "--gpus", "8", "--gpu", "h100-sxm", "--emit",
       "megatron,launch", "--out", out_dir},
      {"evaluate", "--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--zero", "4",
       "--out", out_dir},
      {"sweep", BadInputDir() + "/sweep_gpus.json", "--out", out_dir},
      {"sweep", BadInputDir() + "/deep.json", "--out", out_dir},
      {"--model", "llama2-7b", "--gpus", "eight", "--gpu", "h100-sxm"},
  };
  for (const std::vector<std::string>& args : cases) {
    const Outcome r = RunBinary(args);
    EXPECT_EQ(r.rc, 2) << Shown(args) << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("planner: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(out_dir)) << Shown(args);
  }
}

TEST(BadInput, APrimeGpuCountHasNoPlanAndSaysWhy) {
  // 2039 is prime: only tp = cp = pp = 1 and dp = 2039 split it, and 2039 data-parallel ranks
  // do not divide Llama 2's published batch of 1024 sequences. Not bad input: exit code 1.
  // (At 8 GPUs a node, 2039 is not whole nodes and is refused; one GPU a node makes it valid.)
  const Outcome r = RunBinary({"--model", "llama2-70b", "--gpus", "2039", "--gpu", "h100-sxm",
                               "--gpus-per-node", "1"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("No feasible plan: no split of the GPUs"), std::string::npos) << r.out;
  // ...and the nearest counts that have a plan (2048 here: its dp divides the batch of 1024).
  EXPECT_NE(r.out.find("Nearest GPU counts with a plan: "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace planner
