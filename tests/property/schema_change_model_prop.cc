// Schema changes on an open database against a brute-force model: random
// sequences of added attributes (keyword, int, text, vector) and signal
// types, bad additions, entity writes and events under whatever schema is in
// force, checkpoints, clean reopens and crashes. A crash leaves the storage
// of the last checkpoint (so the schema stored by changes since is lost too)
// and every acknowledged WAL record: replay must bring every change back, in
// order, before the writes that use it.
//
// After every step the database must answer like the model: the schema's
// additions in order and its version, every entity's attributes, a count per
// filterable attribute value, a text search per text attribute, the entities
// a vector attribute holds, and the events counted per added signal type.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStart = 1'700'000'000'000'000;
const std::vector<std::string> kWords = {"alpha", "beta", "gamma"};

struct ModelAttribute {
  EntityKind kind;
  std::string name;
  AttributeType type;
  bool filterable;
};

using Values = std::map<std::string, AttributeValue>;  // attribute name -> value

template <typename T>
T ok_value(Result<T> r, const std::string& what) {
  if (!r.ok()) RC_FAIL(what + ": " + r.status().to_string());
  return std::move(r).value();
}

class Harness {
 public:
  Harness() { open(SchemaBuilder::with_default_signals().build().value()); }

  Database& db() { return *db_; }
  ManualClock& clock() { return clock_; }

  void checkpoint() {
    Status st = db_->checkpoint();
    if (!st.ok()) RC_FAIL("checkpoint: " + st.to_string());
    stash_storage();
  }
  void reopen() {
    Status st = db_->close();
    if (!st.ok()) RC_FAIL("close: " + st.to_string());
    db_.reset();
    open_stored();
  }
  // Dies after the last acknowledged write: the storage of the last
  // checkpoint, every acknowledged WAL record.
  void crash() {
    if (!testing::copy_settled(folder() / "wal", dir_.path() / "crash-wal")) RC_FAIL("wal copy");
    db_.reset();
    fs::remove_all(folder() / "storage");
    fs::remove_all(folder() / "wal");
    fs::copy(dir_.path() / "stash", folder() / "storage", fs::copy_options::recursive);
    fs::rename(dir_.path() / "crash-wal", folder() / "wal");
    open_stored();
  }

 private:
  fs::path folder() const { return dir_.path() / "db"; }
  void open_stored() {
    Result<Schema> stored = Database::stored_schema(folder().string());
    if (!stored.ok()) RC_FAIL("stored_schema: " + stored.status().to_string());
    open(*stored);
  }
  void open(const Schema& schema) {
    DatabaseOptions o;
    o.durability = Durability::kBatch;  // acknowledged means in the WAL file
    o.background_checkpoints = false;
    o.clock = &clock_;
    o.wal_segment_bytes = 16 << 10;
    auto r = Database::open(folder().string(), schema, o);
    if (!r.ok()) RC_FAIL("open: " + r.status().to_string());
    db_ = std::move(r).value();
    stash_storage();
  }
  void stash_storage() {
    if (!testing::copy_settled(folder() / "storage", dir_.path() / "stash")) RC_FAIL("stash");
  }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

class ModelRun {
 public:
  void step() {
    switch (*rc::gen::inRange(0, 12)) {
      case 0:
      case 1: add_attribute(); break;
      case 2: add_signal(); break;
      case 3: add_bad(); break;
      case 4:
      case 5:
      case 6: upsert(); break;
      case 7: patch(); break;
      case 8: event(); break;
      case 9: h_.checkpoint(); break;
      case 10: h_.reopen(); break;
      case 11: h_.crash(); break;
    }
    check();
  }

 private:
  int roll(int n) { return *rc::gen::inRange(0, n); }
  EntityKind pick_kind() {
    return *rc::gen::element(EntityKind::kItem, EntityKind::kUser, EntityKind::kCreator);
  }
  std::string pick_key() { return "k" + std::to_string(roll(4)); }

  void add_attribute() {
    ModelAttribute a{pick_kind(), "x" + std::to_string(next_++),
                     *rc::gen::element(AttributeType::kKeyword, AttributeType::kInt,
                                       AttributeType::kText, AttributeType::kVector),
                     false};
    AttributeSpec spec{.name = a.name, .type = a.type};
    if (a.type == AttributeType::kKeyword || a.type == AttributeType::kInt) {
      a.filterable = *rc::gen::arbitrary<bool>();
      spec.filterable = a.filterable;
    }
    if (a.type == AttributeType::kVector) {
      spec.vector_dim = 2;
      spec.metric = VectorMetric::kL2;
    }
    Schema s = ok_value(h_.db().add_attribute(a.kind, spec), "add_attribute " + a.name);
    attributes_.push_back(a);
    RC_ASSERT(s.version() == version());
  }

  void add_signal() {
    std::string name = "s" + std::to_string(next_++);
    Schema s = ok_value(h_.db().add_signal_type({.name = name,
                                                 .half_life = std::chrono::hours(1),
                                                 .windows = {std::chrono::hours(24)},
                                                 .affinity_delta = roll(2) == 0 ? 0.0 : 1.0}),
                        "add_signal_type " + name);
    signals_.push_back(name);
    RC_ASSERT(s.version() == version());
  }

  // A name already declared, or one the rules refuse: an error, no change.
  void add_bad() {
    Database& db = h_.db();
    Result<Schema> r = [&] {
      if (!attributes_.empty() && roll(2) == 0) {
        const ModelAttribute& a = attributes_[static_cast<size_t>(roll(attributes_.size()))];
        return db.add_attribute(a.kind, {.name = a.name, .type = AttributeType::kKeyword});
      }
      if (!signals_.empty() && roll(2) == 0) {
        return db.add_signal_type({.name = signals_.back(), .half_life = std::chrono::hours(1)});
      }
      return db.add_signal_type({.name = "bad name", .half_life = std::chrono::hours(1)});
    }();
    RC_ASSERT(!r.ok());
    RC_ASSERT(r.status().code() == StatusCode::kInvalidArgument);
  }

  AttributeValue gen_value(const ModelAttribute& a) {
    switch (a.type) {
      case AttributeType::kKeyword: return std::string(1, static_cast<char>('a' + roll(3)));
      case AttributeType::kInt: return int64_t{roll(3)};
      case AttributeType::kText:
        return kWords[static_cast<size_t>(roll(3))] + " " + kWords[static_cast<size_t>(roll(3))];
      case AttributeType::kVector:
        return std::vector<float>{static_cast<float>(roll(5)), static_cast<float>(roll(5))};
      default: return AttributeValue();
    }
  }

  // Some of the kind's attributes in force, with values.
  Values gen_values(EntityKind kind) {
    Values v;
    for (const ModelAttribute& a : attributes_) {
      if (a.kind == kind && roll(3) != 0) v[a.name] = gen_value(a);
    }
    return v;
  }

  void upsert() {
    EntityKind kind = pick_kind();
    std::string key = pick_key();
    Values v = gen_values(kind);
    EntityWrite w{kind, key, {}};
    for (const auto& [name, value] : v) w.attributes.emplace_back(name, value);
    ok_value(h_.db().upsert(w), "upsert " + key);
    entities_[{kind, key}] = v;
  }

  void patch() {
    EntityKind kind = pick_kind();
    std::string key = pick_key();
    auto it = entities_.find({kind, key});
    if (it == entities_.end()) return;
    Values v = gen_values(kind);
    if (v.empty()) return;
    EntityWrite w{kind, key, {}};
    for (const auto& [name, value] : v) w.attributes.emplace_back(name, value);
    ok_value(h_.db().patch(w), "patch " + key);
    for (auto& [name, value] : v) it->second[name] = value;
  }

  void event() {
    if (signals_.empty()) return;
    const std::string& signal = signals_[static_cast<size_t>(roll(signals_.size()))];
    std::string item = pick_key();
    h_.clock().advance(std::chrono::seconds(1));
    ok_value(h_.db().ingest(SignalEvent{.item = item, .user = "u", .signal = signal}),
             "ingest " + signal);
    ++events_[{item, signal}];
  }

  uint32_t version() const {
    return static_cast<uint32_t>(1 + attributes_.size() + signals_.size());
  }

  void check() {
    Database& db = h_.db();
    const Schema schema = db.schema();
    RC_ASSERT(schema.version() == version());
    // The additions, in order.
    for (EntityKind kind : kEntityKinds) {
      std::vector<std::string> want, got;
      for (const ModelAttribute& a : attributes_) {
        if (a.kind == kind) want.push_back(a.name);
      }
      for (const AttributeDefinition& d : schema.attributes(kind)) got.push_back(d.name);
      RC_ASSERT(got == want);
    }
    std::vector<std::string> got_signals;
    for (const SignalTypeDefinition& s : schema.signals()) {
      if (s.name[0] == 's' && s.name.size() > 1 && std::isdigit(s.name[1])) {
        got_signals.push_back(s.name);
      }
    }
    RC_ASSERT(got_signals == signals_);
    // Entities.
    for (const auto& [id, values] : entities_) {
      const auto& [kind, key] = id;
      Entity e = ok_value(db.get(kind, key), "get " + key);
      Values got;
      for (const Attribute& a : e.attributes) {
        if (a.name != "created_at") got[a.name] = a.value;
      }
      if (got != values) RC_FAIL("get " + key + " differs from the model");
    }
    for (const ModelAttribute& a : attributes_) {
      // Filters.
      if (a.filterable) {
        for (int v = 0; v < 3; ++v) {
          AttributeValue value = a.type == AttributeType::kInt
                                     ? AttributeValue(int64_t{v})
                                     : AttributeValue(std::string(1, static_cast<char>('a' + v)));
          uint64_t want = 0;
          for (const auto& [id, values] : entities_) {
            auto it = values.find(a.name);
            want += id.first == a.kind && it != values.end() && it->second == value;
          }
          Filter f = a.type == AttributeType::kInt
                         ? Filter::eq(a.name, int64_t{v})
                         : Filter::eq(a.name, std::get<std::string>(value));
          RC_ASSERT(ok_value(db.count(a.kind, f), "count " + a.name) == want);
        }
      }
      if (a.kind != EntityKind::kItem) continue;
      // Text search: the items whose attribute holds the word.
      if (a.type == AttributeType::kText) {
        std::set<std::string> want, got;
        for (const auto& [id, values] : entities_) {
          auto it = values.find(a.name);
          if (id.first == EntityKind::kItem && it != values.end() &&
              std::get<std::string>(it->second).find("alpha") != std::string::npos) {
            want.insert(id.second);
          }
        }
        QueryResult r = ok_value(
            db.query("SEARCH items QUERY 'alpha' IN (" + a.name + ") LIMIT 100"), "search");
        for (const QueryRow& row : r.rows) got.insert(row.key);
        RC_ASSERT(got == want);
      }
      // Vectors: the items that hold one.
      if (a.type == AttributeType::kVector) {
        std::set<std::string> want, got;
        for (const auto& [id, values] : entities_) {
          if (id.first == EntityKind::kItem && values.contains(a.name)) want.insert(id.second);
        }
        QueryResult r = ok_value(
            db.query("NEAREST items TO VECTOR [1, 1] USING " + a.name + " LIMIT 100"), "nearest");
        for (const QueryRow& row : r.rows) got.insert(row.key);
        RC_ASSERT(got == want);
      }
    }
    // Events of the added signal types, counted in their 24h window.
    for (const auto& [id, count] : events_) {
      const auto& [item, signal] = id;
      ItemSignals s = ok_value(db.item_signals(item), "item_signals " + item);
      uint64_t counted = 0;
      for (const SignalSnapshot& snap : s.signals) {
        if (snap.signal == signal) counted = snap.windows.at(0).count;
      }
      RC_ASSERT(counted == count);
    }
  }

  Harness h_;
  int next_ = 0;
  std::vector<ModelAttribute> attributes_;
  std::vector<std::string> signals_;
  std::map<std::pair<EntityKind, std::string>, Values> entities_;
  std::map<std::pair<std::string, std::string>, uint64_t> events_;
};

RC_GTEST_PROP(SchemaChangeModel, DatabaseAnswersLikeTheModelAcrossChangesAndCrashes, ()) {
  ModelRun run;
  const size_t steps = *rc::gen::inRange<size_t>(1, 30);
  for (size_t s = 0; s < steps; ++s) run.step();
}

}  // namespace
}  // namespace tidal
