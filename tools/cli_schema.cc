// tidal init and tidal schema: a database with your own schema, and the
// schema as a document you can keep in a file, compare and migrate
// (docs/schema.md, "The schema as a document").
#include <cstdio>

#include "cli_backend.h"
#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_usage.h"
#include "server/schema_document.h"
#include "server/wire.h"

namespace tidal::cli {

namespace {

// The schema as GET /v1/schema returns it, one signal type or attribute per
// line so that it reads and edits well as a file.
std::string schema_document_text(const Schema& schema) {
  std::string compact;
  server::write_schema(&compact, schema);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(compact).get(doc) != simdjson::SUCCESS) return compact;
  std::string out = "{\n  \"version\": " + std::to_string(schema.version()) + ",\n";
  auto list = [&](simdjson::dom::array arr, const std::string& indent) {
    std::string text = "[";
    size_t i = 0;
    for (simdjson::dom::element e : arr) {
      text += (i++ == 0 ? "\n" : ",\n") + indent + "  " + simdjson::minify(e);
    }
    text += i == 0 ? "]" : "\n" + indent + "]";
    return text;
  };
  simdjson::dom::array signals;
  if (doc["signals"].get_array().get(signals) == simdjson::SUCCESS) {
    out += "  \"signals\": " + list(signals, "  ") + ",\n";
  }
  out += "  \"attributes\": {";
  simdjson::dom::object attributes;
  if (doc["attributes"].get_object().get(attributes) == simdjson::SUCCESS) {
    size_t i = 0;
    for (auto [kind, arr] : attributes) {
      out += (i++ == 0 ? "\n" : ",\n") + std::string("    \"") + std::string(kind) +
             "\": " + list(arr.get_array().value(), "    ");
    }
    out += "\n  ";
  }
  out += "}\n}\n";
  return out;
}

// schema apply --url: each addition of `merged` over `stored`, in order,
// through POST /v1/schema/signals and /v1/schema/attributes (one migration
// each: a running server takes them one at a time).
int apply_over_http(HttpClient& http, const Schema& stored, const Schema& merged,
                    const std::vector<std::string>& added) {
  uint32_t version = stored.version();
  auto post = [&](const std::string& target, const std::string& body,
                  const std::string& what) -> bool {
    Result<HttpAnswer> a = http.request("POST", target, body);
    Status st = !a.ok() ? a.status() : a->status == 200 ? Status::Ok() : http.error_of(*a);
    if (!st.ok()) {
      std::fprintf(stderr,
                   "tidal: adding %s: %s\n(the additions before it are stored: schema "
                   "version %u)\n",
                   what.c_str(), st.message().c_str(), version);
      return false;
    }
    ++version;
    std::printf("  + %s\n", what.c_str());
    return true;
  };
  std::printf("schema version %u -> %u:\n", stored.version(),
              stored.version() + static_cast<uint32_t>(added.size()));
  for (size_t i = stored.signals().size(); i < merged.signals().size(); ++i) {
    std::string body;
    server::write_signal_definition(&body, merged.signals()[i]);
    if (!post("/v1/schema/signals", body, "signal \"" + merged.signals()[i].name + "\"")) return 1;
  }
  for (EntityKind kind : kEntityKinds) {
    const std::vector<AttributeDefinition>& list = merged.attributes(kind);
    for (size_t i = stored.attributes(kind).size(); i < list.size(); ++i) {
      std::string body;
      server::write_attribute_definition(&body, list[i], /*with_kind=*/true);
      const std::string what =
          std::string(entity_kind_name(kind)) + " attribute \"" + list[i].name + "\"";
      if (!post("/v1/schema/attributes", body, what)) return 1;
    }
  }
  return 0;
}

}  // namespace

int run_init(const Args& args) {
  static const char* kUsage =
      "usage: tidal init --data DIR [--schema FILE]\n"
      "\n"
      "Creates a database in DIR (which must not hold one) with the schema of FILE:\n"
      "the JSON document `GET /v1/schema` and `tidal schema show` print\n"
      "(docs/schema.md). Without --schema it gets the default schema. A schema file\n"
      "with errors lists every one with its JSON path, and nothing is created.\n"
      "\n"
      "  --data DIR      the data folder to create\n"
      "  --schema FILE   the schema document\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--schema", "--help", "-h"})) return 2;
  std::optional<std::string> dir = data_dir(args);
  if (!dir) return 2;
  bool bad = false;
  std::optional<SchemaFile> file = schema_flag(args, &bad);
  if (bad) return 2;
  if (Result<Schema> stored = Database::stored_schema(*dir); stored.ok()) {
    std::fprintf(stderr,
                 "tidal: %s already holds a database (schema version %u); `tidal schema apply "
                 "--data %s FILE` adds to its schema\n",
                 dir->c_str(), stored->version(), dir->c_str());
    return 1;
  }
  std::unique_ptr<Database> db =
      open_database(*dir, DatabaseOptions{}, /*create=*/true, file ? &*file : nullptr);
  if (!db) return 1;
  const Schema schema = db->schema();
  if (!close_database(*db)) return 1;
  size_t attributes = 0;
  for (EntityKind k : kEntityKinds) attributes += schema.attributes(k).size();
  std::printf("created a database in %s: %zu signal types, %zu attributes (schema version %u)\n",
              dir->c_str(), schema.signals().size(), attributes, schema.version());
  return 0;
}

int run_schema(const Args& args) {
  static const char* kUsage =
      "usage: tidal schema show  --data DIR | --url URL [--key KEY]\n"
      "       tidal schema diff  --data DIR | --url URL [--key KEY]  FILE\n"
      "       tidal schema apply --data DIR | --url URL [--key KEY]  FILE\n"
      "\n"
      "show   prints the stored schema as a JSON document (the shape GET /v1/schema\n"
      "       returns), ready to keep in a file and edit.\n"
      "diff   prints how FILE differs from the stored schema, matching signal types\n"
      "       and attributes by name: what it adds (+), what it changes (~) and\n"
      "       what it leaves out (kept: nothing is ever removed). Exit status 0 when\n"
      "       they are the same, 1 when they differ.\n"
      "apply  adds FILE's new signal types and attributes to the stored schema as\n"
      "       one migration (the next version; docs/schema.md). A file that changes\n"
      "       a stored declaration is refused, listing the changes: a declaration\n"
      "       cannot change once data depends on it.\n"
      "\n"
      "With --data the folder must not be open in another process; with --url URL\n"
      "[--key KEY] (or TIDAL_URL) the same is done to a running server over its\n"
      "HTTP API (apply: one POST /v1/schema/... per addition, an admin key).\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--url", "--key", "--help", "-h"})) return 2;
  const std::vector<std::string>& words = args.positional();
  const std::string action = words.empty() ? "" : words[0];
  const bool needs_file = action == "diff" || action == "apply";
  if (action != "show" && !needs_file) {
    std::fprintf(stderr, "tidal: say show, diff FILE or apply FILE (see --help)\n");
    return 2;
  }
  if (words.size() != (needs_file ? 2u : 1u)) {
    std::fprintf(stderr, "tidal: schema %s takes %s (see --help)\n", action.c_str(),
                 needs_file ? "one FILE" : "no file");
    return 2;
  }
  bool bad = false;
  std::optional<ServerTarget> target = server_target(args, &bad);
  if (bad) return 2;
  std::unique_ptr<HttpClient> http;
  std::optional<std::string> dir;
  Result<Schema> stored = Status::Internal(Subsystem::kCore, "no schema read");
  if (target) {
    http = connect_server(*target);
    if (!http) return 1;
    stored = server_schema(*http);
  } else {
    dir = data_dir(args);
    if (!dir) return 2;
    stored = Database::stored_schema(*dir);
  }
  if (!stored.ok()) {
    std::fprintf(stderr, "tidal: %s\n", stored.status().to_string().c_str());
    return 1;
  }
  if (action == "show") {
    std::fputs(schema_document_text(*stored).c_str(), stdout);
    return 0;
  }
  std::optional<SchemaFile> file = read_schema_file(words[1]);
  if (!file) return 2;
  Result<SchemaChanges> c = compare_schema(*stored, *file);
  if (!c.ok()) {
    std::fprintf(stderr, "tidal: %s: %s\n", file->path.c_str(), c.status().message().c_str());
    return 1;
  }
  const std::vector<std::string> added = c->added();
  const std::vector<std::string> changed = c->changed();
  if (action == "diff") {
    for (const std::string& a : added) std::printf("+ %s\n", a.c_str());
    for (const std::string& d : changed) std::printf("~ %s\n", d.c_str());
    for (const std::string& k : c->kept) {
      std::printf("  %s is not in the file (kept: nothing is removed)\n", k.c_str());
    }
    if (c->differences.empty()) std::printf("the file adds nothing and changes nothing\n");
    return c->differences.empty() ? 0 : 1;
  }
  if (!changed.empty()) {
    std::fprintf(stderr,
                 "tidal: %s changes %zu declaration%s of the stored schema (version %u); "
                 "nothing was applied:\n",
                 file->path.c_str(), changed.size(), changed.size() == 1 ? "" : "s",
                 stored->version());
    for (const std::string& d : changed) std::fprintf(stderr, "  ~ %s\n", d.c_str());
    return 1;
  }
  if (added.empty()) {
    std::printf("nothing to apply: the schema (version %u) already declares what %s adds\n",
                stored->version(), file->path.c_str());
    return 0;
  }
  if (http) return apply_over_http(*http, *stored, c->merged, added);
  DatabaseOptions options;
  options.allow_schema_additions = true;
  Result<std::unique_ptr<Database>> db = Database::open(*dir, c->merged, options);
  if (!db.ok()) {
    std::fprintf(stderr, "tidal: %s\n", db.status().to_string().c_str());
    return 1;
  }
  const uint32_t version = (*db)->schema().version();
  if (!close_database(**db)) return 1;
  std::printf("schema version %u -> %u:\n", stored->version(), version);
  for (const std::string& a : added) std::printf("  + %s\n", a.c_str());
  return 0;
}

}  // namespace tidal::cli
