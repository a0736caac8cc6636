// Reading and writing the files the planner is given or makes; one copy of each (style.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace planner {

/// The largest input file read (a model, catalog, sweep or run file): real ones are kilobytes.
inline constexpr int64_t kMaxInputFileBytes = 64ll << 20;

/// A file descriptor closed however the scope that opened it ends.
struct UniqueFd {
  int fd = -1;
  UniqueFd() = default;
  explicit UniqueFd(int f) : fd(f) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
};

/// The whole of a regular file. A missing file, a directory, a FIFO or a device (checked before
/// anything blocks on it) or a file over `max_bytes` throws InputError(where).
std::string ReadTextFile(const std::string& path, const std::string& where,
                         int64_t max_bytes = kMaxInputFileBytes);

/// Writes all of `text` to `fd`; one write() unless the kernel takes less. Throws InputError.
void WriteAll(int fd, const std::string& text, const std::string& path, const std::string& where);

/// Makes a directory's entries (a created or renamed file) survive a power loss.
void SyncDirectory(const std::filesystem::path& dir);

/// Writes `text` to `path` through a temporary file beside it, synced, then renamed over `path`
/// (and the directory synced), so `path` is the old file or the whole new one, never a part.
/// The temporary file is removed when anything fails. Throws InputError(where).
void WriteFileAtomically(const std::string& path, const std::string& text,
                         const std::string& where, bool executable = false);

/// A new, empty directory beside `target` (".NAME.new-PID-N" in its parent), in which to build a
/// set of files that SwapInDirectory then puts in place whole. Throws InputError(where).
std::filesystem::path StagingDirectory(const std::filesystem::path& target,
                                       const std::string& where);

/// Puts the directory `staged` (its files synced) at `target` in one rename: when `target`
/// exists the two are exchanged (renameat2 RENAME_EXCHANGE) and the old set is removed, so a
/// reader sees the old set or the new one, never a mix. The parent is synced. On failure
/// `staged` is removed and `target` left as it was. Throws InputError(where).
void SwapInDirectory(const std::filesystem::path& staged, const std::filesystem::path& target,
                     const std::string& where);

}  // namespace planner
