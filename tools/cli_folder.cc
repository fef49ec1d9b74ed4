#include "cli_folder.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "cli_usage.h"
#include "core/duration.h"
#include "schema/schema_catalog.h"

namespace tidal::cli {

namespace {

// Why a folder did not open; a folder a server holds names --url.
void print_open_error(const Status& st) {
  std::fprintf(stderr, "tidal: %s\n", st.to_string().c_str());
  if (st.code() == StatusCode::kBusy) {
    std::fprintf(stderr,
                 "tidal: if a server has it open, talk to the server instead: --url "
                 "http://HOST:PORT [--key KEY] (docs/cli.md)\n");
  }
}

}  // namespace

std::optional<OpenFolder> open_folder(const std::string& path, bool create,
                                      wal::Durability durability) {
  OpenFolder f;
  DataFolderOptions opts;
  opts.create_if_missing = create;
  opts.read_only = !create;
  Result<std::unique_ptr<DataFolder>> folder = DataFolder::open(path, opts);
  if (!folder.ok()) {
    print_open_error(folder.status());
    return std::nullopt;
  }
  f.folder = std::move(folder).value();
  Result<std::unique_ptr<RocksDbEngine>> storage = f.folder->open_storage();
  if (!storage.ok()) {
    print_open_error(storage.status());
    return std::nullopt;
  }
  f.storage = std::move(storage).value();
  Result<std::optional<Schema>> schema = load_schema(*f.storage);
  if (!schema.ok()) {
    std::fprintf(stderr, "tidal: %s\n", schema.status().to_string().c_str());
    return std::nullopt;
  }
  f.schema = std::move(schema).value();
  wal::WalOptions wo;
  wo.dir = f.folder->wal_dir();
  wo.database_id = f.folder->database_id();
  wo.durability = durability;
  Result<std::unique_ptr<wal::Wal>> w = wal::Wal::open(wo);
  if (!w.ok()) {
    std::fprintf(stderr, "tidal: %s\n", w.status().to_string().c_str());
    return std::nullopt;
  }
  f.wal = std::move(w).value();
  return f;
}

std::optional<SchemaFile> read_schema_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "tidal: cannot read the schema file %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<server::SchemaDocument> doc = server::read_schema_document(text);
  Result<Schema> schema = doc.ok() ? server::schema_from_document(text) : doc.status();
  if (!schema.ok()) {
    std::fprintf(stderr, "tidal: %s: %s\nnothing was created or changed\n", path.c_str(),
                 schema.status().message().c_str());
    return std::nullopt;
  }
  return SchemaFile{.path = path, .document = std::move(*doc), .schema = std::move(*schema)};
}

std::optional<SchemaFile> schema_flag(const Args& args, bool* bad) {
  std::optional<std::string> path = flag_value(args, "--schema", bad);
  if (!path) return std::nullopt;
  std::optional<SchemaFile> file = read_schema_file(*path);
  if (!file) *bad = true;
  return file;
}

std::vector<std::string> SchemaChanges::changed() const {
  std::vector<std::string> out;
  for (const std::string& d : differences) {
    if (d.find("is in the given schema but not the stored one") == std::string::npos) {
      out.push_back(d);
    }
  }
  return out;
}

std::vector<std::string> SchemaChanges::added() const {
  std::vector<std::string> out;
  const std::string tail = " is in the given schema but not the stored one";
  for (const std::string& d : differences) {
    if (size_t at = d.find(tail); at != std::string::npos) out.push_back(d.substr(0, at));
  }
  return out;
}

Result<SchemaChanges> compare_schema(const Schema& stored, const SchemaFile& file) {
  SchemaChanges c;
  TIDAL_ASSIGN_OR_RETURN(c.merged, server::schema_over(stored, file.document, &c.kept));
  c.differences = stored.diff(c.merged);
  return c;
}

std::unique_ptr<Database> open_database(const std::string& dir, DatabaseOptions options,
                                        bool create, const SchemaFile* schema_file) {
  Result<Schema> stored = Database::stored_schema(dir);
  std::optional<Schema> schema;
  if (stored.ok()) {
    schema = std::move(stored).value();
    options.create_if_missing = false;
    if (schema_file != nullptr) {
      Result<SchemaChanges> c = compare_schema(*schema, *schema_file);
      if (!c.ok()) {
        std::fprintf(stderr, "tidal: %s\n", c.status().to_string().c_str());
        return nullptr;
      }
      if (!c->differences.empty()) {
        std::fprintf(stderr,
                     "tidal: %s already holds a database whose schema (version %u) differs "
                     "from %s:\n",
                     dir.c_str(), schema->version(), schema_file->path.c_str());
        for (const std::string& d : c->differences) std::fprintf(stderr, "  - %s\n", d.c_str());
        std::fprintf(stderr, "`tidal schema apply --data %s %s` adds what the file adds\n",
                     dir.c_str(), schema_file->path.c_str());
        return nullptr;
      }
    }
  } else if (stored.status().code() == StatusCode::kNotFound && create) {
    if (schema_file != nullptr) {
      std::fprintf(stderr, "tidal: %s holds no database yet: creating one with the schema of %s\n",
                   dir.c_str(), schema_file->path.c_str());
      schema = schema_file->schema;
    } else {
      std::fprintf(stderr,
                   "tidal: %s holds no database yet: creating one with the default schema "
                   "(`tidal schema show --data %s` prints it; --schema FILE gives your own)\n",
                   dir.c_str(), dir.c_str());
      schema = demo_schema();
    }
    options.create_if_missing = true;
  } else {
    print_open_error(stored.status());
    return nullptr;
  }
  Result<std::unique_ptr<Database>> db = Database::open(dir, *schema, options);
  if (!db.ok()) {
    print_open_error(db.status());
    return nullptr;
  }
  return std::move(db).value();
}

bool close_database(Database& db) {
  Status closed = db.close();
  if (closed.ok()) return true;
  std::fprintf(stderr, "tidal: %s\n", closed.to_string().c_str());
  return false;
}

Schema demo_schema(bool with_embedding) {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  auto attr = [](std::string name, AttributeType type, bool filterable, bool sortable) {
    AttributeSpec s;
    s.name = std::move(name);
    s.type = type;
    s.filterable = filterable;
    s.sortable = sortable;
    return s;
  };
  AttributeSpec title = attr("title", AttributeType::kText, false, false);
  title.text = TextOptions{.stemmer = "english", .stop_words = "english"};
  b.add_attribute(EntityKind::kItem, title);
  b.add_attribute(EntityKind::kItem, attr("category", AttributeType::kKeyword, true, true));
  b.add_attribute(EntityKind::kItem, attr("duration", AttributeType::kInt, true, true));
  b.add_attribute(EntityKind::kItem, attr("language", AttributeType::kKeyword, true, false));
  if (with_embedding) {
    AttributeSpec embedding = attr("embedding", AttributeType::kVector, false, false);
    embedding.vector_dim = kDemoEmbeddingDim;
    embedding.metric = VectorMetric::kCosine;
    b.add_attribute(EntityKind::kItem, embedding);
  }
  b.add_attribute(EntityKind::kUser, attr("age", AttributeType::kInt, true, true));
  b.add_attribute(EntityKind::kUser, attr("country", AttributeType::kKeyword, true, false));
  b.add_attribute(EntityKind::kUser, attr("language", AttributeType::kKeyword, true, false));
  b.add_attribute(EntityKind::kUser, attr("interests", AttributeType::kTags, true, false));
  b.add_attribute(EntityKind::kCreator, attr("name", AttributeType::kKeyword, true, true));
  // The demo schema is fixed and valid; a failure here is a bug.
  return b.build().value();
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = " ";
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      out += cell + std::string(width[i] - cell.size(), ' ');
      if (i + 1 < width.size()) out += " | ";
    }
    std::printf("%s\n", out.c_str());
  };
  line(header);
  std::string rule;
  for (size_t i = 0; i < width.size(); ++i) {
    rule += std::string(width[i] + 2, '-');
    if (i + 1 < width.size()) rule += "+";
  }
  std::printf("%s\n", rule.c_str());
  for (const auto& row : rows) line(row);
}

void print_schema(const Schema& schema) {
  std::printf("Schema version %u\n\nSignal types:\n", schema.version());
  std::vector<std::vector<std::string>> rows;
  for (const SignalTypeDefinition& s : schema.signals()) {
    std::string windows;
    for (Duration w : s.windows) windows += (windows.empty() ? "" : ", ") + format_duration(w);
    char rates[64];
    std::snprintf(rates, sizeof(rates), "%g / %+g", s.learning_rate, s.affinity_delta);
    rows.push_back({s.name, format_duration(s.half_life), windows.empty() ? "-" : windows,
                    s.velocity ? "yes" : "no", std::string(polarity_name(s.polarity)),
                    std::string(value_kind_name(s.value_kind)), rates});
  }
  print_table({"signal", "half-life", "windows", "velocity", "polarity", "value",
               "learning rate / affinity"},
              rows);
  for (EntityKind kind : kEntityKinds) {
    const auto& attrs = schema.attributes(kind);
    if (attrs.empty()) continue;
    std::printf("\n%s attributes:\n", std::string(entity_kind_name(kind)).c_str());
    rows.clear();
    for (const AttributeDefinition& a : attrs) {
      std::string type(attribute_type_name(a.type));
      if (a.type == AttributeType::kVector) {
        type += "(" + std::to_string(a.vector_dim) + ", " +
                std::string(vector_metric_name(a.metric)) + ")";
      }
      rows.push_back({a.name, type, a.filterable ? "yes" : "no", a.sortable ? "yes" : "no"});
    }
    print_table({"attribute", "type", "filterable", "sortable"}, rows);
  }
}

void print_wal(const wal::Wal& w) {
  wal::WalStats st = w.stats();
  const wal::RecoveryReport& r = w.recovery_report();
  std::printf("\nWAL (%s durability):\n",
              std::string(wal::durability_name(w.options().durability)).c_str());
  print_table({"segments", "first retained seq", "last seq", "checkpoint seq", "torn bytes cut"},
              {{std::to_string(st.segments), std::to_string(w.first_retained_sequence()),
                std::to_string(w.last_sequence()), std::to_string(w.checkpoint_sequence()),
                std::to_string(r.torn_bytes)}});
}

void print_storage(RocksDbEngine& storage) {
  std::printf("\nStorage (RocksDB):\n");
  std::vector<std::vector<std::string>> rows;
  for (Keyspace ks : kAllKeyspaces) {
    Result<uint64_t> n = storage.approximate_count(ks);
    rows.push_back({std::string(keyspace_name(ks)), n.ok() ? std::to_string(*n) : "?"});
  }
  print_table({"keyspace", "keys (approx.)"}, rows);
}

}  // namespace tidal::cli
