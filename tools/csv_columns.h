// How the columns of a CSV file map to what `tidal import` writes: signal
// events, entities or relationships. The header row names the columns; every
// later row is converted cell by cell.
//
//   events:         item, signal (required), user, timestamp, value, idempotency_key
//   entities:       key (required) and the kind's attributes (items also creator,
//                   created_at)
//   relationships:  user, relation, target_kind, target (required), active
//
// An empty cell is "no value": the field keeps its default (an event's time
// is then "now", its value 1) and an entity is written without the attribute.
// Attribute cells are converted by the attribute's schema type: keyword and
// text as they are, int and float as numbers, bool true/false, timestamp
// RFC 3339 or seconds since the epoch, tags separated by '|', vector as
// space-separated numbers.
#pragma once

#include <string>
#include <vector>

#include "tidal/entity.h"
#include "tidal/event.h"
#include "tidal/schema.h"

namespace tidal::cli {

enum class ImportKind : uint8_t { kEvents, kItems, kUsers, kCreators, kRelationships };

// "events", "items", "users", "creators", "relationships".
std::string_view import_kind_name(ImportKind kind);
std::optional<ImportKind> parse_import_kind(std::string_view text);
// The entity kind of kItems, kUsers and kCreators.
EntityKind entity_kind_of(ImportKind kind);

class CsvColumns {
 public:
  // Checks a header row: every column must be one `kind` takes, none twice,
  // and the required ones present. kInvalidArgument naming the column
  // otherwise. `schema` must outlive the CsvColumns.
  static Result<CsvColumns> from_header(const std::vector<std::string>& header, ImportKind kind,
                                        const Schema& schema);

  // Converts one row. kInvalidArgument naming the column, the cell and the
  // rule when a cell does not convert or the row has the wrong number of cells.
  Status read_event(const std::vector<std::string>& row, SignalEvent* out) const;
  Status read_entity(const std::vector<std::string>& row, EntityWrite* out) const;
  Status read_relationship(const std::vector<std::string>& row, RelationshipWrite* out) const;

 private:
  CsvColumns(ImportKind kind, const Schema& schema, std::vector<std::string> names)
      : kind_(kind), schema_(&schema), names_(std::move(names)) {}
  Status check_width(const std::vector<std::string>& row) const;

  ImportKind kind_;
  const Schema* schema_;
  std::vector<std::string> names_;
};

}  // namespace tidal::cli
