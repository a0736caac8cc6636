// Every checked-in fuzz input, run through its target's body (tests/fuzz/fuzz_targets.h): the
// seed corpus of real files under tests/fuzz/corpus/<target>/ and each input that once crashed
// or broke an invariant, under tests/fuzz/regressions/<target>/. A finding aborts the test binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"

namespace planner {
namespace {

namespace fs = std::filesystem;

using Target = void (*)(const uint8_t*, size_t);

// Runs each file of corpus/<name> and regressions/<name>; returns how many there were.
size_t RunInputs(const std::string& name, Target target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(PLANNER_SOURCE_DIR) / "tests/fuzz" / kind / name;
    if (!fs::is_directory(dir)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string data = text.str();
    target(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  return files.size();
}

TEST(FuzzInputs, ModelJson) { EXPECT_GT(RunInputs("model_json", fuzz::ModelJson), 0u); }
TEST(FuzzInputs, HfConfig) { EXPECT_GT(RunInputs("hf_config", fuzz::HfConfig), 0u); }
TEST(FuzzInputs, Catalog) { EXPECT_GT(RunInputs("catalog", fuzz::CatalogJson), 0u); }
TEST(FuzzInputs, Sweep) { EXPECT_GT(RunInputs("sweep", fuzz::SweepJson), 0u); }
TEST(FuzzInputs, Cli) { EXPECT_GT(RunInputs("cli", fuzz::CliArgs), 0u); }
TEST(FuzzInputs, Store) { EXPECT_GT(RunInputs("store", fuzz::StoreFiles), 0u); }

}  // namespace
}  // namespace planner
