// Routes of /v1/events (docs/http-api.md, "Events").
#include "server/api_request.h"

namespace tidal::server {

void Api::Request::event_single() {
  auto doc = parse_body("one event");
  if (!doc) return;
  SignalEvent e;
  if (Status st = read_event(*doc, "", &e); !st.ok()) return fail(st);
  with_db([&](Database& db) {
    Result<IngestResult> r = db.ingest(e);
    api_->metrics_.add_events(r.ok() ? 1 : 0, r.ok() ? 0 : 1);
    if (!r.ok()) return r.status();
    res_->body = "{\"sequence\":" + std::to_string(r->sequence) +
                 ",\"duplicate\":" + (r->duplicate ? "true" : "false") + "}\n";
    return Status::Ok();
  });
}
void Api::Request::events_batch() {
  auto doc = parse_body("{\"events\": [...]}");
  if (!doc) return;
  array items;
  BatchMode mode = BatchMode::kApplyValid;
  if (!batch_body(*doc, "events", &items, &mode)) return;
  std::vector<SignalEvent> events;
  std::vector<size_t> positions;
  events.reserve(items.size());
  BatchOutcome outcome;
  if (Status st = read_batch(items, "events", mode, read_event, &events, &positions, &outcome);
      !st.ok()) {
    return fail(st);
  }
  with_db([&](Database& db) {
    BatchIngestResult r = db.ingest(events, mode);
    add_batch_result(&outcome, r, positions);
    api_->metrics_.add_events(outcome.accepted, outcome.rejected);
    batch_response(outcome, "index");
    return Status::Ok();
  });
}
void Api::Request::events_bulk() {
  bulk<SignalEvent>([](Database&, JsonElement v, SignalEvent* e) { return read_event(v, "", e); },
                    [](Database& db, const std::vector<SignalEvent>& events) {
                      return db.ingest(events, BatchMode::kApplyValid);
                    },
                    [this](uint64_t accepted, uint64_t rejected) {
                      api_->metrics_.add_events(accepted, rejected);
                    });
}

}  // namespace tidal::server
