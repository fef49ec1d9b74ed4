// The schema as a JSON document: the shape GET /v1/schema returns, read back
// (docs/schema.md, "The schema as a document"). `tidal init|serve|import
// --schema FILE` create a database with it, `tidal schema diff|apply FILE`
// compare and migrate, and POST /v1/schema/{signals,attributes} read one
// signal type or attribute with the same code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/wire.h"
#include "tidal/schema.h"
#include "tidal/status.h"

namespace tidal::server {

// A signal type object ({"name", "half_life", "windows"?, ...}) at JSON path
// `path` ("" for a request body). Every problem is appended to `errors`,
// each naming its path ("signals[2].half_life"); reading goes on after one.
void read_signal_spec(JsonElement v, const std::string& path, SignalTypeSpec* spec,
                      std::vector<Status>* errors);
// An attribute object ({"kind"?, "name", "type", ...}). With `kind_given`
// the attribute belongs to *kind (a document lists attributes by kind) and a
// "kind" field must agree; without, "kind" is required and read into *kind.
void read_attribute_spec(JsonElement v, const std::string& path, bool kind_given, EntityKind* kind,
                         AttributeSpec* spec, std::vector<Status>* errors);

// The declarations of a schema document, in the document's order, before
// SchemaBuilder checks their rules. A document without "signals" gets the
// six default signal types; without "attributes", none ("version" is read
// and ignored: the database numbers its versions).
struct SchemaDocument {
  std::vector<SignalTypeSpec> signals;
  std::array<std::vector<AttributeSpec>, 3> attributes;
};
// Reads a document. InvalidArgument listing every problem, one per line,
// each with its JSON path; field() is the first's path.
Result<SchemaDocument> read_schema_document(std::string_view json);
// The document as a new schema (version 1): read_schema_document, then
// SchemaBuilder's rules, every broken one listed.
Result<Schema> schema_from_document(std::string_view json);
// The document as `stored` migrated by name (docs/schema.md): the stored
// declarations keep their ids (with the document's fields, so changing one
// shows in stored.diff()), the document's new ones are added after them, and
// stored ones the document leaves out are kept (`kept` names them: nothing
// is removed).
Result<Schema> schema_over(const Schema& stored, const SchemaDocument& doc,
                           std::vector<std::string>* kept);

// Several errors as one: InvalidArgument, one per line, the first's field.
Status join_errors(const std::vector<Status>& errors, std::string_view what);

}  // namespace tidal::server
