#include "schema/attribute_validation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "schema/stemmers.h"
#include "schema/value_text.h"

namespace tidal {

namespace {

// A flag that `type` may not have set, with the reason why.
void forbid_flag(bool set, std::string_view path, std::string_view flag, std::string_view reason,
                 ErrorList* errors) {
  if (set) errors->add(field_path(path, flag), "true", reason);
}

// A number within [lo, hi] (lo itself excluded when `open_lo`).
void check_range(double v, double lo, double hi, bool open_lo, std::string_view path,
                 std::string_view name, ErrorList* errors) {
  if (std::isfinite(v) && (open_lo ? v > lo : v >= lo) && v <= hi) return;
  errors->add(field_path(path, name), number_text(v),
              "must be " + std::string(open_lo ? "above " : "at least ") + number_text(lo) +
                  " and at most " + number_text(hi));
}

void validate_text_options(const TextOptions& t, std::string_view path, ErrorList* errors) {
  const std::vector<std::string> stemmers = stemmer_names();
  if (t.stemmer != "none" &&
      std::find(stemmers.begin(), stemmers.end(), t.stemmer) == stemmers.end()) {
    std::string known = "none";
    for (const std::string& s : stemmers) known += ", " + s;
    errors->add(field_path(path, "stemmer"), t.stemmer,
                "unknown stemmer; expected one of: " + known);
  }
  if (t.stop_words != "none" && t.stop_words != "english") {
    errors->add(field_path(path, "stop_words"), t.stop_words,
                "unknown stop word list; expected none or english");
  }
  check_range(t.boost, 0, 1000, true, path, "boost", errors);
  check_range(t.k1, 0, 10, false, path, "k1", errors);
  check_range(t.b, 0, 1, false, path, "b", errors);
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
      validate_text_options(spec.text, path, errors);
      def.text = spec.text;
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
  if (spec.type != AttributeType::kText && spec.text != TextOptions{}) {
    errors->add(field_path(path, "text"), std::string(attribute_type_name(spec.type)),
                "only text attributes have text options (stemmer, stop_words, boost, k1, b)");
  }
  if (spec.metric.has_value()) {
    errors->add(field_path(path, "metric"), vector_metric_name(*spec.metric),
                std::string("only vector attributes have a metric; this one is ") +
                    std::string(attribute_type_name(spec.type)));
  }
  return def;
}

}  // namespace tidal
