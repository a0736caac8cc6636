// Bad input to the commands' settings, as users type it (the rules: bad_input_test.cc): every
// row is refused with exit code 2 and one line "planner: <where>: <message>" on stderr.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bad_input.h"

namespace planner {
namespace {

// Settings, evaluate's plan, formats, serve, finetune, memory, list, sweeps and emitted files.
const std::vector<BadInputRow> kRows = {
      // Settings.
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--precision", "fp4"},
       "--precision",
       "unknown value 'fp4'; expected one of: bf16, fp16, fp8, fp32, tf32"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "a100-80gb", "--precision", "fp8"},
       "--precision",
       "a100-80gb has no fp8 tensor cores"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--schedule", "1f2b"},
       "--schedule",
       "unknown value '1f2b'; expected one of: 1f1b, interleaved, gpipe, naive"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--optimizer", "adam"},
       "--optimizer",
       "unknown value 'adam'; expected one of: adamw, adamw-8bit, sgd"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--format", "yaml"},
       "--format",
       "unknown value 'yaml'; expected one of: table, json, csv"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--global-bach", "64"},
       "--global-bach",
       "unknown option; did you mean --global-batch?"},
      {{"serch", "--model", "llama2-7b"},
       "command",
       "unknown command 'serch'; did you mean search?"},
      // evaluate's plan flags.
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--recompute",
        "some"},
       "--recompute",
       "unknown value 'some'; expected one of: none, selective, full"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--zero", "4"},
       "--zero",
       "must be 0, 1, 2 or 3, got 4"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "6", "--tp", "3"},
       "--tp",
       "tp 3 does not divide heads 32 and kv_heads 32"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--tp",
        "99999999999"},
       "--tp",
       "expected an integer up to 2147483647, got '99999999999'"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--tp", "65536", "--pp", "65536",
        "--dp", "2"},
       "--tp",
       "tp x cp x pp = 4294967296 is more than the largest cluster, 1000000 GPUs"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--tp", "8", "--dp",
        "4611686018427387904"},
       "--dp",
       "times dp 4611686018427387904 is more than the largest cluster"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--global-batch",
        "12"},
       "--global-batch",
       "global batch 12 is not a multiple of micro-batch x dp = 8"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "16", "--pp", "2",
        "--first-stage-layers", "0"},
       "--first-stage-layers",
       "must be a positive integer, got 0"},
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--ep", "2"},
       "--ep",
       "expert parallelism needs a mixture-of-experts model"},
      // Each command prints only the formats it lists; csv was accepted and a table printed.
      {{"evaluate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--format",
        "csv"},
       "--format",
       "this command has no csv output; expected one of: table, json"},
      {{"memory", "--model", "llama2-7b", "--format", "csv"},
       "--format",
       "this command has no csv output; expected one of: table, json"},
      {{"list", "gpus", "--format", "csv"},
       "--format",
       "this command has no csv output; expected one of: table, json"},
      // serve: the decode kernel is one of two named mechanisms.
      {{"serve", "--model", "llama2-7b", "--gpu", "h100-sxm", "--input-tokens", "128",
        "--output-tokens", "128", "--ep", "2"},
       "--ep",
       "expert parallelism needs a mixture-of-experts model"},
      {{"serve", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--input-tokens", "128",
        "--output-tokens", "128", "--tp", "4", "--ep", "2"},
       "--ep",
       "expert parallelism spans the replica's tensor-parallel group: expected 1 or --tp (4), "
       "got 2"},
      {{"serve", "--model", "llama2-70b", "--gpu", "h100-sxm", "--input-tokens", "128",
        "--output-tokens", "128", "--decode-attention", "xqa"},
       "--decode-attention",
       "unknown value 'xqa'; expected grouped or per-head"},
      // serve: what the search could only call "no plan" is said as the input it is.
      {{"serve", "--model", "llama3-8b", "--gpu", "h100-sxm", "--input-tokens", "128",
        "--output-tokens", "128", "--tp", "3"},
       "--tp",
       "3 does not divide llama3-8b's 32 attention heads"},
      {{"serve", "--model", "llama3-8b", "--gpu", "h100-sxm", "--input-tokens", "128",
        "--output-tokens", "128", "--gpus", "2000000"},
       "--gpus",
       "must be at most 1000000, got 2000000"},
      {{"serve", "--model", "llama3-8b", "--gpu", "h100-sxm", "--input-tokens", "10000000000",
        "--output-tokens", "5"},
       "--input-tokens",
       "prompt and output tokens together are beyond 16M"},
      // finetune: adapter settings are for adapter methods.
      {{"finetune", "--model", "llama3-8b", "--gpu", "h100-sxm", "--method", "full",
        "--lora-rank", "8"},
       "--lora-rank",
       "applies to --method lora or qlora, not the methods given"},
      // memory and list.
      {{"memory", "--model", "llama2-7b", "--mode", "serve"},
       "--mode",
       "unknown value 'serve'; expected one of: training, finetune, inference"},
      {{"memory", "--model", "llama2-7b", "--mode", "inference", "--precision", "fp32"},
       "--precision",
       "'fp32' weights are not served; expected one of: fp16, bf16, fp8, int8, int4"},
      {{"memory", "--model", "llama2-7b", "--batch", "0"},
       "--batch",
       "must be 1 to 10000000, got 0"},
      {{"list", "model"}, "list", "expected models, gpus or links, got 'model'"},
      // Sweeps, shards and emitted files.
      {{"sweep", "{dir}/sweep_key.json", "--out", "{dir}/never"},
       "{dir}/sweep_key.json: gpu_count",
       "unknown key; did you mean gpu_counts?"},
      {{"sweep", "{dir}/sweep_gpus.json", "--out", "{dir}/never"},
       "{dir}/sweep_gpus.json: gpu_counts[1]",
       "must be at most 1000000, got 2000000"},
      {{"sweep", "{dir}/sweep_key.json", "--out", "{dir}/never", "--shard", "3/2"},
       "--shard",
       "expected K/N with 1 <= K <= N (e.g. 2/8), got '3/2'"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--emit", "megatron"},
       "--out",
       "is required with --emit"},
      {{"--model", "llama2-7b", "--gpus", "8", "--gpu", "h100-sxm", "--emit", "slurm", "--out",
        "{dir}/never"},
       "--emit",
       "unknown snippet 'slurm'"},
      // sweep and merge arguments (moved here from sweep_resume_test.cc).
      {{"sweep", PLANNER_SOURCE_DIR "/examples/sweep-288/sweep.json"}, "--out", "is required"},
      {{"sweep", "--out", "x"}, "FILE", "is required"},
      {{"sweep", PLANNER_SOURCE_DIR "/examples/sweep-288/sweep.json", "--out", "x", "--shard",
        "4/3"},
       "--shard",
       "expected K/N"},
      {{"sweep", "/nonexistent.json", "--out", "x"}, "/nonexistent.json", "cannot read"},
      {{"merge", "--out", "x"}, "DIR", "give the parts"},
      {{"merge", "/nonexistent", "--out", "x"}, "/nonexistent", "no manifest"},
};

TEST(BadInput, EachCommandRowExitsWithTwoAndOneLineNamingItsPlace) {
  ExpectEachRowRefused(kRows);
}

}  // namespace
}  // namespace planner
