// The schema: which signal types and entity attributes a database knows.
//
// A Schema is declared with a SchemaBuilder, validated as a whole by build(),
// and from then on immutable. It is data, not code: it is stored with
// the database, and when a database is opened the stored schema is compared
// with the one the application gives (Schema::diff), every difference being
// reported. Adding a signal type or an attribute is a migration: a
// SchemaBuilder started from the stored schema adds to it, keeps every
// existing id and bumps the version.
//
// The rules every name, duration, rate and flag must follow, and the default
// signal types, are listed in docs/schema.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal {

// Whether a signal counts for an item (a like) or against it (a skip).
enum class Polarity : uint8_t { kPositive = 0, kNegative = 1 };

// What one event of a signal type adds: 1 (kCount), or the event's value,
// such as seconds of dwell time (kSum).
enum class ValueKind : uint8_t { kCount = 0, kSum = 1 };

enum class AttributeType : uint8_t {
  kKeyword = 0,    // an exact string
  kText = 1,       // full-text indexed
  kInt = 2,        // a signed 64-bit integer
  kFloat = 3,      // a double
  kBool = 4,       //
  kTimestamp = 5,  // microseconds since the Unix epoch
  kTags = 6,       // a set of keywords
  kVector = 7,     // an embedding of vector_dim floats
};

// How two vectors of a vector attribute are compared.
enum class VectorMetric : uint8_t { kCosine = 0, kDot = 1, kL2 = 2 };

// The names used in TQL, JSON, error messages and docs ("positive", "sum",
// "keyword", "cosine", "item"). A value outside its enum is named "unknown".
std::string_view polarity_name(Polarity p);
std::string_view value_kind_name(ValueKind v);
std::string_view attribute_type_name(AttributeType t);
std::string_view vector_metric_name(VectorMetric m);
std::string_view entity_kind_name(EntityKind k);

// The inverses of the *_name functions: exact, lowercase names only. An
// unknown name is an InvalidArgument naming `field`, the text and the
// accepted names.
Result<Polarity> parse_polarity(std::string_view text, std::string_view field = "polarity");
Result<ValueKind> parse_value_kind(std::string_view text, std::string_view field = "value_kind");
Result<AttributeType> parse_attribute_type(std::string_view text, std::string_view field = "type");
Result<VectorMetric> parse_vector_metric(std::string_view text, std::string_view field = "metric");
Result<EntityKind> parse_entity_kind(std::string_view text, std::string_view field = "kind");

// Every entity kind, in id order; for loops over the three kinds.
inline constexpr std::array<EntityKind, 3> kEntityKinds = {EntityKind::kItem, EntityKind::kUser,
                                                           EntityKind::kCreator};

// Limits, checked by SchemaBuilder::build(). docs/schema.md explains each.
inline constexpr size_t kMaxSignalTypes = 1024;
inline constexpr size_t kMaxAttributesPerKind = 1024;
inline constexpr size_t kMaxWindowsPerSignal = 8;
inline constexpr size_t kMaxIdentifierLength = 64;
inline constexpr uint32_t kMaxVectorDim = 4096;

// A signal type as the application declares it. Only name and half_life have
// no usable default.
struct SignalTypeSpec {
  std::string name{};
  // The time after which an event's weight in the decayed score has halved.
  Duration half_life{0};
  // Windows for windowed counts, in any order; duplicates are merged.
  std::vector<Duration> windows{};
  // Keep the rate of change per window (the basis of "rising").
  bool velocity = false;
  Polarity polarity = Polarity::kPositive;
  ValueKind value_kind = ValueKind::kCount;
  // How far one event moves the user's preference vector toward (or, for a
  // negative signal, away from) the item's embedding.
  double learning_rate = 0;
  // What one event adds to the user→creator affinity weight.
  double affinity_delta = 0;
};

// A validated signal type.
struct SignalTypeDefinition {
  std::string name{};
  Duration half_life{0};
  // ln 2 / half_life in seconds: the decay rate of the forward-decayed score.
  double lambda_per_second = 0;
  // Distinct and ascending.
  std::vector<Duration> windows{};
  bool velocity = false;
  Polarity polarity = Polarity::kPositive;
  ValueKind value_kind = ValueKind::kCount;
  double learning_rate = 0;
  double affinity_delta = 0;
  // Dense: the index of this signal type in Schema::signals(), assigned in
  // declaration order and never changed by a migration.
  uint16_t id = 0;

  // Compares every field (lambda_per_second follows from half_life).
  bool operator==(const SignalTypeDefinition&) const = default;
};

// How a text attribute is analyzed and scored (docs/search.md). Text
// attributes only; the defaults suit any language: Unicode words, case
// folded, no stemming, no stop words.
struct TextOptions {
  // "none", or a Snowball stemmer: "english", "porter", "french", ...
  std::string stemmer = "none";
  // "none", or "english" (the 33 classic English stop words).
  std::string stop_words = "none";
  // Multiplies this attribute's BM25 score when a search covers several
  // text attributes: 0 < boost <= 1000.
  double boost = 1.0;
  // BM25's term-frequency saturation, 0 <= k1 <= 10 (Lucene/Anserini: 0.9
  // for BEIR runs, 1.2 by default elsewhere).
  double k1 = 0.9;
  // BM25's length normalization, 0 <= b <= 1.
  double b = 0.4;

  bool operator==(const TextOptions&) const = default;
};

// An attribute as the application declares it.
struct AttributeSpec {
  std::string name{};
  AttributeType type = AttributeType::kKeyword;
  // May appear in WHERE. Not for text or vector attributes.
  bool filterable = false;
  // May be a sort key. Not for text, tags or vector attributes.
  bool sortable = false;
  // For vector attributes only, and required for them: 1..=4096.
  uint32_t vector_dim = 0;
  // For vector attributes only; they default to cosine.
  std::optional<VectorMetric> metric{};
  // For text attributes only (others must leave it at its defaults).
  TextOptions text{};
};

// A validated attribute.
struct AttributeDefinition {
  std::string name{};
  EntityKind kind = EntityKind::kItem;
  AttributeType type = AttributeType::kKeyword;
  bool filterable = false;
  bool sortable = false;
  uint32_t vector_dim = 0;                      // 0 unless type is kVector
  VectorMetric metric = VectorMetric::kCosine;  // kCosine unless type is kVector
  TextOptions text{};                           // the defaults unless type is kText
  // Dense per kind: the index in Schema::attributes(kind), assigned in
  // declaration order and never changed by a migration.
  uint16_t id = 0;

  bool operator==(const AttributeDefinition&) const = default;
};

// An immutable, validated schema. Copies share one representation, so a
// Schema is cheap to copy and safe to read from many threads.
class Schema {
 public:
  // The empty schema: version 1, no signal types, no attributes.
  Schema();

  // Starts at 1; each migration that adds something adds 1.
  uint32_t version() const;

  // In id order: signals()[i].id == i.
  const std::vector<SignalTypeDefinition>& signals() const;
  // nullptr when there is no signal type of that name.
  const SignalTypeDefinition* find_signal(std::string_view name) const;

  // The declared attributes of one kind, in id order. The built-in item
  // attributes `creator` and `created_at` are not listed: every item has
  // them and their names are reserved.
  const std::vector<AttributeDefinition>& attributes(EntityKind kind) const;
  // nullptr when `kind` has no attribute of that name.
  const AttributeDefinition* find_attribute(EntityKind kind, std::string_view name) const;

  // The binary form stored in the `meta` keyspace; the first byte is the
  // format version. docs/formats/schema.md describes the layout.
  std::string encode() const;
  // Reads what encode() wrote. Corruption when the bytes are truncated,
  // malformed, followed by extra bytes, or describe a schema that breaks a
  // rule (the message says what was wrong and where); NotSupported when the
  // format byte is newer than this build understands.
  static Result<Schema> decode(std::string_view bytes);

  // Every difference between this schema (the stored one) and `given`, one
  // sentence each, e.g.
  //   signal "view": half_life differs (stored 6h, given 12h)
  //   signal "share" is in the given schema but not the stored one
  //   item attribute "category": type differs (stored keyword, given text)
  // Signal types are listed first (stored order, then the given schema's
  // additions), then the attributes of item, user and creator. Content only:
  // the version numbers are not compared. Empty exactly when *this == given.
  std::vector<std::string> diff(const Schema& given) const;

  // Equal content: the same signal types and attributes with the same ids and
  // fields. The version is not compared.
  bool operator==(const Schema& other) const;

  struct Rep;  // defined in src/schema/schema_rep.h

 private:
  friend class SchemaAccess;
  explicit Schema(std::shared_ptr<const Rep> rep);

  std::shared_ptr<const Rep> rep_;
};

// The six signal types of a content platform (view, like, skip, share,
// completion, dwell_time) with the half-lives, windows, rates and deltas
// listed in docs/schema.md.
std::vector<SignalTypeSpec> default_signal_specs();

// Declares a schema, or a migration of one. Adding never fails; build()
// checks everything at once.
class SchemaBuilder {
 public:
  // A new schema (version 1).
  SchemaBuilder();
  // A migration of `base`: it starts with base's signal types and attributes,
  // whose ids stay as they are; what is added gets the next ids. build()
  // returns version base.version() + 1, or `base` itself when nothing was added.
  explicit SchemaBuilder(const Schema& base);

  // A new builder holding default_signal_specs().
  static SchemaBuilder with_default_signals();

  SchemaBuilder& add_signal(SignalTypeSpec spec);
  SchemaBuilder& add_attribute(EntityKind kind, AttributeSpec spec);

  // Validates every declaration and returns the schema. On failure the
  // Status (InvalidArgument) lists every broken rule, one per line, each as
  // `<field> = "<value>": <rule>` (at most 32 lines, then a count of the
  // rest); field() is the field of the first. Fields are written
  // `signals.<name>.<field>` and `attributes.<kind>.<name>.<field>`, or by
  // position (`signals[3].name`) while the name itself is unusable.
  Result<Schema> build() const;

 private:
  std::optional<Schema> base_;
  std::vector<SignalTypeSpec> signals_;
  std::array<std::vector<AttributeSpec>, 3> attributes_;
  // Declarations that came from base_ (the first ones of each list).
  size_t base_signals_ = 0;
  std::array<size_t, 3> base_attributes_{};
  bool added_ = false;
  // Declarations that could not be kept (an EntityKind outside the enum).
  std::vector<Status> add_errors_;
};

}  // namespace tidal
