// Names of the schema's enums, and their parsers. One table per enum serves
// both directions.
#include <string>
#include <utility>

#include "tidal/schema.h"

namespace tidal {

namespace {

constexpr std::pair<Polarity, std::string_view> kPolarities[] = {{Polarity::kPositive, "positive"},
                                                                 {Polarity::kNegative, "negative"}};
constexpr std::pair<ValueKind, std::string_view> kValueKinds[] = {{ValueKind::kCount, "count"},
                                                                  {ValueKind::kSum, "sum"}};
constexpr std::pair<AttributeType, std::string_view> kAttributeTypes[] = {
    {AttributeType::kKeyword, "keyword"}, {AttributeType::kText, "text"},
    {AttributeType::kInt, "int"},         {AttributeType::kFloat, "float"},
    {AttributeType::kBool, "bool"},       {AttributeType::kTimestamp, "timestamp"},
    {AttributeType::kTags, "tags"},       {AttributeType::kVector, "vector"}};
constexpr std::pair<VectorMetric, std::string_view> kVectorMetrics[] = {
    {VectorMetric::kCosine, "cosine"}, {VectorMetric::kDot, "dot"}, {VectorMetric::kL2, "l2"}};
constexpr std::pair<EntityKind, std::string_view> kEntityKindNames[] = {
    {EntityKind::kItem, "item"}, {EntityKind::kUser, "user"}, {EntityKind::kCreator, "creator"}};

template <typename E, size_t N>
std::string_view name_of(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
Result<E> parse(const std::pair<E, std::string_view> (&table)[N], std::string_view text,
                std::string_view field, std::string_view what) {
  std::string accepted;
  for (const auto& [e, name] : table) {
    if (name == text) return e;
    if (!accepted.empty()) accepted += ", ";
    accepted += name;
  }
  return Status::Invalid(Subsystem::kSchema, field, text,
                         "unknown " + std::string(what) + "; expected one of " + accepted);
}

}  // namespace

std::string_view polarity_name(Polarity p) {
  return name_of(kPolarities, p);
}
std::string_view value_kind_name(ValueKind v) {
  return name_of(kValueKinds, v);
}
std::string_view attribute_type_name(AttributeType t) {
  return name_of(kAttributeTypes, t);
}
std::string_view vector_metric_name(VectorMetric m) {
  return name_of(kVectorMetrics, m);
}
std::string_view entity_kind_name(EntityKind k) {
  return name_of(kEntityKindNames, k);
}

Result<Polarity> parse_polarity(std::string_view text, std::string_view field) {
  return parse(kPolarities, text, field, "polarity");
}
Result<ValueKind> parse_value_kind(std::string_view text, std::string_view field) {
  return parse(kValueKinds, text, field, "value kind");
}
Result<AttributeType> parse_attribute_type(std::string_view text, std::string_view field) {
  return parse(kAttributeTypes, text, field, "attribute type");
}
Result<VectorMetric> parse_vector_metric(std::string_view text, std::string_view field) {
  return parse(kVectorMetrics, text, field, "vector metric");
}
Result<EntityKind> parse_entity_kind(std::string_view text, std::string_view field) {
  return parse(kEntityKindNames, text, field, "entity kind");
}

}  // namespace tidal
