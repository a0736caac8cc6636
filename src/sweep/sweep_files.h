// The lock the sweep's running and merging share (whole writes and syncs: model/files.h).
#pragma once

#include <filesystem>
#include <string>

#include "planner/model/files.h"

namespace planner {

/// Creates `dir` if needed and holds an exclusive lock on DIR/.lock for its lifetime, so two runs
/// never append to one results.jsonl. The kernel drops the lock when the process dies.
class DirLock {
 public:
  DirLock(const std::filesystem::path& dir, const std::string& where);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace planner
