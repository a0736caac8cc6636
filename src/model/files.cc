#include "planner/model/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "planner/model/error.h"

namespace planner {
UniqueFd::~UniqueFd() {
  if (fd >= 0) ::close(fd);
}

std::string ReadTextFile(const std::string& path, const std::string& where, int64_t max_bytes) {
  const std::string cannot = "cannot read file '" + path + "'";
  struct stat info {};
  // stat before open: opening a FIFO for reading blocks until a writer comes.
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) throw InputError(where, cannot);
  UniqueFd file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  // Checked again on the open file: the path may have been swapped since the stat.
  if (file.fd < 0 || ::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    throw InputError(where, cannot);
  }
  if (info.st_size > max_bytes) {
    throw InputError(where, cannot + ": " + std::to_string(info.st_size) + " bytes; at most " +
                                std::to_string(max_bytes));
  }
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(file.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(where, cannot + ": " + std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (static_cast<int64_t>(text.size()) > max_bytes) {
      throw InputError(where, cannot + ": more than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return text;
}

void WriteAll(int fd, const std::string& text, const std::string& path, const std::string& where) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(where, "cannot write '" + path + "': " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void SyncDirectory(const std::filesystem::path& dir) {
  UniqueFd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
}

void WriteFileAtomically(const std::string& path, const std::string& text,
                         const std::string& where, bool executable) {
  const std::filesystem::path target(path);
  const std::string temp =
      (target.parent_path() / ("." + target.filename().string() + ".tmp")).string();
  try {
    UniqueFd file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   executable ? 0755 : 0644)};
    if (file.fd < 0) throw InputError(where, "cannot write '" + path + "': " + std::strerror(errno));
    WriteAll(file.fd, text, path, where);
    if (::fsync(file.fd) != 0) {
      throw InputError(where, "cannot write '" + path + "': " + std::strerror(errno));
    }
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    throw InputError(where, "cannot write '" + path + "': " + std::strerror(saved));
  }
  SyncDirectory(target.parent_path());
}

std::filesystem::path StagingDirectory(const std::filesystem::path& target,
                                       const std::string& where) {
  const std::filesystem::path whole = target.lexically_normal();
  const std::filesystem::path name = whole.has_filename() ? whole : whole.parent_path();
  for (int attempt = 0;; ++attempt) {
    const std::filesystem::path staged =
        name.parent_path() / ("." + name.filename().string() + ".new-" +
                              std::to_string(::getpid()) + "-" + std::to_string(attempt));
    if (::mkdir(staged.c_str(), 0755) == 0) return staged;
    if (errno != EEXIST || attempt == 100) {
      throw InputError(where, "cannot create directory '" + staged.string() +
                                  "': " + std::strerror(errno));
    }
  }
}

void SwapInDirectory(const std::filesystem::path& staged, const std::filesystem::path& target,
                     const std::string& where) {
  const std::filesystem::path whole = target.lexically_normal();
  const std::filesystem::path name = whole.has_filename() ? whole : whole.parent_path();
  std::error_code ec;
  SyncDirectory(staged);
  // An empty or absent target is simply replaced; one with files is exchanged, then removed.
  int done = ::rename(staged.c_str(), name.c_str());
  bool exchanged = false;
  if (done != 0 && (errno == ENOTEMPTY || errno == EEXIST)) {
    done = ::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, name.c_str(), RENAME_EXCHANGE);
    exchanged = done == 0;
  }
  if (done != 0) {
    const int saved = errno;
    std::filesystem::remove_all(staged, ec);
    throw InputError(where, "cannot replace '" + name.string() + "': " + std::strerror(saved));
  }
  SyncDirectory(name.parent_path());
  if (exchanged) std::filesystem::remove_all(staged, ec);  // now the old set
}

}  // namespace planner
