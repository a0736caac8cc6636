// File plumbing the sweep shares between running and merging: whole writes, syncs, a lock.
#pragma once

#include <filesystem>
#include <string>

namespace planner {

/// Writes all of `text` to `fd`; one write() unless the kernel takes less. Throws InputError.
void WriteAll(int fd, const std::string& text, const std::string& path, const std::string& where);

/// Makes a directory's entries (a created or renamed file) survive a power loss.
void SyncDirectory(const std::filesystem::path& dir);

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
