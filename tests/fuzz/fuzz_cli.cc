// libFuzzer entry point; the body and what counts as a finding: fuzz_targets.h.
#include <oneapi/tbb/global_control.h>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Searches run on one thread, whatever --threads says: the fuzzer keeps to one core.
  static const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  planner::fuzz::CliArgs(data, size);
  return 0;
}
