// storage_bench: the StorageEngine backends against raw RocksDB.
//
// Subjects: MemoryEngine; RocksDbEngine with kDerived and with kDurable
// writes; and the peer, RocksDB used directly with the same options (WAL off
// for the derived comparison, WAL + sync for the durable one). Workloads, on
// keys of the real layout (encode_entity_key, 8-byte ids, 16 keys per entity)
// and ~100-byte values: sequential and random put, random get of present keys
// (throughput and p50/p99 latency), prefix scan of one entity's keys, and
// batched put (1000 ops per batch). Ratios tidal/raw show what the engine
// layer costs. Durable puts sync once each, so they run on a smaller count.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/key_encoding.h"
#include "storage/memory_engine.h"
#include "storage/rocksdb_engine.h"
#include "support/bench_report.h"

namespace tidal {
namespace {

constexpr int kKeysPerEntity = 16;
constexpr size_t kValueBytes = 100;
constexpr size_t kBatchOps = 1000;

[[noreturn]] void die(const std::string& what) {
  bench::bench_fail("storage_bench", what);
}

void check(const Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.to_string());
}

void check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.ToString());
}

// One store under test. The same workload code drives every subject; the
// adapter's virtual call is noise next to a RocksDB operation.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual void put(Keyspace ks, std::string_view key, std::string_view value) = 0;
  virtual bool get(Keyspace ks, std::string_view key, std::string* value) = 0;
  // Visits every key with `prefix`; returns how many (all values are non-empty).
  virtual size_t scan_prefix(Keyspace ks, std::string_view prefix) = 0;
  virtual void write(Keyspace ks, const std::vector<const std::string*>& keys,
                     std::string_view value) = 0;
  virtual void flush() = 0;
};

class EngineSubject final : public Subject {
 public:
  EngineSubject(StorageEngine* engine, WriteMode mode) : engine_(engine), mode_(mode) {}
  void put(Keyspace ks, std::string_view key, std::string_view value) override {
    check(engine_->put(ks, key, value, mode_), "put");
  }
  bool get(Keyspace ks, std::string_view key, std::string* value) override {
    auto r = engine_->get(ks, key);
    check(r.status(), "get");
    if (!r->has_value()) return false;
    *value = std::move(**r);
    return true;
  }
  size_t scan_prefix(Keyspace ks, std::string_view prefix) override {
    size_t n = 0;
    auto it = engine_->scan_prefix(ks, prefix);
    for (; it->valid(); it->next()) {
      if (!it->value().empty()) ++n;
    }
    check(it->status(), "scan");
    return n;
  }
  void write(Keyspace ks, const std::vector<const std::string*>& keys,
             std::string_view value) override {
    WriteBatch batch;
    for (const std::string* k : keys) batch.put(ks, *k, value);
    check(engine_->write(batch, mode_), "write");
  }
  void flush() override { check(engine_->flush(), "flush"); }

 private:
  StorageEngine* engine_;
  WriteMode mode_;
};

// RocksDB used directly, configured as RocksDbEngine configures it.
class RawRocksDbSubject final : public Subject {
 public:
  RawRocksDbSubject(const std::string& dir, const RocksDbOptions& options, bool durable) {
    rocksdb::DBOptions db_options = rocksdb_db_options(options);
    auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    rocksdb::ColumnFamilyOptions cf = rocksdb_column_family_options(options, cache);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, cf}};
    for (Keyspace ks : kAllKeyspaces) descriptors.emplace_back(std::string(keyspace_name(ks)), cf);
    check(rocksdb::DB::Open(db_options, dir, descriptors, &handles_, &db_), "raw open");
    if (durable) {
      wo_.sync = true;
    } else {
      wo_.disableWAL = true;
    }
  }
  ~RawRocksDbSubject() override {
    for (auto* h : handles_) check(db_->DestroyColumnFamilyHandle(h), "raw close");
    check(db_->Close(), "raw close");
    delete db_;
  }
  void put(Keyspace ks, std::string_view key, std::string_view value) override {
    check(db_->Put(wo_, cf(ks), rocksdb::Slice(key.data(), key.size()),
                   rocksdb::Slice(value.data(), value.size())),
          "raw put");
  }
  bool get(Keyspace ks, std::string_view key, std::string* value) override {
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), cf(ks), rocksdb::Slice(key.data(), key.size()), value);
    if (s.IsNotFound()) return false;
    check(s, "raw get");
    return true;
  }
  size_t scan_prefix(Keyspace ks, std::string_view prefix) override {
    std::string upper = prefix_successor(prefix);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(ks)));
    size_t n = 0;
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
      if (!it->value().empty()) ++n;
    }
    check(it->status(), "raw scan");
    return n;
  }
  void write(Keyspace ks, const std::vector<const std::string*>& keys,
             std::string_view value) override {
    rocksdb::WriteBatch batch;
    for (const std::string* k : keys) {
      check(batch.Put(cf(ks), *k, rocksdb::Slice(value.data(), value.size())), "raw batch");
    }
    check(db_->Write(wo_, &batch), "raw write");
  }
  void flush() override {
    check(db_->FlushWAL(true), "raw flush");
    rocksdb::FlushOptions fo;
    std::vector<rocksdb::ColumnFamilyHandle*> ours(handles_.begin() + 1, handles_.end());
    check(db_->Flush(fo, ours), "raw flush");
  }

 private:
  rocksdb::ColumnFamilyHandle* cf(Keyspace ks) { return handles_[static_cast<size_t>(ks) + 1]; }
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions wo_;
};

struct Workload {
  size_t keys;          // keys written by each put workload
  size_t gets;          // random gets
  size_t scans;         // prefix scans
  bool reads;           // run the read workloads
  std::string subject;  // metric prefix
};

// Keys and values shared by every subject, built once.
struct Data {
  std::vector<std::string> keys;       // ascending
  std::vector<uint32_t> random_order;  // a permutation of key indexes
  std::string value;

  explicit Data(size_t n) {
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      std::string suffix;
      suffix.push_back(static_cast<char>((i % kKeysPerEntity) >> 8));
      suffix.push_back(static_cast<char>(i % kKeysPerEntity));
      keys.push_back(encode_entity_key(EntityId(i / kKeysPerEntity), KeyTag::kAttributes, suffix));
    }
    random_order.resize(n);
    for (size_t i = 0; i < n; ++i) random_order[i] = static_cast<uint32_t>(i);
    std::mt19937_64 rng(42);
    std::shuffle(random_order.begin(), random_order.end(), rng);
    // Half random letters, half repetition: compressible, like real attributes.
    for (size_t i = 0; i < kValueBytes; ++i) {
      value.push_back(i < kValueBytes / 2 ? static_cast<char>('a' + rng() % 26) : 'x');
    }
  }
};

using Figures = std::map<std::string, double>;

Figures run(Subject& s, const Data& data, const Workload& w, bench::BenchReport& report) {
  Figures f;
  auto add = [&](const std::string& metric, double value, const std::string& unit,
                 const std::string& note = "") {
    f[metric] = value;
    report.add(w.subject + "_" + metric, value, unit, note);
  };
  const size_t n = std::min(w.keys, data.keys.size());

  double t0 = bench::now_seconds();
  for (size_t i = 0; i < n; ++i) s.put(Keyspace::kEntities, data.keys[i], data.value);
  add("seq_put", n / (bench::now_seconds() - t0), "ops/s", std::to_string(n) + " keys");

  // Random order over the same key set, in a fresh keyspace.
  t0 = bench::now_seconds();
  size_t step = data.keys.size() / n;
  for (size_t i = 0; i < n; ++i) {
    s.put(Keyspace::kSignals, data.keys[data.random_order[i * step]], data.value);
  }
  add("rand_put", n / (bench::now_seconds() - t0), "ops/s");

  std::vector<const std::string*> batch;
  t0 = bench::now_seconds();
  for (size_t i = 0; i < n; ++i) {
    batch.push_back(&data.keys[data.random_order[i * step]]);
    if (batch.size() == kBatchOps || i + 1 == n) {
      s.write(Keyspace::kEvents, batch, data.value);
      batch.clear();
    }
  }
  add("batch_put", n / (bench::now_seconds() - t0), "ops/s", "1000 ops/batch");
  if (!w.reads) return f;

  s.flush();  // reads run against flushed state, as after a checkpoint
  std::mt19937_64 rng(7);
  std::vector<double> latency_us;
  latency_us.reserve(w.gets);
  std::string value;
  size_t misses = 0;
  t0 = bench::now_seconds();
  for (size_t i = 0; i < w.gets; ++i) {
    const std::string& key = data.keys[rng() % n];
    double start = bench::now_seconds();
    misses += !s.get(Keyspace::kEntities, key, &value);
    latency_us.push_back((bench::now_seconds() - start) * 1e6);
  }
  double elapsed = bench::now_seconds() - t0;
  if (misses != 0) die(w.subject + ": " + std::to_string(misses) + " gets missed");
  add("rand_get", w.gets / elapsed, "ops/s", "present keys");
  add("rand_get_p50", bench::percentile(latency_us, 50), "us");
  add("rand_get_p99", bench::percentile(latency_us, 99), "us");

  size_t entities = n / kKeysPerEntity;
  size_t visited = 0;
  t0 = bench::now_seconds();
  for (size_t i = 0; i < w.scans; ++i) {
    visited += s.scan_prefix(Keyspace::kEntities, entity_prefix(EntityId(rng() % entities)));
  }
  elapsed = bench::now_seconds() - t0;
  if (visited != w.scans * kKeysPerEntity) die(w.subject + ": prefix scans saw too few keys");
  add("prefix_scan", visited / elapsed, "keys/s", "16 keys per entity");
  return f;
}

void add_ratios(const Figures& tidal, const Figures& raw, const std::string& name,
                bench::BenchReport& report) {
  for (const auto& [metric, value] : tidal) {
    auto it = raw.find(metric);
    if (it == raw.end() || it->second == 0) continue;
    bool lower_is_better = metric.ends_with("_p50") || metric.ends_with("_p99");  // latency
    report.add("ratio_" + name + "_" + metric, value / it->second, "x",
               lower_is_better ? "tidal/raw, lower is better" : "tidal/raw, higher is better");
  }
}

int main_impl(int argc, char** argv) {
  bench::BenchArgs args = bench::parse_bench_args(
      argc, argv,
      "storage_bench [--quick | --smoke]\n"
      "  MemoryEngine and RocksDbEngine against raw RocksDB with the same options.\n"
      "  --quick: 100k keys (seconds); default: 2M keys.");
  const size_t n = args.sized<size_t>(2'000'000, 100'000, 5'000);
  const size_t durable_n = args.sized<size_t>(5'000, 500, 20);
  const size_t gets = args.sized<size_t>(1'000'000, 100'000, 5'000);
  const size_t scans = args.sized<size_t>(200'000, 20'000, 1'000);

  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/tidal-storage-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) die("mkdtemp failed for " + tmpl);
  const std::string root = tmpl;

  std::printf("storage_bench: %zu keys, %zu durable puts, %zu gets, %zu prefix scans, in %s\n", n,
              durable_n, gets, scans, root.c_str());
  Data data(n);
  RocksDbOptions options;  // the production defaults
  bench::BenchReport report("storage_bench");

  {
    MemoryEngine memory;
    EngineSubject s(&memory, WriteMode::kDerived);
    run(s, data, {n, gets, scans, true, "memory"}, report);
  }
  Figures tidal_derived, raw_derived, tidal_durable, raw_durable;
  {
    auto engine = RocksDbEngine::open(root + "/tidal_derived", options);
    check(engine.status(), "open");
    EngineSubject s(engine->get(), WriteMode::kDerived);
    tidal_derived = run(s, data, {n, gets, scans, true, "tidal_rocksdb_derived"}, report);
  }
  {
    RawRocksDbSubject s(root + "/raw_derived", options, /*durable=*/false);
    raw_derived = run(s, data, {n, gets, scans, true, "raw_rocksdb_nowal"}, report);
  }
  {
    auto engine = RocksDbEngine::open(root + "/tidal_durable", options);
    check(engine.status(), "open");
    EngineSubject s(engine->get(), WriteMode::kDurable);
    tidal_durable = run(s, data, {durable_n, 0, 0, false, "tidal_rocksdb_durable"}, report);
  }
  {
    RawRocksDbSubject s(root + "/raw_durable", options, /*durable=*/true);
    raw_durable = run(s, data, {durable_n, 0, 0, false, "raw_rocksdb_sync"}, report);
  }
  add_ratios(tidal_derived, raw_derived, "derived", report);
  add_ratios(tidal_durable, raw_durable, "durable", report);
  report.print();

  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}

}  // namespace
}  // namespace tidal

int main(int argc, char** argv) {
  return tidal::main_impl(argc, argv);
}
