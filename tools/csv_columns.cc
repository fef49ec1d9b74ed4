#include "csv_columns.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/time_text.h"

namespace tidal::cli {

namespace {

const std::vector<std::string> kEventColumns = {"item",      "signal", "user",
                                                "timestamp", "value",  "idempotency_key"};
const std::vector<std::string> kRelationshipColumns = {"user", "relation", "target_kind", "target",
                                                       "active"};

Status bad_header(std::string_view column, std::string rule) {
  return Status(Subsystem::kCore, StatusCode::kInvalidArgument,
                "header: column \"" + std::string(column) + "\" " + rule, std::string(column));
}

Status bad_cell(std::string_view column, std::string_view cell, std::string_view rule) {
  return Status::Invalid(Subsystem::kCore, column, cell, rule);
}

bool parse_int(std::string_view s, int64_t* out) {
  std::string text(s);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) return false;
  *out = v;
  return true;
}

bool parse_double(std::string_view s, double* out) {
  std::string text(s);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// RFC 3339, or a number of seconds since the epoch (as the JSON form takes).
Status parse_time(std::string_view column, std::string_view cell, Timestamp* out) {
  double secs;
  if (parse_double(cell, &secs)) {
    if (std::fabs(secs) > 9.2e12) {
      return bad_cell(column, cell, "seconds since the epoch must be within ±9.2e12");
    }
    *out = from_micros(static_cast<int64_t>(std::llround(secs * 1e6)));
    return Status::Ok();
  }
  Result<Timestamp> t = parse_rfc3339(cell, column);
  if (!t.ok()) {
    return bad_cell(column, cell,
                    "expected an RFC 3339 time such as 2026-11-24T12:00:00Z or seconds since the "
                    "epoch");
  }
  *out = *t;
  return Status::Ok();
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t end = s.find(sep, pos);
    parts.emplace_back(s.substr(pos, end == std::string_view::npos ? end : end - pos));
    if (end == std::string_view::npos) return parts;
    pos = end + 1;
  }
}

Status convert_cell(std::string_view column, std::string_view cell, AttributeType type,
                    AttributeValue* out) {
  switch (type) {
    case AttributeType::kKeyword:
    case AttributeType::kText: *out = std::string(cell); return Status::Ok();
    case AttributeType::kInt: {
      int64_t v;
      if (!parse_int(cell, &v)) {
        return bad_cell(column, cell, "an int attribute takes a whole number");
      }
      *out = v;
      return Status::Ok();
    }
    case AttributeType::kFloat: {
      double v;
      if (!parse_double(cell, &v))
        return bad_cell(column, cell, "a float attribute takes a number");
      *out = v;
      return Status::Ok();
    }
    case AttributeType::kBool:
      if (cell == "true" || cell == "false") {
        *out = cell == "true";
        return Status::Ok();
      }
      return bad_cell(column, cell, "a bool attribute takes true or false");
    case AttributeType::kTimestamp: {
      Timestamp t;
      TIDAL_RETURN_IF_ERROR(parse_time(column, cell, &t));
      *out = t;
      return Status::Ok();
    }
    case AttributeType::kTags: *out = split(cell, '|'); return Status::Ok();
    case AttributeType::kVector: {
      std::vector<float> v;
      for (const std::string& part : split(cell, ' ')) {
        if (part.empty()) continue;
        double d;
        if (!parse_double(part, &d)) {
          return bad_cell(column, cell, "a vector attribute takes numbers separated by spaces");
        }
        v.push_back(static_cast<float>(d));
      }
      *out = std::move(v);
      return Status::Ok();
    }
  }
  *out = std::string(cell);
  return Status::Ok();
}

// The type of an entity column: an attribute of the schema, or an item's
// built-in creator or created_at. Null when the kind has no such attribute.
std::optional<AttributeType> column_type(const Schema& schema, EntityKind kind,
                                         std::string_view name) {
  if (kind == EntityKind::kItem && name == "creator") return AttributeType::kKeyword;
  if (kind == EntityKind::kItem && name == "created_at") return AttributeType::kTimestamp;
  if (const AttributeDefinition* def = schema.find_attribute(kind, name)) return def->type;
  return std::nullopt;
}

std::vector<std::string> entity_columns(const Schema& schema, EntityKind kind) {
  std::vector<std::string> out = {"key"};
  if (kind == EntityKind::kItem) out.insert(out.end(), {"creator", "created_at"});
  for (const AttributeDefinition& a : schema.attributes(kind)) out.push_back(a.name);
  return out;
}

}  // namespace

std::string_view import_kind_name(ImportKind kind) {
  switch (kind) {
    case ImportKind::kEvents: return "events";
    case ImportKind::kItems: return "items";
    case ImportKind::kUsers: return "users";
    case ImportKind::kCreators: return "creators";
    case ImportKind::kRelationships: return "relationships";
  }
  return "?";
}

std::optional<ImportKind> parse_import_kind(std::string_view text) {
  for (ImportKind k : {ImportKind::kEvents, ImportKind::kItems, ImportKind::kUsers,
                       ImportKind::kCreators, ImportKind::kRelationships}) {
    if (text == import_kind_name(k)) return k;
  }
  return std::nullopt;
}

EntityKind entity_kind_of(ImportKind kind) {
  switch (kind) {
    case ImportKind::kUsers: return EntityKind::kUser;
    case ImportKind::kCreators: return EntityKind::kCreator;
    default: return EntityKind::kItem;
  }
}

Result<CsvColumns> CsvColumns::from_header(const std::vector<std::string>& header, ImportKind kind,
                                           const Schema& schema) {
  std::vector<std::string> known;
  std::vector<std::string> required;
  if (kind == ImportKind::kEvents) {
    known = kEventColumns;
    required = {"item", "signal"};
  } else if (kind == ImportKind::kRelationships) {
    known = kRelationshipColumns;
    required = {"user", "relation", "target_kind", "target"};
  } else {
    known = entity_columns(schema, entity_kind_of(kind));
    required = {"key"};
  }
  std::string known_text;
  for (const std::string& k : known) known_text += (known_text.empty() ? "" : ", ") + k;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (std::find(header.begin(), it, *it) != it) return bad_header(*it, "appears twice");
    if (std::find(known.begin(), known.end(), *it) == known.end()) {
      std::string hint;
      if (kind != ImportKind::kEvents && kind != ImportKind::kRelationships) {
        hint =
            "; to add it as an attribute, declare it in a schema file and run `tidal schema "
            "apply --data DIR FILE` (docs/schema.md), or give a new folder --schema FILE";
      }
      return bad_header(*it, "is not a column of " + std::string(import_kind_name(kind)) +
                                 " (known: " + known_text + ")" + hint);
    }
  }
  for (const std::string& r : required) {
    if (std::find(header.begin(), header.end(), r) == header.end()) {
      return bad_header(r, "is required and missing");
    }
  }
  return CsvColumns(kind, schema, header);
}

Status CsvColumns::check_width(const std::vector<std::string>& row) const {
  if (row.size() == names_.size()) return Status::Ok();
  return Status(Subsystem::kCore, StatusCode::kInvalidArgument,
                "the row has " + std::to_string(row.size()) + " cells; the header names " +
                    std::to_string(names_.size()) + " columns");
}

Status CsvColumns::read_event(const std::vector<std::string>& row, SignalEvent* out) const {
  TIDAL_RETURN_IF_ERROR(check_width(row));
  for (size_t i = 0; i < row.size(); ++i) {
    const std::string& name = names_[i];
    const std::string& cell = row[i];
    if (cell.empty()) continue;
    if (name == "item") {
      out->item = cell;
    } else if (name == "signal") {
      out->signal = cell;
    } else if (name == "user") {
      out->user = cell;
    } else if (name == "timestamp") {
      TIDAL_RETURN_IF_ERROR(parse_time(name, cell, &out->timestamp));
    } else if (name == "value") {
      if (!parse_double(cell, &out->value)) return bad_cell(name, cell, "expected a number");
    } else if (name == "idempotency_key") {
      out->idempotency_key = cell;
    }
  }
  if (out->item.empty()) return bad_cell("item", "", "is required");
  if (out->signal.empty()) return bad_cell("signal", "", "is required");
  return Status::Ok();
}

Status CsvColumns::read_entity(const std::vector<std::string>& row, EntityWrite* out) const {
  TIDAL_RETURN_IF_ERROR(check_width(row));
  out->kind = entity_kind_of(kind_);
  for (size_t i = 0; i < row.size(); ++i) {
    const std::string& name = names_[i];
    const std::string& cell = row[i];
    if (name == "key") {
      out->key = cell;
      continue;
    }
    if (cell.empty()) continue;
    AttributeValue value;
    TIDAL_RETURN_IF_ERROR(
        convert_cell(name, cell, *column_type(*schema_, out->kind, name), &value));
    out->attributes.emplace_back(name, std::move(value));
  }
  if (out->key.empty()) return bad_cell("key", "", "is required");
  return Status::Ok();
}

Status CsvColumns::read_relationship(const std::vector<std::string>& row,
                                     RelationshipWrite* out) const {
  TIDAL_RETURN_IF_ERROR(check_width(row));
  for (size_t i = 0; i < row.size(); ++i) {
    const std::string& name = names_[i];
    const std::string& cell = row[i];
    if (name == "user") {
      out->user = cell;
    } else if (name == "target") {
      out->target = cell;
    } else if (name == "relation") {
      TIDAL_ASSIGN_OR_RETURN(out->relation, parse_relation(cell, name));
    } else if (name == "target_kind") {
      TIDAL_ASSIGN_OR_RETURN(out->target_kind, parse_entity_kind(cell, name));
    } else if (name == "active" && !cell.empty()) {
      if (cell != "true" && cell != "false") return bad_cell(name, cell, "must be true or false");
      out->active = cell == "true";
    }
  }
  if (out->user.empty()) return bad_cell("user", "", "is required");
  if (out->target.empty()) return bad_cell("target", "", "is required");
  return Status::Ok();
}

}  // namespace tidal::cli
