// libFuzzer entry point; the body and what counts as a finding: fuzz_targets.h.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  planner::fuzz::StoreFiles(data, size);
  return 0;
}
