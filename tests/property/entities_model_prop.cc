// Property tests of the entities subsystem (src/entities/):
//
// - NumericIndex<int64_t> and NumericIndex<double> against a brute-force
//   oracle: random sets and erases (few distinct values, ever-increasing and
//   ever-decreasing columns, one value, wide random values), with some cases
//   long enough to rebuild the bucket bounds several times; range(),
//   range_within() and estimate() must agree with a scan of every value.
// - encode_write, AttributeReader / to_value and merge_attribute_lists
//   against a model of what a write stores (valid, invalid, duplicate and
//   unknown attributes; upserts and patches).
// - tidal::Database against an in-memory model: random upserts, batch
//   upserts, patches, deletes, follows, blocks and mutes, clock moves,
//   checkpoints, clean reopens and simulated crashes. After every step get(),
//   count(), keys(), followers(), related() and is_blocked() must answer what
//   the model answers.
//
// How a crash is simulated. Database::close() always checkpoints, so a clean
// reopen never replays the WAL. A crash is modelled from the outside instead:
// the database runs with Durability::kBatch (an acknowledged write is in the
// WAL file), the storage folder is copied after every checkpoint (entity
// writes leave it alone in between), and at a crash point the WAL folder is
// copied too. The database is then closed, the two copies put back in its
// data folder, and the reopen restores the checkpoint and replays the WAL
// after it, as after a kill -9.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "apply/entity_record.h"
#include "entities/attribute_catalog.h"
#include "entities/entity_codec.h"
#include "entities/filter_index.h"
#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int64_t kSecond = 1'000'000;
// An int just below 2^63, exactly representable as a double.
constexpr int64_t kNearMaxInt = 9'210'000'000'000'000'000;

// A number in [0, n) with the same odds at every size (rc::gen::inRange
// narrows its range at small sizes): for choosing what to do, not how much.
template <typename T>
T roll(T n) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(0, n));
}

// ---------------------------------------------------------------------------
// NumericIndex against a scan of every value

using entities::Bitmap;
using entities::NumericIndex;

// The shape of a column's values over time.
enum class Shape : uint8_t { kFewValues, kAscending, kDescending, kOneValue, kSawtooth, kWide };

template <typename T>
T few_values(std::mt19937_64& rng) {
  if constexpr (std::is_same_v<T, double>) {
    static constexpr double kValues[] = {-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 1.0, 3.75, 1e300};
    return kValues[rng() % std::size(kValues)];
  } else {
    static constexpr int64_t kValues[] = {INT64_MIN, -3, -1, 0, 0, 1, 2, 7, INT64_MAX};
    return kValues[rng() % std::size(kValues)];
  }
}

template <typename T>
T value_at(Shape shape, size_t step, std::mt19937_64& rng) {
  auto k = static_cast<int64_t>(step);
  // Doubles step by a quarter, so neighbours are not integers.
  T unit = std::is_same_v<T, double> ? T(0.25) : T(1);
  switch (shape) {
    case Shape::kFewValues: return few_values<T>(rng);
    case Shape::kAscending: return static_cast<T>(k) * unit;
    case Shape::kDescending: return -static_cast<T>(k) * unit;
    case Shape::kOneValue: return rng() % 16 == 0 ? few_values<T>(rng) : T(42);
    case Shape::kSawtooth: return static_cast<T>(k % 3001) * unit;
    case Shape::kWide:
      if constexpr (std::is_same_v<T, double>) {
        return std::ldexp(static_cast<double>(static_cast<int64_t>(rng())),
                          static_cast<int>(rng() % 200) - 100);
      } else {
        return static_cast<int64_t>(rng());
      }
  }
  return T(0);
}

// Bounds worth asking about: the extremes, values the column holds and
// their nearest neighbours.
template <typename T>
std::vector<T> probe_points(const std::vector<std::optional<T>>& oracle, std::mt19937_64& rng) {
  std::vector<T> points = {std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max(), T(0)};
  if constexpr (std::is_same_v<T, double>) {
    points.push_back(-std::numeric_limits<double>::infinity());
    points.push_back(std::numeric_limits<double>::infinity());
    points.push_back(-0.0);
  }
  for (int k = 0; k < 6 && !oracle.empty(); ++k) {
    const std::optional<T>& v = oracle[rng() % oracle.size()];
    if (!v) continue;
    points.push_back(*v);
    if constexpr (std::is_same_v<T, double>) {
      points.push_back(std::nextafter(*v, -std::numeric_limits<double>::infinity()));
      points.push_back(std::nextafter(*v, std::numeric_limits<double>::infinity()));
    } else {
      if (*v > INT64_MIN) points.push_back(*v - 1);
      if (*v < INT64_MAX) points.push_back(*v + 1);
    }
  }
  return points;
}

template <typename T>
void check_numeric_index(const NumericIndex<T>& index, const std::vector<std::optional<T>>& oracle,
                         std::mt19937_64& rng, int ranges) {
  Bitmap present;
  for (uint32_t id = 0; id < oracle.size(); ++id) {
    if (!oracle[id]) continue;
    present.add(id);
    RC_ASSERT(index.value(id) == *oracle[id]);
  }
  RC_ASSERT(index.present() == present);
  // Candidates include ids the index never saw.
  Bitmap candidates;
  for (uint32_t id = 0; id < oracle.size() + 8; ++id) {
    if (rng() % 3 == 0) candidates.add(id);
  }
  std::vector<T> points = probe_points(oracle, rng);
  for (int r = 0; r < ranges; ++r) {
    T lo = points[rng() % points.size()], hi = points[rng() % points.size()];
    Bitmap want;
    for (uint32_t id = 0; id < oracle.size(); ++id) {
      if (oracle[id] && lo <= *oracle[id] && *oracle[id] <= hi) want.add(id);
    }
    Bitmap got = index.range(lo, hi);
    if (got != want) {
      RC_FAIL("range(" + std::to_string(lo) + ", " + std::to_string(hi) + ") holds " +
              std::to_string(got.cardinality()) + " ids, the scan " +
              std::to_string(want.cardinality()));
    }
    RC_ASSERT(index.range_within(lo, hi, candidates) == (want & candidates));
    uint64_t estimate = index.estimate(lo, hi);
    RC_ASSERT(estimate >= want.cardinality());
    RC_ASSERT(estimate <= present.cardinality());
    if (!(lo <= hi)) RC_ASSERT(estimate == 0u);
  }
}

template <typename T>
void numeric_index_case() {
  // One case in twenty is long: up to 40,000 entries, enough to outgrow
  // kMinBucketSize several times and rebuild the bucket bounds.
  bool big = roll(20) == 0;
  Shape shape = *rc::gen::element(Shape::kFewValues, Shape::kAscending, Shape::kDescending,
                                  Shape::kOneValue, Shape::kSawtooth, Shape::kWide);
  size_t steps =
      big ? *rc::gen::element<size_t>(9000, 20000, 40000) : *rc::gen::inRange<size_t>(1, 400);
  uint32_t ids = big ? static_cast<uint32_t>(steps) : *rc::gen::inRange<uint32_t>(1, 120);
  bool sequential_ids = *rc::gen::arbitrary<bool>();
  uint64_t erase_per_mille = *rc::gen::element<uint64_t>(0, 20, 250);
  std::mt19937_64 rng(*rc::gen::arbitrary<uint64_t>());
  RC_TAG(big ? "big" : "small");

  NumericIndex<T> index;
  std::vector<std::optional<T>> oracle(ids);
  size_t stride = big ? steps / 3 : 25;
  for (size_t step = 0; step < steps; ++step) {
    uint32_t id = sequential_ids ? static_cast<uint32_t>(step % ids) : rng() % ids;
    if (rng() % 1000 < erase_per_mille) {
      index.erase(id);
      oracle[id].reset();
    } else {
      T v = value_at<T>(shape, step, rng);
      index.set(id, v);
      oracle[id] = v;
    }
    if ((step + 1) % stride == 0 || step + 1 == steps) {
      check_numeric_index(index, oracle, rng, big ? 12 : 6);
    }
  }
}

RC_GTEST_PROP(NumericIndexOracle, Int64RangesMatchAScan, ()) {
  numeric_index_case<int64_t>();
}

RC_GTEST_PROP(NumericIndexOracle, DoubleRangesMatchAScan, ()) {
  numeric_index_case<double>();
}

// The long cases above do reach the rebuild: an ever-increasing column
// outgrows its last bucket.
TEST(NumericIndexOracle, AscendingColumnRebuildsBuckets) {
  NumericIndex<int64_t> index;
  for (uint32_t id = 0; id < 40000; ++id) index.set(id, id);
  EXPECT_GE(index.rebuilds(), 2u);
  EXPECT_GT(index.bucket_count(), 4u);
  EXPECT_EQ(index.range(10000, 29999).cardinality(), 20000u);
}

// ---------------------------------------------------------------------------
// The schema, keys and values the codec and database properties share

using Attrs = std::map<std::string, AttributeValue>;

struct AttributeInfo {
  const char* name;
  AttributeType type;
  bool filterable;
};

// Every kind declares one attribute of each type.
constexpr AttributeInfo kDeclared[] = {
    {"label", AttributeType::kKeyword, true}, {"count", AttributeType::kInt, true},
    {"rating", AttributeType::kFloat, true},  {"flag", AttributeType::kBool, true},
    {"tags", AttributeType::kTags, true},     {"seen", AttributeType::kTimestamp, true},
    {"note", AttributeType::kText, false},    {"embedding", AttributeType::kVector, false},
};
constexpr AttributeInfo kItemBuiltins[] = {
    {"creator", AttributeType::kKeyword, true},
    {"created_at", AttributeType::kTimestamp, true},
};

const Schema& entity_schema() {
  static const Schema schema = [] {
    // No signal types: entities need none, and each one's ledger makes
    // opening a database slower.
    SchemaBuilder b;
    for (EntityKind kind : kEntityKinds) {
      for (const AttributeInfo& a : kDeclared) {
        b.add_attribute(kind, {.name = a.name,
                               .type = a.type,
                               .filterable = a.filterable,
                               .vector_dim = a.type == AttributeType::kVector ? 3u : 0u});
      }
    }
    Result<Schema> built = b.build();
    if (!built.ok()) throw std::runtime_error(built.status().to_string());
    return std::move(built).value();
  }();
  return schema;
}

// A kind's attributes in catalog order: built-ins first.
std::vector<AttributeInfo> attributes_of(EntityKind kind) {
  std::vector<AttributeInfo> out;
  if (kind == EntityKind::kItem) out.assign(std::begin(kItemBuiltins), std::end(kItemBuiltins));
  out.insert(out.end(), std::begin(kDeclared), std::end(kDeclared));
  return out;
}

const AttributeInfo* find_attribute(EntityKind kind, std::string_view name) {
  for (const AttributeInfo& a : kDeclared) {
    if (a.name == name) return &a;
  }
  if (kind == EntityKind::kItem) {
    for (const AttributeInfo& a : kItemBuiltins) {
      if (a.name == name) return &a;
    }
  }
  return nullptr;
}

// The keys of one case: a few per kind, so that writes pile up on the same
// entities, and those of bulk loads (enough entities for the filter
// evaluator's member-by-member path). All behind a prefix of the case's own:
// cases of the database property share a database, see SharedDatabase.
class CaseKeys {
 public:
  explicit CaseKeys(std::string prefix) : prefix_(std::move(prefix)) {
    for (int k = 0; k < 6; ++k) {
      keys_[0].push_back(prefix_ + "i" + std::to_string(k));
      keys_[1].push_back(prefix_ + "u" + std::to_string(k));
      if (k < 5) keys_[2].push_back(prefix_ + "c" + std::to_string(k));
    }
    for (size_t kind = 0; kind < 3; ++kind) hot_[kind] = keys_[kind].size();
  }
  // Every key of `kind`: the few, then the bulk-loaded ones.
  const std::vector<std::string>& of(EntityKind kind) const {
    return keys_[static_cast<size_t>(kind)];
  }
  // Mostly one of the few keys.
  const std::string& pick(EntityKind kind) const {
    const std::vector<std::string>& keys = of(kind);
    size_t hot = hot_[static_cast<size_t>(kind)];
    if (keys.size() > hot && roll(4) == 0) return keys[hot + roll(keys.size() - hot)];
    return keys[roll(hot)];
  }
  // A new key for a bulk load.
  const std::string& add(EntityKind kind) {
    std::vector<std::string>& keys = keys_[static_cast<size_t>(kind)];
    keys.push_back(prefix_ + "bulk" + std::to_string(keys.size()));
    return keys.back();
  }

 private:
  std::string prefix_;
  std::array<std::vector<std::string>, 3> keys_;
  std::array<size_t, 3> hot_{};
};

Timestamp second(int64_t k) {
  return from_micros(kStart + k * kSecond);
}

// A valid value from a small domain, so that values repeat.
AttributeValue gen_value(const AttributeInfo& a, const CaseKeys& keys) {
  if (std::string_view(a.name) == "creator") return keys.pick(EntityKind::kCreator);
  switch (a.type) {
    case AttributeType::kKeyword: return *rc::gen::element<std::string>("a", "b", "c");
    case AttributeType::kText: return *rc::gen::element<std::string>("", "x", "some words");
    case AttributeType::kInt:
      return *rc::gen::element<int64_t>(-2, -1, 0, 0, 1, 2, 3, INT64_MIN, INT64_MAX, kNearMaxInt);
    case AttributeType::kFloat:
      // An int is accepted for a float and stored as a double.
      if (roll(4) == 0) return *rc::gen::element<int64_t>(-1, 0, 2);
      return *rc::gen::element(-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5);
    case AttributeType::kBool: return *rc::gen::arbitrary<bool>();
    case AttributeType::kTimestamp: return second(*rc::gen::inRange<int64_t>(-1, 4));
    case AttributeType::kTags: {
      size_t n = *rc::gen::inRange<size_t>(0, 5);
      return *rc::gen::container<std::vector<std::string>>(
          n, rc::gen::element<std::string>("t1", "t2", "t3"));
    }
    case AttributeType::kVector:
      return *rc::gen::element(std::vector<float>{1, 0, 0}, std::vector<float>{0.5f, -1, 2},
                               std::vector<float>{0, 0, 3});
  }
  return std::monostate{};
}

// A value the attribute must refuse.
AttributeValue gen_invalid_value(const AttributeInfo& a) {
  if (std::string_view(a.name) == "creator") {
    return *rc::gen::element<AttributeValue>(std::string(), std::string("bad\x01key"), int64_t{5});
  }
  switch (a.type) {
    case AttributeType::kKeyword:
      return *rc::gen::element<AttributeValue>(int64_t{7}, std::string("\xff"));
    case AttributeType::kText: return *rc::gen::element<AttributeValue>(true, std::string("\xc3"));
    case AttributeType::kInt:
      return *rc::gen::element<AttributeValue>(std::string("ten"), 1.5, second(0));
    case AttributeType::kFloat:
      return *rc::gen::element<AttributeValue>(std::numeric_limits<double>::quiet_NaN(),
                                               std::numeric_limits<double>::infinity(),
                                               std::string("1.5"));
    case AttributeType::kBool: return int64_t{1};
    case AttributeType::kTimestamp: return *rc::gen::element<AttributeValue>(int64_t{5}, 5.0);
    case AttributeType::kTags:
      return *rc::gen::element<AttributeValue>(std::string("t1"),
                                               std::vector<std::string>{"ok", "\xff"});
    case AttributeType::kVector:
      return *rc::gen::element<AttributeValue>(std::vector<float>{1, 0},
                                               std::vector<float>{0, 0, 0});
  }
  return std::monostate{};
}

// The value as get() returns it: floats as doubles, tags as a sorted set.
AttributeValue stored_form(const AttributeInfo& a, AttributeValue v) {
  if (a.type == AttributeType::kFloat) {
    if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  }
  if (auto* tags = std::get_if<std::vector<std::string>>(&v)) {
    std::sort(tags->begin(), tags->end());
    tags->erase(std::unique(tags->begin(), tags->end()), tags->end());
  }
  return v;
}

std::string show(const AttributeValue& v) {
  switch (v.index()) {
    case 0: return "none";
    case 1: return "\"" + std::get<std::string>(v) + "\"";
    case 2: return std::to_string(std::get<int64_t>(v));
    case 3: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17gd", std::get<double>(v));
      return buf;
    }
    case 4: return std::get<bool>(v) ? "true" : "false";
    case 5: return "t" + std::to_string((to_micros(std::get<Timestamp>(v)) - kStart) / kSecond);
    case 6: {
      std::string out = "[";
      for (const std::string& t : std::get<std::vector<std::string>>(v)) out += t + " ";
      return out + "]";
    }
    case 7: {
      std::string out = "<";
      for (float f : std::get<std::vector<float>>(v)) out += std::to_string(f) + " ";
      return out + ">";
    }
  }
  return "?";
}

std::string show(const Attrs& attrs) {
  std::string out = "{";
  for (const auto& [name, v] : attrs) out += " " + name + "=" + show(v);
  return out + " }";
}

void expect_attributes(const Attrs& got, const Attrs& want, const std::string& what) {
  if (got != want) RC_FAIL(what + "\n  got:  " + show(got) + "\n  want: " + show(want));
}

// ---------------------------------------------------------------------------
// encode_write, the attribute list and merge_attribute_lists against a model

using entities::AttributeCatalog;
using entities::EncodedWrite;
using entities::WriteKind;

// One attribute of a generated write, and whether its value is valid.
struct GenAttribute {
  std::string name;
  AttributeValue value;
  bool valid = true;
};

// A write naming random attributes of `kind` (with repeats); with `noise`,
// also invalid values and an attribute the schema does not declare.
std::vector<GenAttribute> gen_attributes(EntityKind kind, WriteKind write_kind, bool noise) {
  CaseKeys keys("");
  std::vector<AttributeInfo> all = attributes_of(kind);
  size_t n = *rc::gen::inRange<size_t>(0, 9);
  std::vector<GenAttribute> out;
  for (size_t k = 0; k < n; ++k) {
    int choice = roll(20);
    if (noise && choice == 0) {
      out.push_back({"colour", std::string("red"), true});
      continue;
    }
    const AttributeInfo& a = all[roll(all.size())];
    if (noise && choice == 1) {
      out.push_back({a.name, gen_invalid_value(a), false});
    } else if (choice <= 3 || (write_kind == WriteKind::kPatch && choice <= 6)) {
      out.push_back({a.name, std::monostate{}, true});
    } else {
      out.push_back({a.name, gen_value(a, keys), true});
    }
  }
  return out;
}

EntityWrite to_write(EntityKind kind, std::string key, const std::vector<GenAttribute>& attrs) {
  EntityWrite w{kind, std::move(key), {}};
  for (const GenAttribute& a : attrs) w.attributes.emplace_back(a.name, a.value);
  return w;
}

// What encode_write must do with a write.
struct ExpectedWrite {
  bool ok = true;
  std::string error_field;  // the first broken rule's attribute
  Attrs stored;
  std::set<std::string> removed;
};

ExpectedWrite expected_write(EntityKind kind, const std::vector<GenAttribute>& attrs,
                             WriteKind write_kind, UnknownAttributes unknown,
                             int64_t default_created_at_us) {
  ExpectedWrite out;
  std::set<std::string> named;
  auto fail = [&](const std::string& name) {
    out.ok = false;
    out.error_field = "attributes." + name;
  };
  for (const GenAttribute& g : attrs) {
    const AttributeInfo* a = find_attribute(kind, g.name);
    if (a == nullptr) {
      if (unknown == UnknownAttributes::kIgnore) continue;
      fail(g.name);
      break;
    }
    // Each attribute once per write, with or without a value.
    if (!named.insert(g.name).second || !g.valid) {
      fail(g.name);
      break;
    }
    if (std::holds_alternative<std::monostate>(g.value)) {
      if (write_kind == WriteKind::kPatch) out.removed.insert(g.name);
      continue;
    }
    out.stored[g.name] = stored_form(*a, g.value);
  }
  if (out.ok && write_kind == WriteKind::kUpsert && kind == EntityKind::kItem &&
      !out.stored.contains("created_at")) {
    out.stored["created_at"] = from_micros(default_created_at_us);
  }
  return out;
}

// The attributes of an encoded list, by name; fails on a malformed list.
Attrs decode_list(const AttributeCatalog& catalog, std::string_view list) {
  RC_ASSERT(entities::validate_attribute_list(catalog, list));
  Attrs out;
  entities::AttributeReader r(catalog, list);
  uint16_t slot;
  entities::ValueView v;
  while (r.next(&slot, &v)) {
    const AttributeDefinition* def = catalog.at_slot(slot);
    RC_ASSERT(def != nullptr);
    RC_ASSERT(!out.contains(def->name));
    out[def->name] = entities::to_value(v);
  }
  RC_ASSERT(r.ok());
  RC_ASSERT(out.size() == r.size());
  return out;
}

rc::Gen<EntityKind> gen_kind() {
  return rc::gen::element(EntityKind::kItem, EntityKind::kUser, EntityKind::kCreator);
}

RC_GTEST_PROP(EntityCodecProp, EncodeWriteStoresWhatTheModelSays, ()) {
  const Schema& schema = entity_schema();
  EntityKind kind = *gen_kind();
  AttributeCatalog catalog(schema, kind);
  WriteKind write_kind = *rc::gen::element(WriteKind::kUpsert, WriteKind::kPatch);
  UnknownAttributes unknown =
      *rc::gen::element(UnknownAttributes::kReject, UnknownAttributes::kIgnore);
  int64_t default_us = to_micros(second(*rc::gen::inRange<int64_t>(0, 3)));
  std::vector<GenAttribute> attrs = gen_attributes(kind, write_kind, true);
  EntityWrite write = to_write(kind, "k", attrs);

  std::string shown = std::string(write_kind == WriteKind::kUpsert ? "upsert" : "patch") + " {";
  for (const GenAttribute& g : attrs) shown += " " + g.name + "=" + show(g.value);
  RC_LOG() << shown << " }\n";

  ExpectedWrite want = expected_write(kind, attrs, write_kind, unknown, default_us);
  EncodedWrite enc;
  Status st = entities::encode_write(catalog, write, write_kind, unknown, default_us, &enc);
  if (!want.ok) {
    if (st.ok()) RC_FAIL("accepted; the model expects an error on " + want.error_field);
    RC_ASSERT(st.code() == StatusCode::kInvalidArgument);
    RC_ASSERT(st.field() == want.error_field);
    return;
  }
  if (!st.ok()) RC_FAIL("rejected: " + st.to_string());
  expect_attributes(decode_list(catalog, enc.list), want.stored, "encoded list");
  std::set<std::string> removed;
  for (size_t k = 0; k < enc.removed.size(); ++k) {
    if (k > 0) RC_ASSERT(enc.removed[k - 1] < enc.removed[k]);
    const AttributeDefinition* def = catalog.at_slot(enc.removed[k]);
    RC_ASSERT(def != nullptr);
    removed.insert(def->name);
  }
  RC_ASSERT(removed == want.removed);
  auto creator = want.stored.find("creator");
  RC_ASSERT(enc.has_creator == (creator != want.stored.end()));
  if (enc.has_creator)
    RC_ASSERT(std::string(enc.creator) == std::get<std::string>(creator->second));

  // The WAL record carries the same list.
  std::string payload;
  apply::EntityRecord rec;
  if (write_kind == WriteKind::kUpsert) {
    apply::encode_upsert_record(kind, "k", enc.list, &payload);
    RC_ASSERT(apply::decode_entity_record(wal::RecordType::kEntityUpsert, payload, &rec));
  } else {
    apply::encode_patch_record(kind, "k", enc.list, enc.removed, &payload);
    RC_ASSERT(apply::decode_entity_record(wal::RecordType::kEntityPatch, payload, &rec));
  }
  RC_ASSERT(rec.kind == kind);
  RC_ASSERT(rec.key == "k");
  RC_ASSERT(rec.list == enc.list);
  RC_ASSERT(rec.removed == enc.removed);
}

RC_GTEST_PROP(EntityCodecProp, MergeAppliesAPatchOverTheStoredList, ()) {
  const Schema& schema = entity_schema();
  EntityKind kind = *gen_kind();
  AttributeCatalog catalog(schema, kind);
  int64_t default_us = to_micros(second(0));
  auto encode = [&](WriteKind wk, std::vector<GenAttribute>* attrs, EncodedWrite* enc) {
    // Drop repeated names: a merge starts from valid writes.
    std::set<std::string> named;
    std::erase_if(*attrs, [&](const GenAttribute& g) { return !named.insert(g.name).second; });
    Status st = entities::encode_write(catalog, to_write(kind, "k", *attrs), wk,
                                       UnknownAttributes::kReject, default_us, enc);
    if (!st.ok()) RC_FAIL(st.to_string());
    return expected_write(kind, *attrs, wk, UnknownAttributes::kReject, default_us);
  };
  std::vector<GenAttribute> base_attrs = gen_attributes(kind, WriteKind::kUpsert, false);
  std::vector<GenAttribute> patch_attrs = gen_attributes(kind, WriteKind::kPatch, false);
  EncodedWrite base, patch;
  ExpectedWrite base_want = encode(WriteKind::kUpsert, &base_attrs, &base);
  ExpectedWrite patch_want = encode(WriteKind::kPatch, &patch_attrs, &patch);

  Attrs want = base_want.stored;
  for (const auto& [name, v] : patch_want.stored) want[name] = v;
  for (const std::string& name : patch_want.removed) want.erase(name);
  std::string merged = "stale bytes";
  RC_ASSERT(
      entities::merge_attribute_lists(catalog, base.list, patch.list, patch.removed, &merged));
  expect_attributes(decode_list(catalog, merged), want,
                    "merge of " + show(base_want.stored) + " and " + show(patch_want.stored));
  if (want.empty()) RC_ASSERT(merged.empty());
}

// Found by the property above: an upsert naming an attribute with no value
// and then with one was accepted (the other order was not).
TEST(EntityCodecProp, AnAttributeNamedTwiceIsRejectedInEitherOrder) {
  AttributeCatalog catalog(entity_schema(), EntityKind::kUser);
  for (WriteKind kind : {WriteKind::kUpsert, WriteKind::kPatch}) {
    for (bool value_first : {false, true}) {
      EntityWrite w{EntityKind::kUser, "u", {}};
      w.attributes.emplace_back("count", std::monostate{});
      w.attributes.emplace(value_first ? w.attributes.begin() : w.attributes.end(), "count",
                           int64_t{1});
      EncodedWrite enc;
      Status st = entities::encode_write(catalog, w, kind, UnknownAttributes::kReject, 0, &enc);
      EXPECT_EQ(st.field(), "attributes.count") << st.to_string();
    }
  }
}

// ---------------------------------------------------------------------------
// tidal::Database against a model

// A stored or filter value as a number: int, float and timestamp compare
// exactly (a long double holds every int64 and every double).
std::optional<long double> number(const AttributeValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<long double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return static_cast<long double>(*d);
  if (const auto* t = std::get_if<Timestamp>(&v)) return static_cast<long double>(to_micros(*t));
  return std::nullopt;
}

bool value_equals(const AttributeValue& stored, const AttributeValue& want) {
  std::optional<long double> a = number(stored), b = number(want);
  if (a && b) return *a == *b;
  return stored == want;
}

// A relationship as the model keeps it.
struct Rel {
  Relation relation;
  std::string user;
  EntityKind target_kind;
  std::string target;
  auto operator<=>(const Rel&) const = default;
};

// What the database must answer, computed the plain way.
class EntityModel {
 public:
  // Keys are indexed in the order they are first seen: by an upsert, a
  // relationship (user, then target) or an item's creator attribute.
  void see(EntityKind kind, const std::string& key) {
    KeyOrder& o = order_[static_cast<size_t>(kind)];
    if (o.index.emplace(key, o.keys.size()).second) o.keys.push_back(key);
  }

  const Attrs* find(EntityKind kind, const std::string& key) const {
    const auto& live = live_[static_cast<size_t>(kind)];
    auto it = live.find(key);
    return it == live.end() ? nullptr : &it->second;
  }

  void upsert(EntityKind kind, const std::string& key, Attrs attrs) {
    see(kind, key);
    see_creator(kind, attrs);
    live_[static_cast<size_t>(kind)][key] = std::move(attrs);
  }

  void patch(EntityKind kind, const std::string& key, const Attrs& set,
             const std::set<std::string>& removed) {
    Attrs& attrs = live_[static_cast<size_t>(kind)].at(key);
    for (const auto& [name, v] : set) attrs[name] = v;
    for (const std::string& name : removed) attrs.erase(name);
    see_creator(kind, set);
  }

  void remove(EntityKind kind, const std::string& key) {
    live_[static_cast<size_t>(kind)].erase(key);
    // A deleted user loses every relationship both ways; a deleted creator or
    // item is dropped from every user's relationships.
    std::erase_if(rels_, [&](const Rel& r) {
      if (kind == EntityKind::kUser && r.user == key) return true;
      return r.target_kind == kind && r.target == key;
    });
  }

  void relate(const RelationshipWrite& w) {
    see(EntityKind::kUser, w.user);
    see(w.target_kind, w.target);
    Rel r{w.relation, w.user, w.target_kind, w.target};
    if (w.active) {
      rels_.insert(r);
    } else {
      rels_.erase(r);
    }
  }

  // The live entities matching `f`, first seen first.
  std::vector<std::string> matching(EntityKind kind, const Filter& f) const {
    std::vector<std::string> out;
    for (const std::string& key : order_[static_cast<size_t>(kind)].keys) {
      const Attrs* attrs = find(kind, key);
      if (attrs != nullptr && matches(*attrs, f)) out.push_back(key);
    }
    return out;
  }

  std::vector<std::string> followers(EntityKind kind, const std::string& target) const {
    std::vector<std::string> out;
    for (const std::string& user : order_[static_cast<size_t>(EntityKind::kUser)].keys) {
      if (rels_.contains({Relation::kFollow, user, kind, target})) out.push_back(user);
    }
    return out;
  }

  std::vector<std::string> related(const std::string& user, Relation relation,
                                   EntityKind kind) const {
    std::vector<std::string> out;
    for (const std::string& target : order_[static_cast<size_t>(kind)].keys) {
      if (rels_.contains({relation, user, kind, target})) out.push_back(target);
    }
    return out;
  }

  // An item is also blocked when the user blocks its creator.
  bool is_blocked(const std::string& user, EntityKind kind, const std::string& target) const {
    if (rels_.contains({Relation::kBlock, user, kind, target})) return true;
    if (kind != EntityKind::kItem) return false;
    const Attrs* item = find(EntityKind::kItem, target);
    if (item == nullptr || !item->contains("creator")) return false;
    return rels_.contains(
        {Relation::kBlock, user, EntityKind::kCreator, std::get<std::string>(item->at("creator"))});
  }

  size_t live_count(EntityKind kind) const { return live_[static_cast<size_t>(kind)].size(); }

 private:
  struct KeyOrder {
    std::vector<std::string> keys;
    std::map<std::string, size_t> index;
  };

  void see_creator(EntityKind kind, const Attrs& attrs) {
    if (kind != EntityKind::kItem) return;
    auto it = attrs.find("creator");
    if (it != attrs.end()) see(EntityKind::kCreator, std::get<std::string>(it->second));
  }

  // Filter semantics (include/tidal/entity.h): a comparison is false without
  // a value; NOT is the live set minus its operand.
  static bool matches(const Attrs& attrs, const Filter& f) {
    using Op = Filter::Op;
    auto any_child = [&](bool want) {
      return std::any_of(f.children.begin(), f.children.end(),
                         [&](const Filter& c) { return matches(attrs, c) == want; });
    };
    switch (f.op) {
      case Op::kAll: return true;
      case Op::kAnd: return !any_child(false);
      case Op::kOr: return any_child(true);
      case Op::kNot: return !matches(attrs, f.children[0]);
      default: break;
    }
    auto it = attrs.find(f.attribute);
    if (it == attrs.end()) return false;
    const AttributeValue& v = it->second;
    auto cmp = [&](size_t k) { return *number(v) - *number(f.values[k]); };
    switch (f.op) {
      case Op::kExists: return true;
      case Op::kEq: return value_equals(v, f.values[0]);
      case Op::kNe: return !value_equals(v, f.values[0]);
      case Op::kLt: return cmp(0) < 0;
      case Op::kLe: return cmp(0) <= 0;
      case Op::kGt: return cmp(0) > 0;
      case Op::kGe: return cmp(0) >= 0;
      case Op::kBetween: return cmp(0) >= 0 && cmp(1) <= 0;
      case Op::kIn:
        return std::any_of(f.values.begin(), f.values.end(),
                           [&](const AttributeValue& w) { return value_equals(v, w); });
      case Op::kContains: {
        const auto& tags = std::get<std::vector<std::string>>(v);
        return std::find(tags.begin(), tags.end(), std::get<std::string>(f.values[0])) !=
               tags.end();
      }
      default: return false;
    }
  }

  std::array<KeyOrder, 3> order_;
  std::array<std::map<std::string, Attrs>, 3> live_;
  std::set<Rel> rels_;
};

std::string show(const Filter& f) {
  using Op = Filter::Op;
  std::string values;
  for (const AttributeValue& v : f.values) values += (values.empty() ? "" : ", ") + show(v);
  auto children = [&](std::string_view sep) {
    std::string out;
    for (const Filter& c : f.children) out += (out.empty() ? "" : std::string(sep)) + show(c);
    return "(" + out + ")";
  };
  switch (f.op) {
    case Op::kAll: return "ALL";
    case Op::kAnd: return children(" AND ");
    case Op::kOr: return children(" OR ");
    case Op::kNot: return "NOT " + show(f.children[0]);
    case Op::kEq: return f.attribute + " = " + values;
    case Op::kNe: return f.attribute + " != " + values;
    case Op::kLt: return f.attribute + " < " + values;
    case Op::kLe: return f.attribute + " <= " + values;
    case Op::kGt: return f.attribute + " > " + values;
    case Op::kGe: return f.attribute + " >= " + values;
    case Op::kBetween: return f.attribute + " BETWEEN " + values;
    case Op::kIn: return f.attribute + " IN (" + values + ")";
    case Op::kContains: return values + " IN " + f.attribute;
    case Op::kExists: return "EXISTS " + f.attribute;
  }
  return "?";
}

// A filter value for attribute `a`: from the stored values' domains and just
// outside them, fractions against ints, ints against floats, and numbers
// near and beyond the ends of int64.
AttributeValue gen_filter_value(const AttributeInfo& a, const CaseKeys& keys) {
  if (std::string_view(a.name) == "creator") {
    return roll(6) == 0 ? std::string("nobody") : keys.pick(EntityKind::kCreator);
  }
  switch (a.type) {
    case AttributeType::kKeyword: return *rc::gen::element<std::string>("a", "b", "c", "zz");
    case AttributeType::kTags: return *rc::gen::element<std::string>("t1", "t2", "t3", "t9");
    case AttributeType::kBool: return *rc::gen::arbitrary<bool>();
    case AttributeType::kTimestamp: return second(*rc::gen::inRange<int64_t>(-2, 5));
    case AttributeType::kInt:
      if (roll(3) == 0) {
        return *rc::gen::element(-1.5, 0.5, 1.0, 2.5, 1e19, -1e19, 9.21e18, 9223372036854775808.0);
      }
      return *rc::gen::element<int64_t>(-3, -2, -1, 0, 1, 2, 3, 4, INT64_MIN, INT64_MAX,
                                        kNearMaxInt);
    case AttributeType::kFloat:
      if (roll(3) == 0) return *rc::gen::element<int64_t>(-1, 0, 1, 2, 3);
      return *rc::gen::element(-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0,
                               -std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::infinity());
    default: return std::monostate{};
  }
}

// One comparison with an operator the attribute's type takes.
Filter gen_leaf(EntityKind kind, const CaseKeys& keys) {
  if (roll(25) == 0) return Filter::all();
  std::vector<AttributeInfo> filterable;
  for (const AttributeInfo& a : attributes_of(kind)) {
    if (a.filterable) filterable.push_back(a);
  }
  const AttributeInfo& a = filterable[roll(filterable.size())];
  std::string name = a.name;
  if (roll(8) == 0) return Filter::exists(name);
  auto value = [&] { return gen_filter_value(a, keys); };
  int op = roll(8);  // = != < <= > >= BETWEEN IN
  switch (a.type) {
    case AttributeType::kTags: return Filter::contains(name, std::get<std::string>(value()));
    case AttributeType::kBool: op %= 2; break;
    case AttributeType::kKeyword: op = op % 3 == 2 ? 7 : op % 3; break;  // = != IN
    default: break;
  }
  switch (op) {
    case 0: return Filter::eq(name, value());
    case 1: return Filter::ne(name, value());
    case 2: return Filter::lt(name, value());
    case 3: return Filter::le(name, value());
    case 4: return Filter::gt(name, value());
    case 5: return Filter::ge(name, value());
    case 6: return Filter::between(name, value(), value());
    default: {
      std::vector<AttributeValue> values(*rc::gen::inRange<size_t>(1, 4));
      for (AttributeValue& v : values) v = value();
      return Filter::in(name, std::move(values));
    }
  }
}

// A tree of AND, OR and NOT at most three levels deep; often an AND of
// several operands at the top, where a small running result sends the rest
// down the member-by-member path.
Filter gen_filter(EntityKind kind, const CaseKeys& keys, int depth = 0) {
  if (depth == 0 && roll(3) == 0) {
    std::vector<Filter> children(2 + roll<size_t>(3));
    for (Filter& c : children) c = gen_filter(kind, keys, depth + 1);
    return Filter::all_of(std::move(children));
  }
  int choice = depth >= 3 ? 9 : roll(10);
  if (choice >= 4) return gen_leaf(kind, keys);
  if (choice == 3) return Filter::negate(gen_filter(kind, keys, depth + 1));
  std::vector<Filter> children(*rc::gen::inRange<size_t>(1, 4));
  for (Filter& c : children) c = gen_filter(kind, keys, depth + 1);
  return choice <= 1 ? Filter::all_of(std::move(children)) : Filter::any_of(std::move(children));
}

template <typename T>
T ok_value(Result<T> r, const std::string& what) {
  if (!r.ok()) RC_FAIL(what + ": " + r.status().to_string());
  return std::move(r).value();
}

std::string show(const std::vector<std::string>& keys) {
  std::string out = "[";
  for (const std::string& k : keys) out += " " + k;
  return out + " ]";
}

void expect_keys(const std::vector<std::string>& got, const std::vector<std::string>& want,
                 const std::string& what) {
  if (got != want) RC_FAIL(what + "\n  got:  " + show(got) + "\n  want: " + show(want));
}

void copy_settled(const fs::path& from, const fs::path& to) {
  if (!testing::copy_settled(from, to)) {
    RC_FAIL("the folder " + from.string() + " never settled");
  }
}

// The database under test, its folder and clock; reopens and crashes.
class DatabaseUnderTest {
 public:
  DatabaseUnderTest() { open(); }

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
    open();
  }

  // Dies after the last acknowledged write: the folder is left holding the
  // storage of the last checkpoint and every acknowledged WAL record.
  void crash() {
    copy_settled(folder() / "wal", dir_.path() / "crash-wal");
    db_.reset();  // its clean shutdown is undone below
    fs::remove_all(folder() / "storage");
    fs::remove_all(folder() / "wal");
    fs::copy(dir_.path() / "stash", folder() / "storage", fs::copy_options::recursive);
    fs::rename(dir_.path() / "crash-wal", folder() / "wal");
    open();
  }

 private:
  fs::path folder() const { return dir_.path() / "db"; }

  void open() {
    DatabaseOptions o;
    o.durability = Durability::kBatch;  // acknowledged means in the WAL file
    o.background_checkpoints = false;
    o.clock = &clock_;
    o.wal_segment_bytes = 16 << 10;  // several segments, so checkpoints drop some
    auto r = Database::open(folder().string(), entity_schema(), o);
    if (!r.ok()) RC_FAIL("open: " + r.status().to_string());
    db_ = std::move(r).value();
    stash_storage();
  }

  // The storage as the last checkpoint left it (entity writes do not touch
  // it in between).
  void stash_storage() { copy_settled(folder() / "storage", dir_.path() / "stash"); }

  testing::TempDir dir_;
  ManualClock clock_{from_micros(kStart)};
  std::unique_ptr<Database> db_;
};

// One database for a run of cases: opening one (RocksDB's open) would take
// most of a case's time. Each case has keys of its own and deletes what it
// upserted before it ends; after 32 cases, or a case that did not end
// cleanly, the next one starts from a new folder.
class SharedDatabase {
 public:
  // Opening here, inside the constructor, makes RocksDB's own statics older
  // than this object, so they outlive it at exit.
  SharedDatabase() : t_(std::make_unique<DatabaseUnderTest>()) {}

  DatabaseUnderTest& begin_case() {
    if (!clean_ || ++cases_ >= 32) {
      t_.reset();
      t_ = std::make_unique<DatabaseUnderTest>();
      cases_ = 0;
    }
    clean_ = false;
    t_->clock().set(from_micros(kStart));
    return *t_;
  }
  void end_case() { clean_ = true; }
  std::string next_prefix() { return "case" + std::to_string(++prefixes_) + "/"; }

 private:
  std::unique_ptr<DatabaseUnderTest> t_;
  int cases_ = 0;
  bool clean_ = true;
  uint64_t prefixes_ = 0;
};

SharedDatabase& shared_database() {
  static SharedDatabase shared;
  return shared;
}

// The relationship targets `relation` may point at.
std::vector<EntityKind> targets_of(Relation relation) {
  if (relation == Relation::kFollow) return {EntityKind::kCreator, EntityKind::kUser};
  return {EntityKind::kCreator, EntityKind::kItem};
}

enum class Step : uint8_t {
  kUpsert,
  kUpsertBatch,
  kBulkLoad,
  kPatch,
  kRemove,
  kRelate,
  kAdvanceClock,
  kCheckpoint,
  kReopen,
  kCheckpointAndReopen,
  kCrash,
};

// One case: random steps applied to the database and the model, and reads
// that must agree after each.
class ModelRun {
 public:
  ModelRun(DatabaseUnderTest& t, CaseKeys keys) : t_(t), keys_(std::move(keys)) {}

  void step() {
    // Reopens and crashes are rare: each costs as much as dozens of writes.
    Step step = *rc::gen::weightedElement<Step>({{80, Step::kUpsert},
                                                 {8, Step::kUpsertBatch},
                                                 {3, Step::kBulkLoad},
                                                 {48, Step::kPatch},
                                                 {24, Step::kRemove},
                                                 {80, Step::kRelate},
                                                 {6, Step::kAdvanceClock},
                                                 {3, Step::kCheckpoint},
                                                 {1, Step::kReopen},
                                                 {1, Step::kCheckpointAndReopen},
                                                 {2, Step::kCrash}});
    switch (step) {
      case Step::kUpsert: upsert(1); break;
      case Step::kUpsertBatch: upsert(*rc::gen::inRange<size_t>(2, 5)); break;
      case Step::kBulkLoad: upsert(*rc::gen::inRange<size_t>(20, 250), true); break;
      case Step::kPatch: patch(); break;
      case Step::kRemove: remove(); break;
      case Step::kRelate: relate(); break;
      case Step::kAdvanceClock: t_.clock().advance(std::chrono::seconds(1)); break;
      case Step::kCheckpoint: t_.checkpoint(); break;
      case Step::kReopen: t_.reopen(); break;
      case Step::kCheckpointAndReopen:
        t_.checkpoint();
        t_.reopen();
        break;
      case Step::kCrash: t_.crash(); break;
    }
    if (step == Step::kReopen || step == Step::kCheckpointAndReopen || step == Step::kCrash) {
      check_everything();
    } else {
      check_some();
    }
  }

  // Every read of every key of the case.
  void check_everything() {
    for (EntityKind kind : kEntityKinds) {
      for (const std::string& key : keys_.of(kind)) check_get(kind, key);
      check_filter(kind, Filter::all());
      check_filter(kind, gen_filter(kind, keys_));
    }
    DatabaseStats stats = db().stats();
    RC_ASSERT(stats.live_items == model_.live_count(EntityKind::kItem));
    RC_ASSERT(stats.live_users == model_.live_count(EntityKind::kUser));
    RC_ASSERT(stats.live_creators == model_.live_count(EntityKind::kCreator));
    for (EntityKind kind : targets_of(Relation::kFollow)) {
      for (const std::string& target : keys_.of(kind)) check_followers(kind, target);
    }
    for (const std::string& user : keys_.of(EntityKind::kUser)) {
      for (Relation relation : {Relation::kFollow, Relation::kBlock, Relation::kMute}) {
        for (EntityKind kind : targets_of(relation)) check_related(user, relation, kind);
      }
      for (EntityKind kind : targets_of(Relation::kBlock)) {
        for (const std::string& target : keys_.of(kind)) check_blocked(user, kind, target);
      }
    }
  }

  // Deletes every live entity of the case, leaving the database empty for
  // the next.
  void clear() {
    for (EntityKind kind : kEntityKinds) {
      for (const std::string& key : keys_.of(kind)) {
        if (model_.find(kind, key) == nullptr) continue;
        ok_value(db().remove(kind, key), "remove " + key);
        model_.remove(kind, key);
      }
    }
  }

 private:
  Database& db() { return t_.db(); }
  EntityKind pick_kind() const {
    return *rc::gen::element(EntityKind::kItem, EntityKind::kUser, EntityKind::kCreator);
  }

  // ---- Steps

  // A whole entity: some attributes, in one of two orders, some named with
  // no value (which an upsert leaves absent). What get() must return goes
  // to `stored`.
  EntityWrite gen_upsert(EntityKind kind, const std::string& key, Attrs* stored) {
    EntityWrite w{kind, key, {}};
    std::vector<AttributeInfo> all = attributes_of(kind);
    if (*rc::gen::arbitrary<bool>()) std::reverse(all.begin(), all.end());
    for (const AttributeInfo& a : all) {
      int choice = roll(10);
      if (choice < 5) continue;
      AttributeValue v = choice == 5 ? AttributeValue() : gen_value(a, keys_);
      if (choice > 5) (*stored)[a.name] = stored_form(a, v);
      w.attributes.emplace_back(a.name, std::move(v));
    }
    // An item upsert without created_at gets the database's present.
    if (kind == EntityKind::kItem && !stored->contains("created_at")) {
      (*stored)["created_at"] = t_.clock().now();
    }
    return w;
  }

  // `writes` upserts of random entities, or with `bulk` that many new ones
  // of one kind; more than one go as one batch.
  void upsert(size_t writes, bool bulk = false) {
    std::vector<EntityWrite> batch;
    std::vector<Attrs> stored(writes);
    EntityKind bulk_kind = pick_kind();
    for (size_t k = 0; k < writes; ++k) {
      EntityKind kind = bulk ? bulk_kind : pick_kind();
      batch.push_back(gen_upsert(kind, bulk ? keys_.add(kind) : keys_.pick(kind), &stored[k]));
    }
    if (writes == 1) {
      ok_value(db().upsert(batch[0]), "upsert " + batch[0].key);
    } else {
      BatchIngestResult r = db().upsert(batch);
      for (const Status& st : r.errors) {
        if (!st.ok()) RC_FAIL("batch upsert: " + st.to_string());
      }
      RC_ASSERT(r.accepted == writes);
    }
    for (size_t k = 0; k < writes; ++k) {
      model_.upsert(batch[k].kind, batch[k].key, std::move(stored[k]));
    }
  }

  // Some attributes set, some removed, the rest kept.
  void patch() {
    EntityKind kind = pick_kind();
    EntityWrite w{kind, keys_.pick(kind), {}};
    Attrs set;
    std::set<std::string> removed;
    for (const AttributeInfo& a : attributes_of(kind)) {
      int choice = roll(8);
      if (choice < 5) continue;
      AttributeValue v = choice == 5 ? AttributeValue() : gen_value(a, keys_);
      if (choice == 5) {
        removed.insert(a.name);
      } else {
        set[a.name] = stored_form(a, v);
      }
      w.attributes.emplace_back(a.name, std::move(v));
    }
    Result<uint64_t> r = db().patch(w);
    if (model_.find(kind, w.key) == nullptr) {
      RC_ASSERT(r.status().code() == StatusCode::kNotFound);
      return;
    }
    if (!r.ok()) RC_FAIL("patch " + w.key + ": " + r.status().to_string());
    model_.patch(kind, w.key, set, removed);
  }

  void remove() {
    EntityKind kind = pick_kind();
    const std::string& key = keys_.pick(kind);
    Result<uint64_t> r = db().remove(kind, key);
    if (model_.find(kind, key) == nullptr) {
      RC_ASSERT(r.status().code() == StatusCode::kNotFound);
      return;
    }
    if (!r.ok()) RC_FAIL("remove " + key + ": " + r.status().to_string());
    model_.remove(kind, key);
  }

  // Follow, block or mute, or undo one; keys need not be registered.
  void relate() {
    RelationshipWrite w;
    w.relation = *rc::gen::element(Relation::kFollow, Relation::kBlock, Relation::kMute);
    std::vector<EntityKind> targets = targets_of(w.relation);
    w.target_kind = targets[roll(targets.size())];
    w.user = keys_.pick(EntityKind::kUser);
    w.target = keys_.pick(w.target_kind);
    w.active = roll(4) != 0;
    Result<uint64_t> r = db().relate(w);
    if (w.target_kind == EntityKind::kUser && w.target == w.user) {
      RC_ASSERT(r.status().code() == StatusCode::kInvalidArgument);
      return;
    }
    if (!r.ok()) RC_FAIL("relate: " + r.status().to_string());
    model_.relate(w);
  }

  // ---- Reads: each must answer what the model answers

  // A few random reads.
  void check_some() {
    EntityKind kind = pick_kind();
    check_get(kind, keys_.pick(kind));
    check_filter(kind, gen_filter(kind, keys_));
    const std::string& user = keys_.pick(EntityKind::kUser);
    Relation relation = *rc::gen::element(Relation::kFollow, Relation::kBlock, Relation::kMute);
    std::vector<EntityKind> targets = targets_of(relation);
    EntityKind target_kind = targets[roll(targets.size())];
    check_related(user, relation, target_kind);
    if (relation == Relation::kFollow) {
      check_followers(target_kind, keys_.pick(target_kind));
    } else {
      check_blocked(user, target_kind, keys_.pick(target_kind));
    }
  }

  void check_get(EntityKind kind, const std::string& key) {
    std::string what = "get(" + std::string(entity_kind_name(kind)) + " " + key + ")";
    Result<Entity> e = db().get(kind, key);
    const Attrs* want = model_.find(kind, key);
    if (want == nullptr) {
      if (e.ok()) RC_FAIL(what + " found a deleted or never upserted entity");
      RC_ASSERT(e.status().code() == StatusCode::kNotFound);
      return;
    }
    if (!e.ok()) RC_FAIL(what + ": " + e.status().to_string());
    RC_ASSERT(e->key == key);
    RC_ASSERT(e->kind == kind);
    // Attributes come in catalog order: built-ins first, then the schema's.
    std::vector<AttributeInfo> order = attributes_of(kind);
    Attrs got;
    size_t pos = 0;
    for (const Attribute& a : e->attributes) {
      while (pos < order.size() && order[pos].name != a.name) ++pos;
      if (pos == order.size()) RC_FAIL(what + ": attribute " + a.name + " out of order");
      ++pos;
      got[a.name] = a.value;
    }
    expect_attributes(got, *want, what);
  }

  void check_filter(EntityKind kind, const Filter& f) {
    std::string what = std::string(entity_kind_name(kind)) + " WHERE " + show(f);
    std::vector<std::string> want = model_.matching(kind, f);
    uint64_t count = ok_value(db().count(kind, f), "count " + what);
    if (count != want.size()) {
      RC_FAIL("count " + what + " = " + std::to_string(count) + ", want " + show(want));
    }
    size_t limit = *rc::gen::element<size_t>(1000, 1, 2, 5);
    std::vector<std::string> keys = ok_value(db().keys(kind, f, limit), "keys " + what);
    if (want.size() > limit) want.resize(limit);
    expect_keys(keys, want, "keys " + what + " LIMIT " + std::to_string(limit));
  }

  void check_followers(EntityKind kind, const std::string& target) {
    std::string what = "followers(" + std::string(entity_kind_name(kind)) + " " + target + ")";
    expect_keys(ok_value(db().followers(kind, target), what), model_.followers(kind, target), what);
  }

  void check_related(const std::string& user, Relation relation, EntityKind kind) {
    std::string what = "related(" + user + ", " + std::string(relation_name(relation)) + ", " +
                       std::string(entity_kind_name(kind)) + ")";
    expect_keys(ok_value(db().related(user, relation, kind), what),
                model_.related(user, relation, kind), what);
  }

  void check_blocked(const std::string& user, EntityKind kind, const std::string& target) {
    std::string what =
        "is_blocked(" + user + ", " + std::string(entity_kind_name(kind)) + " " + target + ")";
    bool got = ok_value(db().is_blocked(user, kind, target), what);
    if (got != model_.is_blocked(user, kind, target)) RC_FAIL(what + " = " + std::to_string(got));
  }

  DatabaseUnderTest& t_;
  CaseKeys keys_;
  EntityModel model_;
};

RC_GTEST_PROP(EntitiesModel, DatabaseAnswersLikeTheModel, ()) {
  SharedDatabase& shared = shared_database();
  DatabaseUnderTest& t = shared.begin_case();
  ModelRun run(t, CaseKeys(shared.next_prefix()));
  size_t steps = *rc::gen::inRange<size_t>(1, 60);
  for (size_t s = 0; s < steps; ++s) run.step();
  run.check_everything();
  run.clear();
  shared.end_case();
}

// Found by the property above: an int attribute compared with a double
// between 9.2e18 and 2^63 took the double for "beyond every int64".
TEST(EntitiesModel, IntComparedWithADoubleNearTwoTo63IsExact) {
  testing::TempDir dir;
  DatabaseOptions o;
  o.durability = Durability::kNone;
  o.background_checkpoints = false;
  auto db = Database::open(dir.str(), entity_schema(), o);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  for (int64_t v : {kNearMaxInt, INT64_MAX}) {
    std::string key = std::to_string(v);
    ASSERT_TRUE((*db)->upsert({EntityKind::kUser, key, {{"count", v}}}).ok());
  }
  auto count = [&](const Filter& f) { return (*db)->count(EntityKind::kUser, f).value(); };
  EXPECT_EQ(count(Filter::eq("count", 9.21e18)), 1u);
  EXPECT_EQ(count(Filter::lt("count", 9.21e18)), 0u);
  EXPECT_EQ(count(Filter::ge("count", 9.21e18)), 2u);
  EXPECT_EQ(count(Filter::gt("count", 9.21e18)), 1u);
  EXPECT_EQ(count(Filter::le("count", 9.21e18)), 1u);
  EXPECT_EQ(count(Filter::lt("count", 9223372036854775808.0)), 2u);
  EXPECT_EQ(count(Filter::ge("count", 9223372036854775808.0)), 0u);
}

}  // namespace
}  // namespace tidal
