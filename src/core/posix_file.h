// Thin, checked wrappers over the POSIX file calls tidalDB needs. Every
// failure comes back as a Status naming the path and the operating system's
// reason; short reads and writes and EINTR are handled here, not by callers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/status.h"

namespace tidal {

// An open file descriptor, closed on destruction.
class FileHandle {
 public:
  FileHandle() = default;
  FileHandle(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileHandle();
  FileHandle(FileHandle&& o) noexcept;
  FileHandle& operator=(FileHandle&& o) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  // flags as for open(2); mode used when O_CREAT is given.
  static Result<FileHandle> open(const std::string& path, int flags, int mode = 0644);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Writes all of `data` at the current offset.
  Status write_all(std::string_view data);
  // fdatasync(2): file data and the metadata needed to read it back (size).
  Status sync_data();
  Status truncate(uint64_t size);
  Result<uint64_t> size() const;
  Status close();

 private:
  int fd_ = -1;
  std::string path_;
};

// Reads a whole file into memory.
Result<std::string> read_file(const std::string& path);

// Replaces `path` with `contents` atomically: writes a temporary file beside
// it, syncs it, renames it over `path` and syncs the directory.
Status write_file_atomic(const std::string& path, std::string_view contents);

// fsync(2) on a directory, so that creates, renames and unlinks in it are durable.
Status sync_dir(const std::string& dir);

// Creates `dir` (and parents) if missing.
Status create_dirs(const std::string& dir);

// Names (not paths) of the entries of `dir`, sorted.
Result<std::vector<std::string>> list_dir(const std::string& dir);

}  // namespace tidal
