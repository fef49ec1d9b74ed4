// Routes of /v1/relationships (docs/http-api.md, "Relationships").
#include "server/api_request.h"

namespace tidal::server {

void Api::Request::relationship_single() {
  auto doc = parse_body("one relationship");
  if (!doc) return;
  RelationshipWrite w;
  if (Status st = read_relationship(*doc, "", &w); !st.ok()) return fail(st);
  with_db([&](Database& db) {
    Result<uint64_t> seq = db.relate(w);
    api_->metrics_.add_entity_writes(seq.ok() ? 1 : 0, seq.ok() ? 0 : 1);
    if (!seq.ok()) return seq.status();
    write_sequence(&res_->body, *seq);
    return Status::Ok();
  });
}
void Api::Request::relationships_batch() {
  auto doc = parse_body("{\"relationships\": [...]}");
  if (!doc) return;
  array items;
  BatchMode mode = BatchMode::kApplyValid;
  if (!batch_body(*doc, "relationships", &items, &mode)) return;
  std::vector<RelationshipWrite> writes;
  std::vector<size_t> positions;
  BatchOutcome outcome;
  if (Status st = read_batch(items, "relationships", mode, read_relationship, &writes, &positions,
                             &outcome);
      !st.ok()) {
    return fail(st);
  }
  with_db([&](Database& db) {
    BatchIngestResult r = db.relate(writes, mode);
    add_batch_result(&outcome, r, positions);
    api_->metrics_.add_entity_writes(outcome.accepted, outcome.rejected);
    batch_response(outcome, "index");
    return Status::Ok();
  });
}
}  // namespace tidal::server
