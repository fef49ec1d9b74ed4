// TextIndex: the materializer that keeps one inverted index per text
// attribute of every entity kind, in step with entity writes (docs/search.md).
//
// An upsert, patch or delete changes the index in the same apply as it
// changes the entity store, so the next query sees it. The index is derived
// from the stored entities and holds nothing the entity store does not: a
// checkpoint writes nothing for it, and open() rebuilds it from the restored
// entities (rebuild()) before the WAL after the checkpoint is replayed.
//
// It is registered before the entity store, so apply() still sees an
// entity's previous attributes: the old text is analyzed again to find the
// postings to remove. A write that leaves a text attribute's value as it was
// costs no index work.
//
// apply() and rebuild() run under the database's exclusive state lock;
// readers hold the shared one.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "apply/materializer.h"
#include "entities/entity_store.h"
#include "text/analyzer.h"
#include "text/field_index.h"

namespace tidal::text {

// One indexed text attribute.
struct TextField {
  AttributeDefinition def;
  uint16_t slot = 0;
  std::unique_ptr<Analyzer> analyzer;
  FieldIndex index;
};

class TextIndex final : public apply::Materializer {
 public:
  // `entities` must outlive the index (rebuild() and text_of() read it).
  TextIndex(const Schema& schema, const entities::EntityStore* entities);

  std::string_view name() const override { return "text"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kGlobal; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch*) override { return Status::Ok(); }
  Status restore(StorageEngine&) override { return Status::Ok(); }

  // Indexes every live entity's text from the entity store (after it has
  // been restored; the index must be empty).
  Status rebuild();

  // The text attributes of `kind`, in schema order.
  const std::vector<std::unique_ptr<TextField>>& fields(EntityKind kind) const {
    return fields_[static_cast<size_t>(kind)];
  }
  // nullptr when `kind` has no text attribute of that name.
  const TextField* field(EntityKind kind, std::string_view name) const;
  // The text of attribute `f` of entity `doc` ("" when it has none).
  std::string_view text_of(EntityKind kind, const TextField& f, uint32_t doc) const;
  const entities::EntityStore& entities() const { return *entities_; }
  size_t memory_bytes() const;

 private:
  // The value of each of `kind`'s text fields in an attribute list
  // (nullopt-like: found[i] false when absent).
  void texts_in(EntityKind kind, std::string_view list, std::vector<std::string_view>* texts,
                std::vector<bool>* found) const;
  // Adds a field for each text attribute of `schema` it lacks.
  void add_fields(const Schema& schema);
  void reindex(EntityKind kind, TextField& f, uint32_t doc, std::string_view old_text, bool had_old,
               std::string_view new_text, bool has_new);

  const entities::EntityStore* entities_;
  std::array<std::vector<std::unique_ptr<TextField>>, 3> fields_;
  // Scratch for apply (state lock held exclusively).
  std::vector<Token> tokens_;
  TermBag bag_;
};

}  // namespace tidal::text
