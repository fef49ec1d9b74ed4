// Model-based test of the StorageEngine backends: random operations applied
// to MemoryEngine, RocksDbEngine and a std::map model must agree at every
// read, including after RocksDB is flushed, closed and reopened.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "storage/key_encoding.h"
#include "support/storage_testing.h"

namespace tidal {
namespace {

using testing::KeyValues;
using testing::scan_all;

// Keys are short strings over a few bytes (0x00 and 0xff included), so that
// keys collide, share prefixes and sit at range boundaries often.
rc::Gen<std::string> gen_key() {
  return rc::gen::mapcat(rc::gen::inRange(0, 4), [](int n) {
    return rc::gen::container<std::string>(
        static_cast<size_t>(n), rc::gen::element<char>('\0', '\x01', 'a', 'b', '\x80', '\xff'));
  });
}

rc::Gen<Keyspace> gen_keyspace() {
  // Mostly one keyspace, so operations pile up on the same keys.
  return rc::gen::weightedElement<Keyspace>(
      {{4, Keyspace::kEntities}, {1, Keyspace::kMeta}, {1, Keyspace::kEvents}});
}

// The model: one ordered map per keyspace, with the documented semantics.
class Model {
 public:
  using Map = std::map<std::string, std::string>;

  void apply(const WriteBatch& batch) {
    for (const WriteBatch::Op& op : batch.ops()) {
      Map& m = maps_[static_cast<size_t>(op.keyspace)];
      switch (op.type) {
        case WriteBatch::OpType::kPut: m[op.key] = op.value; break;
        case WriteBatch::OpType::kDelete: m.erase(op.key); break;
        case WriteBatch::OpType::kDeleteRange:
          for (auto it = m.lower_bound(op.key);
               it != m.end() && (op.value.empty() || it->first < op.value);) {
            it = m.erase(it);
          }
          break;
      }
    }
  }
  std::optional<std::string> get(Keyspace ks, const std::string& key) const {
    const Map& m = maps_[static_cast<size_t>(ks)];
    auto it = m.find(key);
    return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  KeyValues scan(Keyspace ks, const std::string& begin, const std::string& end) const {
    KeyValues out;
    const Map& m = maps_[static_cast<size_t>(ks)];
    for (auto it = m.lower_bound(begin); it != m.end() && (end.empty() || it->first < end); ++it) {
      out.emplace_back(it->first, it->second);
    }
    return out;
  }

 private:
  Map maps_[kKeyspaceCount];
};

// One RocksDB database for the whole property, emptied at the start of each
// case: opening one per case would dominate the run time.
struct SharedRocksDb {
  testing::TempDir dir;
  std::unique_ptr<RocksDbEngine> engine;

  // Opening here, inside the constructor, makes RocksDB's own statics (its
  // default Env) older than this object, so they outlive it at exit, when the
  // engine is closed and the folder removed.
  SharedRocksDb() { open(); }

  void open() {
    auto r = RocksDbEngine::open(dir.sub("db"), testing::small_rocksdb_options());
    RC_ASSERT(r.ok());
    engine = std::move(r).value();
  }
  void reopen() {
    RC_ASSERT(engine->flush().ok());
    engine.reset();
    open();
  }
  void clear() {
    if (!engine) open();  // a failed reopen in an earlier case
    WriteBatch wipe;
    for (Keyspace ks : kAllKeyspaces) wipe.delete_range(ks, "", "");
    RC_ASSERT(engine->write(wipe).ok());
    for (Keyspace ks : kAllKeyspaces) RC_ASSERT(scan_all(*engine, ks).empty());
  }
};

SharedRocksDb& shared_rocksdb() {
  static SharedRocksDb db;
  return db;
}

enum class OpKind { kPut, kDel, kBatch, kGet, kScan, kScanPrefix, kReopen };

RC_GTEST_PROP(StorageEngineProp, BackendsAgreeWithModel, ()) {
  SharedRocksDb& rocks = shared_rocksdb();
  rocks.clear();
  MemoryEngine memory;
  Model model;

  auto check_scan = [&](Keyspace ks, const std::string& begin, const std::string& end) {
    KeyValues want = model.scan(ks, begin, end);
    RC_ASSERT(scan_all(memory, ks, begin, end) == want);
    RC_ASSERT(scan_all(*rocks.engine, ks, begin, end) == want);
  };

  const int n_ops = *rc::gen::inRange(1, 30);
  for (int i = 0; i < n_ops; ++i) {
    OpKind kind = *rc::gen::weightedElement<OpKind>({{6, OpKind::kPut},
                                                     {2, OpKind::kDel},
                                                     {3, OpKind::kBatch},
                                                     {2, OpKind::kGet},
                                                     {3, OpKind::kScan},
                                                     {1, OpKind::kScanPrefix},
                                                     {1, OpKind::kReopen}});
    // kReopen is rarer still: each costs a RocksDB close and open.
    if (kind == OpKind::kReopen && *rc::gen::inRange(0, 4) != 0) kind = OpKind::kScan;
    Keyspace ks = *gen_keyspace();
    switch (kind) {
      case OpKind::kPut:
      case OpKind::kDel: {
        std::string key = *gen_key();
        WriteMode mode = *rc::gen::element(WriteMode::kDerived, WriteMode::kDurable);
        WriteBatch as_batch;
        if (kind == OpKind::kPut) {
          std::string value = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
          RC_ASSERT(memory.put(ks, key, value, mode).ok());
          RC_ASSERT(rocks.engine->put(ks, key, value, mode).ok());
          as_batch.put(ks, key, value);
        } else {
          RC_ASSERT(memory.del(ks, key, mode).ok());
          RC_ASSERT(rocks.engine->del(ks, key, mode).ok());
          as_batch.del(ks, key);
        }
        model.apply(as_batch);
        break;
      }
      case OpKind::kBatch: {
        WriteBatch batch;
        const int n = *rc::gen::inRange(0, 8);
        for (int j = 0; j < n; ++j) {
          Keyspace bks = *gen_keyspace();
          switch (*rc::gen::inRange(0, 3)) {
            case 0: batch.put(bks, *gen_key(), *gen_key()); break;
            case 1: batch.del(bks, *gen_key()); break;
            default: batch.delete_range(bks, *gen_key(), *gen_key()); break;
          }
        }
        WriteMode mode = *rc::gen::element(WriteMode::kDerived, WriteMode::kDurable);
        RC_ASSERT(memory.write(batch, mode).ok());
        RC_ASSERT(rocks.engine->write(batch, mode).ok());
        model.apply(batch);
        break;
      }
      case OpKind::kGet: {
        std::string key = *gen_key();
        auto want = model.get(ks, key);
        auto from_memory = memory.get(ks, key);
        auto from_rocks = rocks.engine->get(ks, key);
        RC_ASSERT(from_memory.ok() && from_rocks.ok());
        RC_ASSERT(*from_memory == want);
        RC_ASSERT(*from_rocks == want);
        break;
      }
      case OpKind::kScan: check_scan(ks, *gen_key(), *gen_key()); break;
      case OpKind::kScanPrefix: {
        std::string prefix = *gen_key();
        KeyValues want = model.scan(ks, prefix, prefix_successor(prefix));
        RC_ASSERT(testing::drain(*memory.scan_prefix(ks, prefix)) == want);
        RC_ASSERT(testing::drain(*rocks.engine->scan_prefix(ks, prefix)) == want);
        break;
      }
      case OpKind::kReopen: rocks.reopen(); break;
    }
  }
  for (Keyspace ks : kAllKeyspaces) check_scan(ks, "", "");
}

}  // namespace
}  // namespace tidal
