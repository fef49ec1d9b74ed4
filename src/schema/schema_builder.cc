#include <limits>
#include <string>

#include "schema/schema_assembly.h"
#include "schema/schema_rep.h"

namespace tidal {

SchemaBuilder::SchemaBuilder() = default;

SchemaBuilder::SchemaBuilder(const Schema& base) : base_(base) {
  for (const SignalTypeDefinition& def : base.signals()) signals_.push_back(to_spec(def));
  base_signals_ = signals_.size();
  for (EntityKind kind : kEntityKinds) {
    size_t k = kind_index(kind);
    for (const AttributeDefinition& def : base.attributes(kind)) {
      attributes_[k].push_back(to_spec(def));
    }
    base_attributes_[k] = attributes_[k].size();
  }
}

SchemaBuilder& SchemaBuilder::add_signal(SignalTypeSpec spec) {
  signals_.push_back(std::move(spec));
  added_ = true;
  return *this;
}

SchemaBuilder& SchemaBuilder::add_attribute(EntityKind kind, AttributeSpec spec) {
  size_t k = kind_index(kind);
  if (k >= attributes_.size()) {
    // Recorded now, reported by build(): adding never fails.
    add_errors_.push_back(Status::Invalid(Subsystem::kSchema, "attributes.kind",
                                          std::to_string(k) + " (attribute \"" + spec.name + "\")",
                                          "unknown entity kind; expected item, user or creator"));
  } else {
    attributes_[k].push_back(std::move(spec));
  }
  added_ = true;
  return *this;
}

Result<Schema> SchemaBuilder::build() const {
  if (base_.has_value() && !added_) return *base_;
  ErrorList errors;
  for (const Status& s : add_errors_) errors.add(s);
  uint32_t version = 1;
  BaseDeclarations base;
  if (base_.has_value()) {
    if (base_->version() == std::numeric_limits<uint32_t>::max()) {
      errors.add("version", std::to_string(base_->version()),
                 "the schema has reached the highest version and cannot be extended");
    } else {
      version = base_->version() + 1;
    }
    base = BaseDeclarations{base_->version(), base_signals_, base_attributes_};
  }
  return assemble_schema(version, signals_, attributes_, base, &errors);
}

}  // namespace tidal
