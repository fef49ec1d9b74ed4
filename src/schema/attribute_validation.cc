#include "schema/attribute_validation.h"

#include <string>

#include "schema/value_text.h"

namespace tidal {

namespace {

// A flag that `type` may not have set, with the reason why.
void forbid_flag(bool set, std::string_view path, std::string_view flag, std::string_view reason,
                 ErrorList* errors) {
  if (set) errors->add(field_path(path, flag), "true", reason);
}

}  // namespace

AttributeDefinition validate_attribute_fields(EntityKind kind, const AttributeSpec& spec,
                                              std::string_view path, ErrorList* errors) {
  AttributeDefinition def;
  def.name = spec.name;
  def.kind = kind;
  def.type = spec.type;
  def.filterable = spec.filterable;
  def.sortable = spec.sortable;

  switch (spec.type) {
    case AttributeType::kVector:
      if (spec.vector_dim < 1 || spec.vector_dim > kMaxVectorDim) {
        errors->add(field_path(path, "vector_dim"), std::to_string(spec.vector_dim),
                    "a vector attribute needs a dimension between 1 and 4096");
      }
      def.vector_dim = spec.vector_dim;
      def.metric = spec.metric.value_or(VectorMetric::kCosine);
      if (vector_metric_name(def.metric) == "unknown") {
        errors->add(field_path(path, "metric"), std::to_string(static_cast<int>(def.metric)),
                    "unknown vector metric; expected cosine, dot or l2");
      }
      forbid_flag(spec.filterable, path, "filterable",
                  "vector attributes cannot be filterable (they are searched by similarity)",
                  errors);
      forbid_flag(spec.sortable, path, "sortable",
                  "vector attributes cannot be sortable (they are searched by similarity)", errors);
      return def;
    case AttributeType::kText:
      forbid_flag(spec.filterable, path, "filterable",
                  "text attributes cannot be filterable (text is searched, not filtered; "
                  "use keyword for exact matches)",
                  errors);
      forbid_flag(spec.sortable, path, "sortable",
                  "text attributes cannot be sortable (use keyword to sort by a string)", errors);
      break;
    case AttributeType::kTags:
      forbid_flag(spec.sortable, path, "sortable",
                  "tags attributes cannot be sortable (a set has no single value to sort by)",
                  errors);
      break;
    case AttributeType::kKeyword:
    case AttributeType::kInt:
    case AttributeType::kFloat:
    case AttributeType::kBool:
    case AttributeType::kTimestamp: break;
    default:
      errors->add(field_path(path, "type"), std::to_string(static_cast<int>(spec.type)),
                  "unknown attribute type; expected keyword, text, int, float, bool, timestamp, "
                  "tags or vector");
      return def;
  }
  // Every type but vector gets here, and none of them has a dimension or metric.
  if (spec.vector_dim != 0) {
    errors->add(field_path(path, "vector_dim"), std::to_string(spec.vector_dim),
                std::string("only vector attributes have a dimension; this one is ") +
                    std::string(attribute_type_name(spec.type)));
  }
  if (spec.metric.has_value()) {
    errors->add(field_path(path, "metric"), vector_metric_name(*spec.metric),
                std::string("only vector attributes have a metric; this one is ") +
                    std::string(attribute_type_name(spec.type)));
  }
  return def;
}

}  // namespace tidal
