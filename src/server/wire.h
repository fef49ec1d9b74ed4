// The server's JSON wire format: reading events, entities and relationships
// from request bodies (simdjson DOM), and writing entities, query results,
// batch outcomes and errors. `tidal import` reads its NDJSON files with the
// same functions, so a line means the same thing in a file and over HTTP.
// docs/http-api.md describes every shape.
//
// Reading never half-fills: on error the output may hold partial data but
// the caller discards it. Every error is kInvalidArgument naming the JSON
// path of the offending field (`events[3].timestamp`), the value when there
// is one, and the rule.
#pragma once

#include <simdjson.h>

#include <functional>
#include <string>
#include <string_view>

#include "tidal/database.h"

namespace tidal::server {

using JsonElement = simdjson::dom::element;

// An RFC 3339 time ("2026-11-24T12:00:00Z", "2026-11-24T12:00:00.250+01:00")
// or a JSON number of seconds since the Unix epoch (fractions allowed).
Status read_timestamp(JsonElement v, std::string_view field, Timestamp* out);

// {"item", "signal", "user"?, "timestamp"?, "value"?, "idempotency_key"?}
Status read_event(JsonElement v, std::string_view field, SignalEvent* out);

// {"key", "attributes": {...}} (the key may instead come from the URL: pass
// it as `key` and the body's "key", if present, must agree). Attribute
// values are converted by the schema's type for `kind`: keyword and text
// from strings, int from whole numbers, float from numbers, bool, timestamp
// as for read_timestamp, tags from arrays of strings, vector from arrays of
// numbers; null is "no value" (in a patch: remove). An attribute the schema
// does not declare is passed on as its natural type, for the database to
// reject or ignore (DatabaseOptions::unknown_attributes).
Status read_entity(JsonElement v, std::string_view field, const Schema& schema, EntityKind kind,
                   std::string_view key, EntityWrite* out);

// {"user", "relation": "follow"|"block"|"mute", "target_kind": "creator"|"user"|"item",
//  "target", "active"?}
Status read_relationship(JsonElement v, std::string_view field, RelationshipWrite* out);

// "apply_valid" (the default) or "all_or_nothing".
Status read_batch_mode(JsonElement v, std::string_view field, BatchMode* out);

// Calls `fn(line_number, line)` for every non-blank line of an NDJSON body
// (line numbers from 1; a trailing '\r' is dropped). Stops at the first
// non-OK status fn returns and returns it.
Status for_each_ndjson_line(std::string_view body,
                            const std::function<Status(size_t, std::string_view)>& fn);

// ---- writing

// "invalid_argument", "not_found", ...: StatusCode as an identifier.
std::string_view error_code_name(StatusCode code);
// {"code": ..., "message": ..., "field": ...} (field omitted when empty).
void write_error_object(std::string* out, const Status& status);
// {"error": {...}}
std::string error_body(const Status& status);

void write_timestamp(std::string* out, Timestamp t);  // a JSON string, RFC 3339, UTC
// {"mode": "live"|"historical", "now": time, "pinned": time|null, "floor": time}
void write_present(std::string* out, const Present& p);
// {"mode", "at"?}: a request to set the present (POST /v1/present).
Status read_present_request(JsonElement v, PresentMode* mode, std::optional<Timestamp>* at);
void write_attribute_value(std::string* out, const AttributeValue& v);
// {"kind", "key", "attributes": {...}}
void write_entity(std::string* out, const Entity& e);
// The request forms read_event, read_entity and read_relationship read
// (a client's side: `tidal import --url`).
void write_event(std::string* out, const SignalEvent& e);
void write_entity_write(std::string* out, const EntityWrite& w);
void write_relationship(std::string* out, const RelationshipWrite& r);
// {"rows": [{"key", "score"}...], "cursor"?, "took_ms", "message"?, "plan"?, "explain"?}
// `plan` is written for EXPLAIN statements or when `with_plan` is set.
// A score: a JSON number, or for the values JSON has no number for the
// strings "Infinity", "-Infinity" and "NaN" (what JavaScript's Number() and
// Python's float() read back).
void write_score(std::string* out, double score);
void write_query_result(std::string* out, const QueryResult& r, bool with_plan);
// What a batch or bulk request did, in the order of its events or lines:
// parse errors found by the server and rejections by the database together.
struct BatchOutcome {
  size_t accepted = 0;
  size_t duplicates = 0;  // accepted retries of events already ingested
  size_t rejected = 0;
  uint64_t last_sequence = 0;
  std::vector<std::pair<size_t, Status>> errors;  // position (index or line), error
};
// Reads the elements of a JSON batch with `read(element, field, &write)`,
// `field` being `<name>[i]`. The valid ones go to `writes` with their index
// in `positions`; an invalid one fails the whole request under
// all-or-nothing (the Status returned) and is counted in `outcome`
// otherwise.
template <typename Write, typename Read>
Status read_batch(simdjson::dom::array items, std::string_view name, BatchMode mode, Read&& read,
                  std::vector<Write>* writes, std::vector<size_t>* positions,
                  BatchOutcome* outcome) {
  size_t i = 0;
  for (JsonElement v : items) {
    Write w;
    Status st = read(v, std::string(name) + "[" + std::to_string(i) + "]", &w);
    if (st.ok()) {
      writes->push_back(std::move(w));
      positions->push_back(i);
    } else if (mode == BatchMode::kAllOrNothing) {
      return st;
    } else {
      ++outcome->rejected;
      outcome->errors.emplace_back(i, st);
    }
    ++i;
  }
  return Status::Ok();
}
// Folds the database's result in; positions[i] is result i's position.
void add_batch_result(BatchOutcome* outcome, const BatchIngestResult& r,
                      const std::vector<size_t>& positions);
// {"accepted", "rejected", "duplicates", "last_sequence",
//  "errors": [{"<position_name>": n, "code", "message", "field"}...]}
// (at most 1,000 errors are listed; "errors_omitted" counts the rest).
void write_batch_outcome(std::string* out, const BatchOutcome& o, std::string_view position_name);

// The schema as GET /v1/schema answers it: {"version", "signals": [...],
// "attributes": {"item": [...], "user": [...], "creator": [...]}} and a
// newline.
void write_schema(std::string* out, const Schema& schema);
// One signal type or attribute as GET /v1/schema lists it — and as POST
// /v1/schema/signals and /v1/schema/attributes take it (`with_kind`: the
// attribute's "kind", which the POST needs).
void write_signal_definition(std::string* out, const SignalTypeDefinition& s);
void write_attribute_definition(std::string* out, const AttributeDefinition& a, bool with_kind);

}  // namespace tidal::server
