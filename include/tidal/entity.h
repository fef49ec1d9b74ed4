// Entities (items, users, creators), their attributes, relationships between
// them, and attribute filters.
//
// An entity is named by the application's own string key. Its attributes are
// the ones its kind declares in the schema; items also have two built-in
// attributes, `creator` (keyword: the creator's key) and `created_at`
// (timestamp; the upsert's time when not given). Both are filterable, and
// created_at is sortable.
//
//   db->upsert({.kind = tidal::EntityKind::kItem, .key = "video_1",
//               .attributes = {{"title", "Cats"}, {"duration", int64_t{95}},
//                              {"creator", "studio_9"}}});
//   auto n = db->count(tidal::EntityKind::kItem,
//                      tidal::Filter::contains("genres", "Comedy") &&
//                          tidal::Filter::between("year", int64_t{1990}, int64_t{1999}));
//
// docs/entities.md lists every rule and limit.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal {

// The value of one attribute. Which alternative an attribute takes follows
// from its type: keyword and text take std::string, int int64_t, float
// double (an int64_t is accepted too), bool bool, timestamp Timestamp, tags
// std::vector<std::string>, vector std::vector<float>. std::monostate is
// "no value": in a patch it removes the attribute.
using AttributeValue = std::variant<std::monostate, std::string, int64_t, double, bool, Timestamp,
                                    std::vector<std::string>, std::vector<float>>;

struct Attribute {
  std::string name;
  AttributeValue value;

  // So that {"title", "Cats"} is a string, not a bool.
  Attribute(std::string n, AttributeValue v) : name(std::move(n)), value(std::move(v)) {}
  Attribute(std::string n, const char* v) : name(std::move(n)), value(std::string(v)) {}
  bool operator==(const Attribute&) const = default;
};

// Limits on attribute values (docs/entities.md).
inline constexpr size_t kMaxKeywordBytes = 1024;
inline constexpr size_t kMaxTextBytes = 1 << 20;
inline constexpr size_t kMaxTagsPerValue = 1024;
inline constexpr size_t kMaxAttributesPerWrite = 1024;

// One entity write: the whole entity (upsert) or some of its attributes
// (patch).
struct EntityWrite {
  EntityKind kind = EntityKind::kItem;
  std::string key{};
  std::vector<Attribute> attributes{};
};

// An entity as stored: attributes in schema order, built-ins first.
struct Entity {
  EntityKind kind = EntityKind::kItem;
  std::string key;
  std::vector<Attribute> attributes;

  // nullptr when the entity has no value for `name`.
  const AttributeValue* find(std::string_view name) const;
};

// A predicate over one kind's filterable attributes, evaluated by
// Database::count and Database::keys (and by the query engine).
//
// Semantics (docs/entities.md): a comparison is false for an entity without
// a value for the attribute, so `a != v` holds only for entities that have a
// value other than v, while NOT (a = v) also holds for entities without a.
// Only registered entities match: items known only from signals never do.
struct Filter {
  enum class Op : uint8_t {
    kAnd,
    kOr,
    kNot,
    kEq,        // attribute = value
    kNe,        // attribute != value
    kLt,        // attribute < value (int, float, timestamp)
    kLe,        //
    kGt,        //
    kGe,        //
    kBetween,   // values[0] <= attribute <= values[1]
    kIn,        // attribute = any of values
    kContains,  // tags attribute holds values[0]  (TQL: 'jazz' IN interests)
    kExists,    // attribute has a value
    kAll,       // every registered entity
  };

  Op op = Op::kAll;
  std::string attribute{};
  std::vector<AttributeValue> values{};
  std::vector<Filter> children{};

  static Filter all() { return {}; }
  static Filter eq(std::string attribute, AttributeValue v);
  static Filter ne(std::string attribute, AttributeValue v);
  static Filter lt(std::string attribute, AttributeValue v);
  static Filter le(std::string attribute, AttributeValue v);
  static Filter gt(std::string attribute, AttributeValue v);
  static Filter ge(std::string attribute, AttributeValue v);
  static Filter between(std::string attribute, AttributeValue lo, AttributeValue hi);
  static Filter in(std::string attribute, std::vector<AttributeValue> vs);
  static Filter contains(std::string attribute, std::string tag);
  static Filter exists(std::string attribute);
  static Filter all_of(std::vector<Filter> children);
  static Filter any_of(std::vector<Filter> children);
  static Filter negate(Filter child);

  friend Filter operator&&(Filter a, Filter b) { return all_of({std::move(a), std::move(b)}); }
  friend Filter operator||(Filter a, Filter b) { return any_of({std::move(a), std::move(b)}); }
  friend Filter operator!(Filter a) { return negate(std::move(a)); }
};

// Relationships a user has. Follow: user→creator and user→user. Block and
// mute: user→creator and user→item.
enum class Relation : uint8_t { kFollow = 0, kBlock = 1, kMute = 2 };

std::string_view relation_name(Relation r);
// The inverse of relation_name: "follow", "block" or "mute". An unknown name
// is an InvalidArgument naming `field` and the accepted names.
Result<Relation> parse_relation(std::string_view text, std::string_view field = "relation");

struct RelationshipWrite {
  Relation relation = Relation::kFollow;
  std::string user{};  // the user who follows, blocks or mutes
  EntityKind target_kind = EntityKind::kCreator;
  std::string target{};
  bool active = true;  // false: unfollow, unblock, unmute
};

struct AffinityEntry {
  std::string creator;
  double weight = 0;  // decayed to the database's present
};

}  // namespace tidal
