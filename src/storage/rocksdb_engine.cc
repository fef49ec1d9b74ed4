#include "storage/rocksdb_engine.h"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "core/posix_file.h"

namespace tidal {

// Whether RocksDB stopped taking writes after a background error, and keeps
// RocksDB's own recovery from running (see rocksdb_engine.h).
class RocksDbErrorListener final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error != nullptr && !error->ok()) stopped_.store(true);
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    // RocksDB's recovery waits for write_buffer_bytes of free space and makes
    // DB::Resume() answer Busy meanwhile: the engine resumes by itself.
    *auto_recovery = false;
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) stopped_.store(false);
  }
  bool stopped() const { return stopped_.load(); }

 private:
  std::atomic<bool> stopped_{false};
};

namespace {

rocksdb::Slice slice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

// Translates a RocksDB status into a tidalDB one. `what` names the operation
// and, where there is one, the keyspace: "put in keyspace entities".
Status translate(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg(what);
  msg += ": ";
  msg += s.ToString();
  constexpr Subsystem kSub = Subsystem::kStorage;
  switch (s.code()) {
    case rocksdb::Status::kOk: return Status::Ok();
    case rocksdb::Status::kNotFound: return Status::NotFound(kSub, std::move(msg));
    case rocksdb::Status::kCorruption: return Status::Corruption(kSub, std::move(msg));
    case rocksdb::Status::kNotSupported: return Status::NotSupported(kSub, std::move(msg));
    case rocksdb::Status::kInvalidArgument:
      return Status(kSub, StatusCode::kInvalidArgument, std::move(msg));
    case rocksdb::Status::kIOError:
      if (s.IsNoSpace()) return Status::NoSpace(kSub, std::move(msg));
      // RocksDB reports its LOCK file being held as an IOError, in one of
      // two wordings (same process / another process).
      if (const std::string rs = s.ToString();
          rs.find("lock hold by current process") != std::string::npos ||
          rs.find("While lock file") != std::string::npos) {
        return Status::Busy(kSub, std::move(msg));
      }
      return Status::IoError(kSub, std::move(msg));
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kExpired: return Status::Busy(kSub, std::move(msg));
    case rocksdb::Status::kAborted:
      if (s.IsMemoryLimit()) return Status::ResourceExhausted(kSub, std::move(msg));
      return Status::Aborted(kSub, std::move(msg));
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kIncomplete: return Status::Aborted(kSub, std::move(msg));
    case rocksdb::Status::kColumnFamilyDropped:
      return Status::FailedPrecondition(kSub, std::move(msg));
    default: return Status::Internal(kSub, std::move(msg));
  }
}

std::string in_keyspace(std::string_view op, Keyspace ks) {
  std::string s(op);
  s += " in keyspace ";
  s += keyspace_name(ks);
  return s;
}

// As above, for operation `op` on keyspace `ks`; builds the message only on
// failure, since it runs on every write.
Status translate(const rocksdb::Status& s, std::string_view op, Keyspace ks) {
  if (s.ok()) return Status::Ok();
  return translate(s, in_keyspace(op, ks));
}

rocksdb::WriteOptions write_options(WriteMode mode) {
  rocksdb::WriteOptions wo;
  if (mode == WriteMode::kDerived) {
    wo.disableWAL = true;
  } else {
    wo.sync = true;
  }
  return wo;
}

// RocksDB's info log in dir/LOG (the previous one kept as LOG.old), each line
// one write(2); a line the disk has no room for is dropped. RocksDB's own
// log writer aborts on the line after a failed write in Debian's build.
class RocksDbLogFile final : public rocksdb::Logger {
 public:
  explicit RocksDbLogFile(const std::string& dir)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {
    const std::string path = dir + "/LOG";
    std::error_code ec;
    std::filesystem::rename(path, path + ".old", ec);  // absent the first time
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  }
  ~RocksDbLogFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char line[2048];
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    int n =
        std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900,
                      t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000);
    int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, format, ap);
    if (m < 0) return;
    size_t len = std::min(sizeof line - 2, static_cast<size_t>(n + m));
    line[len++] = '\n';
    ssize_t w = ::write(fd_, line, len);
    (void)w;  // a full disk drops the line
  }

 private:
  int fd_ = -1;
};

bool compression_supported(rocksdb::CompressionType type) {
  auto supported = rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), type) != supported.end();
}

}  // namespace

rocksdb::DBOptions rocksdb_db_options(const RocksDbOptions& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  db.max_background_jobs = options.background_jobs;
  // kDerived writes bypass the WAL; an atomic flush keeps a batch that spans
  // column families whole across a crash.
  db.atomic_flush = true;
  db.bytes_per_sync = 1 << 20;
  // No space reserved ahead of use: RocksDB's WAL (which only rare kDurable
  // writes use) would preallocate 1.1 write buffers, its manifest 4 MiB —
  // room a small or nearly full disk needs to recover.
  db.allow_fallocate = false;
  db.manifest_preallocation_size = 64 << 10;
  return db;
}

rocksdb::ColumnFamilyOptions rocksdb_column_family_options(
    const RocksDbOptions& options, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.level_compaction_dynamic_level_bytes = true;
  if (compression_supported(rocksdb::kLZ4Compression)) {
    cf.compression = rocksdb::kLZ4Compression;
  }
  if (compression_supported(rocksdb::kZSTD)) cf.bottommost_compression = rocksdb::kZSTD;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.format_version = 5;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

// Reads a snapshot of [begin, end): RocksDB's iterator pins the state at
// creation. `upper_` and `upper_slice_` back ReadOptions::iterate_upper_bound,
// which RocksDB reads for the iterator's whole life, so they are declared
// before (and destroyed after) `it_`.
class RocksDbEngine::Iterator final : public StorageIterator {
 public:
  Iterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, Keyspace ks, std::string_view begin,
           std::string_view end)
      : ks_(ks), upper_(end), upper_slice_(upper_) {
    rocksdb::ReadOptions ro;
    if (!upper_.empty()) ro.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(ro, cf));
    it_->Seek(slice(begin));
  }

  bool valid() const override { return it_->Valid(); }
  void next() override {
    if (it_->Valid()) it_->Next();
  }
  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  Status status() const override { return translate(it_->status(), "scan", ks_); }

 private:
  Keyspace ks_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

Result<std::unique_ptr<RocksDbEngine>> RocksDbEngine::open(const std::string& dir,
                                                           const RocksDbOptions& options) {
  rocksdb::DBOptions db_options = rocksdb_db_options(options);
  auto errors = std::make_shared<RocksDbErrorListener>();
  db_options.listeners.push_back(errors);
  if (!options.create_if_missing || options.read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/CURRENT", ec)) {
      return Status::NotFound(
          Subsystem::kStorage,
          "open RocksDB at " + dir + ": no database there (" +
              (options.read_only ? "opened read-only" : "create_if_missing is off") + ")");
    }
  }
  if (!options.read_only) {
    if (options.create_if_missing) {
      Status made = create_dirs(dir);
      if (!made.ok()) return made.with_context("open RocksDB at " + dir);
    }
    db_options.info_log = std::make_shared<RocksDbLogFile>(dir);
  }
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions cf_options = rocksdb_column_family_options(options, cache);

  // RocksDB must be given every column family on disk: ours, "default", and
  // any this build does not know (opened with the same options, left alone).
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (Keyspace ks : kAllKeyspaces) names.emplace_back(keyspace_name(ks));
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, dir, &existing).ok()) {
    for (const std::string& name : existing) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, cf_options);

  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &db)
                        : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &db);
  if (!s.ok()) {
    Status st = translate(s, "open RocksDB at " + dir);
    // A missing database with create_if_missing off is InvalidArgument to RocksDB.
    if (!options.create_if_missing && s.IsInvalidArgument() &&
        s.ToString().find("does not exist") != std::string::npos) {
      return Status::NotFound(Subsystem::kStorage, st.message());
    }
    return st;
  }
  std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> keyspaces{};
  for (int i = 0; i < kKeyspaceCount; ++i) keyspaces[i] = handles[static_cast<size_t>(i) + 1];
  return std::unique_ptr<RocksDbEngine>(
      new RocksDbEngine(dir, db, std::move(handles), keyspaces, std::move(errors)));
}

RocksDbEngine::RocksDbEngine(std::string dir, rocksdb::DB* db,
                             std::vector<rocksdb::ColumnFamilyHandle*> handles,
                             std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> keyspaces,
                             std::shared_ptr<RocksDbErrorListener> errors)
    : dir_(std::move(dir)),
      db_(db),
      handles_(std::move(handles)),
      keyspaces_(keyspaces),
      errors_(std::move(errors)) {}

Status RocksDbEngine::resume_if_stopped() {
  if (!errors_->stopped()) return Status::Ok();
  // Never a plain Flush first: after a failed WAL append RocksDB would make
  // the error permanent. Resume() flushes the memtables and clears it.
  return translate(db_->Resume(), "resume RocksDB after a failed write (a full disk?)");
}

RocksDbEngine::~RocksDbEngine() {
  // Waiting for background work also flushes memtables holding unlogged
  // (kDerived) writes, unless RocksDB is told to avoid it; it is not.
  rocksdb::CancelAllBackgroundWork(db_, /*wait=*/true);
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
    (void)s;  // nothing to do about it in a destructor
  }
  rocksdb::Status s = db_->Close();
  (void)s;
  delete db_;
}

void RocksDbEngine::drop_unflushed_on_close() {
  rocksdb::Status s = db_->SetDBOptions({{"avoid_flush_during_shutdown", "true"}});
  (void)s;  // a test hook: if it fails, the close flushes, and the test sees more, not less
}

Result<std::optional<std::string>> RocksDbEngine::get(Keyspace ks, std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(ks), slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return translate(s, "get", ks);
  return std::optional<std::string>(std::move(value));
}

Status RocksDbEngine::put(Keyspace ks, std::string_view key, std::string_view value,
                          WriteMode mode) {
  TIDAL_RETURN_IF_ERROR(resume_if_stopped());
  std::shared_lock lock(write_mu_);
  return translate(db_->Put(write_options(mode), cf(ks), slice(key), slice(value)), "put", ks);
}

Status RocksDbEngine::del(Keyspace ks, std::string_view key, WriteMode mode) {
  TIDAL_RETURN_IF_ERROR(resume_if_stopped());
  std::shared_lock lock(write_mu_);
  return translate(db_->Delete(write_options(mode), cf(ks), slice(key)), "delete", ks);
}

Status RocksDbEngine::write(const WriteBatch& batch, WriteMode mode) {
  TIDAL_RETURN_IF_ERROR(resume_if_stopped());
  bool open_ended = std::any_of(batch.ops().begin(), batch.ops().end(), [](const auto& op) {
    return op.type == WriteBatch::OpType::kDeleteRange && op.value.empty();
  });
  // An open-ended range is resolved against the keys present now, so no
  // other write may land between resolving it and applying the batch.
  std::shared_lock shared(write_mu_, std::defer_lock);
  std::unique_lock exclusive(write_mu_, std::defer_lock);
  if (open_ended) {
    exclusive.lock();
  } else {
    shared.lock();
  }

  // The largest key an earlier put in this batch wrote, per keyspace: an
  // open-ended delete_range must cover it too.
  std::array<std::optional<std::string>, kKeyspaceCount> batch_max;
  rocksdb::WriteBatch wb;
  for (const WriteBatch::Op& op : batch.ops()) {
    rocksdb::ColumnFamilyHandle* h = cf(op.keyspace);
    auto& max_put = batch_max[static_cast<size_t>(op.keyspace)];
    rocksdb::Status s;
    switch (op.type) {
      case WriteBatch::OpType::kPut:
        s = wb.Put(h, slice(op.key), slice(op.value));
        if (open_ended && (!max_put || op.key > *max_put)) max_put = op.key;
        break;
      case WriteBatch::OpType::kDelete: s = wb.Delete(h, slice(op.key)); break;
      case WriteBatch::OpType::kDeleteRange: {
        std::string end = op.value;
        if (end.empty()) {
          std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), h));
          it->SeekToLast();
          TIDAL_RETURN_IF_ERROR(translate(it->status(), "delete_range", op.keyspace));
          std::string last = it->Valid() ? it->key().ToString() : std::string();
          bool any = it->Valid();
          if (max_put && (!any || *max_put > last)) {
            last = *max_put;
            any = true;
          }
          if (!any) break;    // nothing stored: nothing to delete
          end = last + '\0';  // the smallest key after `last`
        }
        if (op.key >= end) break;  // an empty range
        s = wb.DeleteRange(h, slice(op.key), slice(end));
        break;
      }
    }
    TIDAL_RETURN_IF_ERROR(translate(s, "batch", op.keyspace));
  }
  return translate(db_->Write(write_options(mode), &wb), "write batch");
}

std::unique_ptr<StorageIterator> RocksDbEngine::scan(Keyspace ks, std::string_view begin,
                                                     std::string_view end) {
  return std::make_unique<Iterator>(db_, cf(ks), ks, begin, end);
}

Status RocksDbEngine::flush() {
  // kDurable writes sync RocksDB's WAL themselves, kDerived ones skip it: no
  // FlushWAL here (after a failed WAL write it would abort in Debian's build).
  TIDAL_RETURN_IF_ERROR(resume_if_stopped());
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> ours(keyspaces_.begin(), keyspaces_.end());
  return translate(db_->Flush(fo, ours), "flush keyspaces");
}

Result<uint64_t> RocksDbEngine::approximate_count(Keyspace ks) {
  uint64_t n = 0;
  if (!db_->GetIntProperty(cf(ks), "rocksdb.estimate-num-keys", &n)) {
    return Status::Internal(Subsystem::kStorage,
                            in_keyspace("read rocksdb.estimate-num-keys", ks) + ": not available");
  }
  return n;
}

}  // namespace tidal
