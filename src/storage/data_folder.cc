#include "storage/data_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/posix_file.h"

namespace tidal {

namespace fs = std::filesystem;

namespace {

constexpr Subsystem kSub = Subsystem::kStorage;
constexpr std::string_view kMarkerTitle = "tidalDB data folder";
constexpr size_t kMaxMarkerBytes = 4096;
// Files an interrupted creation may leave behind (see data_folder.h).
constexpr std::string_view kCreationLeftovers[] = {"LOCK", "TIDAL.tmp"};

// Closes a file descriptor when it goes out of scope, unless released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status io_error(std::string_view what, const std::string& path, int err) {
  std::string m(what);
  m += ' ';
  m += path;
  return Status::IoErrorFromErrno(kSub, m, err);
}

Status io_error(std::string_view what, const std::string& path, const std::error_code& ec) {
  return Status::IoError(kSub, std::string(what) + " " + path + ": " + ec.message());
}

Result<std::string> read_small_file(int fd, const std::string& path) {
  std::string out;
  char buf[1024];
  while (out.size() <= kMaxMarkerBytes) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The pid recorded in a LOCK file, or -1 when it holds none.
long read_lock_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  long pid = -1;
  if (n > 0) std::from_chars(buf, buf + n, pid);
  return pid;
}

// Opens and flocks <path>/LOCK. Returns -1 (no lock) only for a read-only
// open of a folder without a LOCK file.
Result<int> lock_folder(const std::string& path, bool read_only) {
  std::string lock_path = path + "/LOCK";
  int fd = read_only ? ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC)
                     : ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && read_only && errno == ENOENT) return -1;
  if (fd < 0) return io_error("cannot open", lock_path, errno);
  FdCloser closer(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK) return io_error("cannot lock", lock_path, err);
    long pid = read_lock_pid(fd);
    std::string who = pid == static_cast<long>(::getpid()) ? "another DataFolder in this process"
                                                           : "another process";
    std::string pid_text = pid > 0 ? std::to_string(pid) : "unknown";
    return Status::Busy(kSub,
                        "data folder " + path + " is locked by " + who + " (pid " + pid_text + ")");
  }
  if (!read_only) {
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0) return io_error("cannot truncate", lock_path, errno);
    if (::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      return io_error("cannot write", lock_path, errno);
    }
  }
  return closer.release();
}

// True when the folder holds nothing but what an interrupted creation leaves.
Result<bool> is_effectively_empty(const std::string& path) {
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    bool leftover = false;
    for (std::string_view l : kCreationLeftovers) leftover = leftover || name == l;
    if (!leftover) return false;
  }
  if (ec) return io_error("cannot list", path, ec);
  return true;
}

Status make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec) return io_error("cannot create folder", dir, ec);
  return Status::Ok();
}

}  // namespace

std::string format_data_folder_marker(uint32_t format_version, std::string_view created_iso,
                                      const DatabaseId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kMarkerTitle);
  out += "\nformat ";
  out += std::to_string(format_version);
  out += "\ncreated ";
  out += created_iso;
  out += "\nid ";
  for (uint8_t b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  out += "\n";
  return out;
}

Result<DatabaseId> parse_database_id(std::string_view text, const std::string& marker_path) {
  size_t pos = text.find("\nid ");
  std::string_view hex = pos == std::string_view::npos ? "" : text.substr(pos + 4, 32);
  DatabaseId id{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  bool ok = hex.size() == 32 && (pos + 4 + 32 == text.size() || text[pos + 4 + 32] == '\n');
  for (size_t i = 0; ok && i < 16; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) ok = false;
    id[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if (!ok) {
    return Status::Corruption(kSub, marker_path +
                                        " is malformed: no \"id <32 hex digits>\" line (the "
                                        "database id)");
  }
  return id;
}

Result<DatabaseId> new_database_id() {
  DatabaseId id{};
  ssize_t n = ::getrandom(id.data(), id.size(), 0);
  if (n != static_cast<ssize_t>(id.size())) {
    return Status::IoErrorFromErrno(kSub, "getrandom for a database id", errno);
  }
  return id;
}

Result<uint32_t> parse_data_folder_marker(std::string_view text, const std::string& marker_path) {
  auto malformed = [&](std::string_view why) {
    return Status::Corruption(kSub, marker_path + " is malformed: " + std::string(why));
  };
  auto next_line = [&text]() {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    return line;
  };
  if (next_line() != kMarkerTitle) {
    return malformed("the first line is not \"" + std::string(kMarkerTitle) + "\"");
  }
  std::string_view format = next_line();
  constexpr std::string_view kFormat = "format ";
  uint32_t version = 0;
  if (!format.starts_with(kFormat)) return malformed("the second line is not \"format <N>\"");
  format.remove_prefix(kFormat.size());
  auto [end, ec] = std::from_chars(format.data(), format.data() + format.size(), version);
  if (ec != std::errc() || end != format.data() + format.size() || version == 0) {
    return malformed("the format version \"" + std::string(format) +
                     "\" is not a positive integer");
  }
  std::string_view created = next_line();
  if (!created.starts_with("created ") || created.size() == 8) {
    return malformed("the third line is not \"created <time>\"");
  }
  return version;
}

Result<std::unique_ptr<DataFolder>> DataFolder::open(const std::string& path_in,
                                                     const DataFolderOptions& opts) {
  std::string path = path_in;
  while (path.size() > 1 && path.back() == '/') path.pop_back();

  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return io_error("cannot stat", path, ec);
  if (!fs::exists(st)) {
    if (!opts.create_if_missing || opts.read_only) {
      return Status::NotFound(
          kSub, "no tidalDB data folder at " + path + ": it does not exist" +
                    (opts.read_only ? " (opened read-only)" : " (create_if_missing is off)"));
    }
    fs::create_directories(path, ec);
    if (ec) return io_error("cannot create folder", path, ec);
  } else if (!fs::is_directory(st)) {
    return Status::FailedPrecondition(kSub, path + " exists and is not a directory");
  }

  // Check the folder is ours before creating LOCK in it.
  const std::string marker = path + "/TIDAL";
  if (!fs::exists(marker, ec)) {
    if (opts.read_only) {
      return Status::NotFound(
          kSub, "not a tidalDB data folder: " + path + " has no TIDAL marker (opened read-only)");
    }
    TIDAL_ASSIGN_OR_RETURN(bool empty, is_effectively_empty(path));
    if (!empty) {
      return Status::FailedPrecondition(kSub, "not a tidalDB data folder: " + path +
                                                  " has files but no TIDAL marker; refusing to "
                                                  "use it");
    }
  }

  TIDAL_ASSIGN_OR_RETURN(int lock_fd, lock_folder(path, opts.read_only));
  FdCloser lock(lock_fd);

  // Checked again under the lock: another process may have created it.
  if (!fs::exists(marker, ec) && !opts.read_only) {
    TIDAL_ASSIGN_OR_RETURN(DatabaseId fresh, new_database_id());
    TIDAL_RETURN_IF_ERROR(write_file_atomic(
        path + "/TIDAL", format_data_folder_marker(kCurrentFormatVersion, now_iso8601(), fresh)));
  }
  int marker_fd = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
  if (marker_fd < 0) return io_error("cannot open", marker, errno);
  FdCloser marker_closer(marker_fd);
  TIDAL_ASSIGN_OR_RETURN(std::string text, read_small_file(marker_fd, marker));
  if (text.size() > kMaxMarkerBytes) {
    return Status::Corruption(
        kSub, marker + " is malformed: larger than " + std::to_string(kMaxMarkerBytes) + " bytes");
  }
  TIDAL_ASSIGN_OR_RETURN(uint32_t version, parse_data_folder_marker(text, marker));
  if (version > kCurrentFormatVersion) {
    return Status::NotSupported(kSub, "data folder " + path + " holds format version " +
                                          std::to_string(version) +
                                          ", newer than this build supports (" +
                                          std::to_string(kCurrentFormatVersion) + ")");
  }
  TIDAL_ASSIGN_OR_RETURN(DatabaseId id, parse_database_id(text, marker));

  if (!opts.read_only) {
    for (const char* sub : {"/storage", "/wal"}) TIDAL_RETURN_IF_ERROR(make_dir(path + sub));
    TIDAL_RETURN_IF_ERROR(sync_dir(path));
  }
  return std::unique_ptr<DataFolder>(
      new DataFolder(std::move(path), lock.release(), version, id, opts.read_only));
}

DataFolder::DataFolder(std::string path, int lock_fd, uint32_t format_version, DatabaseId id,
                       bool read_only)
    : path_(std::move(path)),
      lock_fd_(lock_fd),
      format_version_(format_version),
      database_id_(id),
      read_only_(read_only) {}

DataFolder::~DataFolder() {
  // Closing the descriptor releases the flock.
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<RocksDbEngine>> DataFolder::open_storage(
    const RocksDbOptions& options) const {
  RocksDbOptions o = options;
  if (read_only_) {
    o.read_only = true;
    o.create_if_missing = false;
  }
  return RocksDbEngine::open(storage_dir(), o);
}

}  // namespace tidal
