// Routes of /v1/items, /v1/users and /v1/creators (docs/http-api.md,
// "Entities", "Reading state").
#include "server/api_request.h"

namespace tidal::server {

void Api::Request::entity_one(EntityKind kind, const std::string& key) {
  if (req_.method == "GET") {
    return with_db([&](Database& db) {
      TIDAL_ASSIGN_OR_RETURN(Entity e, db.get(kind, key));
      write_entity(&res_->body, e);
      res_->body += '\n';
      return Status::Ok();
    });
  }
  if (req_.method == "DELETE") {
    return with_db([&](Database& db) {
      TIDAL_ASSIGN_OR_RETURN(uint64_t seq, db.remove(kind, key));
      write_sequence(&res_->body, seq);
      return Status::Ok();
    });
  }
  auto doc = parse_body("{\"attributes\": {...}}");
  if (!doc) return;
  with_db([&](Database& db) {
    EntityWrite w;
    TIDAL_RETURN_IF_ERROR(read_entity(*doc, "", db.schema(), kind, key, &w));
    Result<uint64_t> seq = req_.method == "PUT" ? db.upsert(w) : db.patch(w);
    api_->metrics_.add_entity_writes(seq.ok() ? 1 : 0, seq.ok() ? 0 : 1);
    if (!seq.ok()) return seq.status();
    write_sequence(&res_->body, *seq);
    return Status::Ok();
  });
}
// GET /v1/items?where=...&limit=...&cursor=...: a page of the entities
// COUNT items WHERE ... counts, first seen first.
void Api::Request::entities_list(EntityKind kind) {
  size_t limit = 0;
  if (!limit_param(100, 10000, &limit)) return;
  const std::string where(param("where").value_or(""));
  const std::string cursor(param("cursor").value_or(""));
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(EntityPage page, db.list(kind, where, limit, cursor));
    std::string& out = res_->body;
    out += "{\"" + collection_name(kind) + "\":[";
    for (size_t i = 0; i < page.entities.size(); ++i) {
      if (i > 0) out += ',';
      write_entity(&out, page.entities[i]);
    }
    out += ']';
    if (!page.cursor.empty()) {
      out += ",\"cursor\":";
      append_json_string(&out, page.cursor);
    }
    out += "}\n";
    return Status::Ok();
  });
}

void Api::Request::entities_batch(EntityKind kind) {
  auto doc = parse_body("{\"" + collection_name(kind) + "\": [...]}");
  if (!doc) return;
  array items;
  BatchMode mode = BatchMode::kApplyValid;
  std::string name = collection_name(kind);
  if (!batch_body(*doc, name, &items, &mode)) return;
  with_db([&](Database& db) {
    std::vector<EntityWrite> writes;
    std::vector<size_t> positions;
    BatchOutcome outcome;
    auto read = [&](JsonElement v, std::string_view field, EntityWrite* w) {
      return read_entity(v, field, db.schema(), kind, "", w);
    };
    TIDAL_RETURN_IF_ERROR(read_batch(items, name, mode, read, &writes, &positions, &outcome));
    BatchIngestResult r = db.upsert(writes, mode);
    add_batch_result(&outcome, r, positions);
    api_->metrics_.add_entity_writes(outcome.accepted, outcome.rejected);
    batch_response(outcome, "index");
    return Status::Ok();
  });
}
void Api::Request::entities_bulk(EntityKind kind) {
  bulk<EntityWrite>([kind](Database& db, JsonElement v,
                           EntityWrite* w) { return read_entity(v, "", db.schema(), kind, "", w); },
                    [](Database& db, const std::vector<EntityWrite>& writes) {
                      return db.upsert(writes, BatchMode::kApplyValid);
                    },
                    [this](uint64_t accepted, uint64_t rejected) {
                      api_->metrics_.add_entity_writes(accepted, rejected);
                    });
}

void Api::Request::item_signals(const std::string& key) {
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(ItemSignals sig, db.item_signals(key, param("cohort").value_or("")));
    std::string& out = res_->body;
    out = "{\"item\":";
    append_json_string(&out, sig.item);
    out += ",\"registered\":";
    out += sig.registered ? "true" : "false";
    out += ",\"signals\":[";
    for (size_t i = 0; i < sig.signals.size(); ++i) {
      const SignalSnapshot& s = sig.signals[i];
      if (i > 0) out += ',';
      out += "{\"signal\":";
      append_json_string(&out, s.signal);
      out += ",\"decayed\":";
      append_json_number(&out, s.decayed);
      out += ",\"windows\":[";
      for (size_t j = 0; j < s.windows.size(); ++j) {
        const WindowSignal& w = s.windows[j];
        if (j > 0) out += ',';
        out += "{\"window\":";
        append_json_string(&out, format_duration(w.window));
        out += ",\"count\":" + std::to_string(w.count) + ",\"sum\":";
        append_json_number(&out, w.sum);
        out += ",\"previous_count\":" + std::to_string(w.previous_count) + ",\"velocity\":";
        append_json_number(&out, w.velocity);
        out += '}';
      }
      out += "]}";
    }
    out += "]}\n";
    return Status::Ok();
  });
}
void Api::Request::write_key_list(const std::string& name, const std::vector<std::string>& keys) {
  std::string& out = res_->body;
  out = "{";
  append_json_string(&out, name);
  out += ":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(&out, keys[i]);
  }
  out += "]}\n";
}
void Api::Request::followers(EntityKind kind, const std::string& key) {
  size_t limit;
  if (!limit_param(1000, 100000, &limit)) return;
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(std::vector<std::string> users, db.followers(kind, key, limit));
    write_key_list("followers", users);
    return Status::Ok();
  });
}
void Api::Request::related(const std::string& user) {
  size_t limit;
  if (!limit_param(1000, 100000, &limit)) return;
  std::string relation_text(param("relation").value_or("follow"));
  std::string kind_text(param("target_kind").value_or("creator"));
  Result<Relation> relation = parse_relation(relation_text, "relation");
  if (!relation.ok()) return fail(relation.status());
  Result<EntityKind> kind = parse_entity_kind(kind_text, "target_kind");
  if (!kind.ok()) return fail(kind.status());
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                           db.related(user, *relation, *kind, limit));
    write_key_list("targets", keys);
    return Status::Ok();
  });
}
void Api::Request::affinities(const std::string& user) {
  size_t limit;
  if (!limit_param(20, 10000, &limit)) return;
  with_db([&](Database& db) {
    TIDAL_ASSIGN_OR_RETURN(std::vector<AffinityEntry> entries, db.top_affinities(user, limit));
    std::string& out = res_->body;
    out = "{\"affinities\":[";
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"creator\":";
      append_json_string(&out, entries[i].creator);
      out += ",\"weight\":";
      append_json_number(&out, entries[i].weight);
      out += '}';
    }
    out += "]}\n";
    return Status::Ok();
  });
}
}  // namespace tidal::server
