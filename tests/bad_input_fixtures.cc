// Fixture files and the check every bad-input row passes (tests/bad_input.h).
#include "bad_input.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "planner/cli/cli.h"

namespace planner {

namespace fs = std::filesystem;

// The fixture files, written once: bad model, catalog and sweep files.
const std::string& BadInputDir() {
  static const std::string dir = [] {
    const fs::path d =
        fs::path(testing::TempDir()) / ("planner_bad_input_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    auto write = [&](const char* name, const std::string& text) {
      std::ofstream(d / name, std::ios::binary) << text;
    };
    const std::string tiny_rest =
        R"("heads": 8, "ffn_hidden": 1024, "vocab": 1000, "seq_len": 512, "mlp": "gelu",
           "tied_embeddings": true})";
    write("truncated.json", R"({"name": "x", "layers": 4,)");
    write("typo.json", R"({"name": "x", "layers": 4, "hiden": 256, )" + tiny_rest);
    write("zero_layers.json", R"({"name": "x", "layers": 0, "hidden": 256, )" + tiny_rest);
    write("heads.json", R"({"name": "x", "layers": 4, "hidden": 250, )" + tiny_rest);
    write("string_size.json", R"({"name": "x", "layers": "4", "hidden": 256, )" + tiny_rest);
    write("overflow.json", R"({"name": "x", "layers": 1e400, "hidden": 256, )" + tiny_rest);
    write("deep.json", std::string(5000, '[') + std::string(5000, ']'));
    // 100 layers of hidden 1M: about 1.2e15 parameters, over 10T.
    write("huge.json", R"({"name": "huge", "layers": 100, "hidden": 1048576, "heads": 8192,
                          "ffn_hidden": 4194304, "vocab": 32000, "seq_len": 4096,
                          "mlp": "gelu", "tied_embeddings": true})");
    write("hf_huge_hidden.json", R"({"architectures": ["LlamaForCausalLM"],
        "num_hidden_layers": 32, "hidden_size": 2097152, "num_attention_heads": 32,
        "intermediate_size": 11008, "vocab_size": 32000, "max_position_embeddings": 4096})");
    write("hf_bloom.json", R"({"architectures": ["BloomForCausalLM"], "hidden_size": 4096})");
    write("catalog_huge.json", R"({"links": [{"name": "fast", "one_way_gb_per_s": 1e12,
                                              "latency_us": 1}]})");
    write("catalog_key.json", R"({"gpu": []})");
    write("catalog_arch.json", R"({"gpus": [{"name": "x", "hbm_gib": 80, "fp32_tflops": 60,
        "bf16_tflops": 900, "hbm_gb_per_s": 3000, "intra_link": "nvlink4",
        "inter_link": "ib-ndr", "arch": "hoper"}]})");
    write("sweep_key.json", R"({"models": ["llama3-8b"], "gpus": ["h200"], "gpu_count": [64]})");
    write("sweep_gpus.json", R"({"models": ["llama3-8b"], "gpus": ["h200"],
                                 "gpu_counts": [64, 2000000]})");
    write("duplicate.json", R"({"name": "x", "layers": 4, "layers": 40, "hidden": 256, )" +
                                tiny_rest);
    write("catalog_replace.json", R"({"gpus": [{"name": "h100-sxm", "hbm_gib": 80,
        "fp32_tflops": 60, "bf16_tflops": 900, "hbm_gb_per_s": 3000, "intra_link": "nvlink4",
        "inter_link": "ib-ndr", "arch": "hopper"}]})");
    write("catalog_two_way.json", R"({"links": [{"name": "odd", "one_way_gb_per_s": 100,
                                                 "two_way_gb_per_s": 50, "latency_us": 1}]})");
    // A Hugging Face config whose file name is Latin-1 ("hf_été.json"), not UTF-8.
    write("hf_\xe9t\xe9.json", R"({"architectures": ["BloomForCausalLM"], "hidden_size": 64})");
    return d.string();
  }();
  return dir;
}

std::string Expand(std::string s) {
  for (size_t at = s.find("{dir}"); at != std::string::npos; at = s.find("{dir}")) {
    s.replace(at, 5, BadInputDir());
  }
  return s;
}

std::string Shown(const std::vector<std::string>& args) {
  std::string s;
  for (const std::string& a : args) s += " " + a;
  return s;
}

void ExpectEachRowRefused(const std::vector<BadInputRow>& rows) {
  for (const BadInputRow& row : rows) {
    std::vector<std::string> args;
    for (const std::string& a : row.args) args.push_back(Expand(a));
    std::ostringstream out, err;
    const int rc = RunCli(args, out, err);
    const std::string e = err.str();
    EXPECT_EQ(rc, 2) << Shown(args) << "\n" << e;
    const std::string head = "planner: " + Expand(row.where) + ": ";
    EXPECT_EQ(e.rfind(head, 0), 0u) << Shown(args) << "\n  got: " << e << "  want: " << head;
    EXPECT_NE(e.find(row.message), std::string::npos)
        << Shown(args) << "\n  got: " << e << "  want a part: " << row.message;
    EXPECT_EQ(e.find('\n'), e.size() - 1) << "not one line:" << Shown(args) << "\n" << e;
    EXPECT_TRUE(out.str().empty()) << Shown(args) << "\n" << out.str();
  }
  // Nothing the table runs writes a file, not even the directories named by --out.
  EXPECT_FALSE(fs::exists(BadInputDir() + "/never"));
}

}  // namespace planner
