// Reading back what the fine-tuning emitters write, for the tests: the keyword arguments of a
// Python call, the dotted keys of a block YAML file, the plans the tests share.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "emit_fixtures.h"
#include "planner/render/emit_finetune.h"

namespace planner {

/// `text` without '#' comments (outside quotes), line by line.
inline std::string WithoutComments(const std::string& text) {
  std::string out;
  char quote = 0;
  bool comment = false;
  for (char ch : text) {
    if (ch == '\n') comment = false, quote = 0;
    if (comment) continue;
    if (quote == 0 && ch == '#') {
      comment = true;
      continue;
    }
    if (ch == '"' || ch == '\'') quote = quote == 0 ? ch : (quote == ch ? 0 : quote);
    out += ch;
  }
  return out;
}

inline std::string Trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\n") - first + 1);
}

/// name -> value text of the keyword arguments of the first call `callee(...)` in `code`;
/// an empty map when there is no such call.
inline std::map<std::string, std::string> Kwargs(const std::string& code,
                                                 const std::string& callee) {
  const std::string text = WithoutComments(code);
  std::map<std::string, std::string> args;
  const size_t open = text.find(callee + "(");
  if (open == std::string::npos) return args;
  int depth = 0;
  std::string arg;
  auto flush = [&] {
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) args[Trim(arg.substr(0, eq))] = Trim(arg.substr(eq + 1));
    arg.clear();
  };
  char quote = 0;  // commas inside a string ("rank=128, scale=0.25") split nothing
  for (size_t i = open + callee.size(); i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '"' || ch == '\'') quote = quote == 0 ? ch : (quote == ch ? 0 : quote);
    if (quote != 0 || ch == '"' || ch == '\'') {
      arg += ch;
      continue;
    }
    if (ch == '(' || ch == '[' || ch == '{') depth++;
    if (ch == ')' || ch == ']' || ch == '}') depth--;
    if (depth == 0) break;
    if (depth == 1 && (ch == ',' || ch == '(')) {
      flush();
      continue;
    }
    arg += ch;
  }
  flush();
  return args;
}

/// dotted.key -> value (text after "key:") of a block YAML mapping indented by two spaces.
inline std::map<std::string, std::string> YamlKeys(const std::string& yaml) {
  std::map<std::string, std::string> keys;
  std::vector<std::string> parents;
  std::istringstream lines(WithoutComments(yaml));
  std::string line;
  while (std::getline(lines, line)) {
    if (Trim(line).empty()) continue;
    const size_t indent = line.find_first_not_of(' ');
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    parents.resize(indent / 2);
    std::string path;
    for (const std::string& p : parents) path += p + ".";
    const std::string key = Trim(line.substr(indent, colon - indent));
    keys[path + key] = Trim(line.substr(colon + 1));
    parents.push_back(key);
  }
  return keys;
}

using Values = std::map<std::string, std::string>;

/// Each key of `want` is in `got` with the value `want` gives it.
inline void ExpectValues(const Values& got, const Values& want, const std::string& label) {
  for (const auto& [key, value] : want) {
    const auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << label << ": no " << key;
    } else {
      EXPECT_EQ(it->second, value) << label << ": " << key;
    }
  }
}

/// The text of the file `name`, or "" when the set has none.
inline std::string FileText(const FinetuneFiles& f, const std::string& name) {
  for (const EmittedFile& e : f.files) {
    if (e.name == name) return e.text;
  }
  return "";
}

/// The plans the tests share, each as issue #16 names it.
struct FinetuneCase {
  std::string label;
  Specs specs;
  FinetunePlan plan;
  FinetuneSetup setup;
};

inline std::vector<FinetuneCase> FinetuneCases() {
  const FinetuneSetup base{.global_batch = 16, .seq_len = 2048, .hf_model_id = ""};
  FinetuneSetup paged = base;
  paged.optimizer = FinetuneOptimizer::kPagedAdamW8bit;
  paged.hf_model_id = "meta-llama/Meta-Llama-3-8B";
  FinetuneSetup eight_bit = base;
  eight_bit.optimizer = FinetuneOptimizer::kAdamW8bit;
  return {
      {"qlora llama3-8b on one 4090",
       MakeSpecs("llama3-8b", "rtx-4090", 1),
       {.method = FinetuneMethod::kQlora,
        .micro_batch = 2,
        .grad_accum = 8,
        .targets = kAllTargets,
        .base_weights = BaseWeights::kNf4},
       paged},
      {"lora FSDP on 2 GPUs",
       MakeSpecs("llama3-8b", "a100-80gb", 2),
       {.method = FinetuneMethod::kLora,
        .gpus = 2,
        .dp = 2,
        .sharding = Sharding::kFsdp,
        .micro_batch = 4,
        .grad_accum = 2},
       base},
      {"full ZeRO-3 + offload on 16 GPUs",
       MakeSpecs("llama3-70b", "h100-sxm", 16),
       {.method = FinetuneMethod::kFull,
        .gpus = 16,
        .dp = 16,
        .sharding = Sharding::kZero3,
        .offload_optimizer = true,
        .offload_params = true,
        .micro_batch = 1,
        .grad_accum = 1},
       base},
      {"galore on one GPU",
       MakeSpecs("llama3-8b", "a100-80gb", 1),
       {.method = FinetuneMethod::kGalore, .micro_batch = 1, .grad_accum = 16, .galore_rank = 128},
       eight_bit},
      {"freeze the top 4 blocks",
       MakeSpecs("llama3-8b", "a100-80gb", 1),
       {.method = FinetuneMethod::kFreeze,
        .micro_batch = 2,
        .grad_accum = 8,
        .trainable_layers = 4},
       base},
  };
}

}  // namespace planner
