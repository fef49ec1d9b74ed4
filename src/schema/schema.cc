#include <memory>

#include "schema/schema_rep.h"

namespace tidal {

namespace {

const std::shared_ptr<const Schema::Rep>& empty_rep() {
  static const auto* rep = new std::shared_ptr<const Schema::Rep>(std::make_shared<Schema::Rep>());
  return *rep;
}

}  // namespace

Schema::Schema() : rep_(empty_rep()) {}

Schema::Schema(std::shared_ptr<const Rep> rep) : rep_(std::move(rep)) {}

uint32_t Schema::version() const {
  return rep_->version;
}

const std::vector<SignalTypeDefinition>& Schema::signals() const {
  return rep_->signals;
}

const SignalTypeDefinition* Schema::find_signal(std::string_view name) const {
  auto it = rep_->signal_ids.find(name);
  return it == rep_->signal_ids.end() ? nullptr : &rep_->signals[it->second];
}

const std::vector<AttributeDefinition>& Schema::attributes(EntityKind kind) const {
  static const std::vector<AttributeDefinition> kNone;
  size_t k = kind_index(kind);
  return k < rep_->attributes.size() ? rep_->attributes[k] : kNone;
}

const AttributeDefinition* Schema::find_attribute(EntityKind kind, std::string_view name) const {
  size_t k = kind_index(kind);
  if (k >= rep_->attribute_ids.size()) return nullptr;
  auto it = rep_->attribute_ids[k].find(name);
  return it == rep_->attribute_ids[k].end() ? nullptr : &rep_->attributes[k][it->second];
}

bool Schema::operator==(const Schema& other) const {
  return rep_ == other.rep_ ||
         (rep_->signals == other.rep_->signals && rep_->attributes == other.rep_->attributes);
}

SignalTypeSpec to_spec(const SignalTypeDefinition& def) {
  return SignalTypeSpec{.name = def.name,
                        .half_life = def.half_life,
                        .windows = def.windows,
                        .velocity = def.velocity,
                        .polarity = def.polarity,
                        .value_kind = def.value_kind,
                        .learning_rate = def.learning_rate,
                        .affinity_delta = def.affinity_delta};
}

AttributeSpec to_spec(const AttributeDefinition& def) {
  AttributeSpec spec{.name = def.name,
                     .type = def.type,
                     .filterable = def.filterable,
                     .sortable = def.sortable,
                     .vector_dim = def.vector_dim,
                     .metric = std::nullopt,
                     .text = def.text};
  if (def.type == AttributeType::kVector) spec.metric = def.metric;
  return spec;
}

}  // namespace tidal
