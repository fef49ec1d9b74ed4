#include "core/posix_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace tidal {

namespace {
Status os_error(std::string_view op, const std::string& path, int err) {
  std::string what(op);
  what += " ";
  what += path;
  return Status::IoErrorFromErrno(Subsystem::kIo, what, err);
}
}  // namespace

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

FileHandle::FileHandle(FileHandle&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) {
  o.fd_ = -1;
}

FileHandle& FileHandle::operator=(FileHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

Result<FileHandle> FileHandle::open(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return os_error("open", path, errno);
  return FileHandle(fd, path);
}

Status FileHandle::write_all(std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write", path_, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FileHandle::sync_data() {
  if (::fdatasync(fd_) != 0) return os_error("fdatasync", path_, errno);
  return Status::Ok();
}

Status FileHandle::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return os_error("ftruncate", path_, errno);
  return Status::Ok();
}

Result<uint64_t> FileHandle::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return os_error("fstat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status FileHandle::close() {
  if (fd_ < 0) return Status::Ok();
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return os_error("close", path_, errno);
  return Status::Ok();
}

Result<std::string> read_file(const std::string& path) {
  TIDAL_ASSIGN_OR_RETURN(FileHandle f, FileHandle::open(path, O_RDONLY));
  TIDAL_ASSIGN_OR_RETURN(uint64_t size, f.size());
  std::string out;
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(f.fd(), out.data() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("read", path, errno);
    }
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Status sync_dir(const std::string& dir) {
  TIDAL_ASSIGN_OR_RETURN(FileHandle d, FileHandle::open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(d.fd()) != 0) return os_error("fsync", dir, errno);
  return Status::Ok();
}

Status write_file_atomic(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp";
  {
    TIDAL_ASSIGN_OR_RETURN(FileHandle f, FileHandle::open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    TIDAL_RETURN_IF_ERROR(f.write_all(contents));
    TIDAL_RETURN_IF_ERROR(f.sync_data());
    TIDAL_RETURN_IF_ERROR(f.close());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return os_error("rename to", path, errno);
  std::string dir = std::filesystem::path(path).parent_path().string();
  return sync_dir(dir.empty() ? "." : dir);
}

Status create_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return os_error("mkdir", dir, ec.value());
  return Status::Ok();
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return os_error("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return os_error("readdir", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tidal
