// `tidal demo`, `tidal info`, `tidal check`.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <span>
#include <thread>

#include "cli_backend.h"
#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_serve.h"
#include "cli_usage.h"
#include "core/clock.h"
#include "core/coding.h"
#include "core/duration.h"
#include "db/present.h"
#include "schema/schema_catalog.h"
#include "tidal/database.h"

namespace tidal::cli {

namespace {

// How to run this binary again from the current directory: its path relative
// to it when it lies below it (./build/tidal), else absolute.
std::string this_program() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "tidal";
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (!ec) {
    const std::filesystem::path rel = exe.lexically_relative(cwd);
    if (!rel.empty() && *rel.begin() != "..") return (std::filesystem::path(".") / rel).string();
  }
  return exe.string();
}

constexpr const char* kDefaultDemoDir = "tidal-demo-data";

// A small, realistic-looking stream: `items` items whose popularity follows
// Zipf(1.1), users acting over the last two days with a daily rhythm, and three
// items that break out in the last hour.
std::vector<SignalEvent> demo_events(size_t count, size_t items, int64_t now_us) {
  constexpr int64_t kHour = 3600LL * 1000 * 1000;
  std::mt19937_64 rng(42);
  std::vector<double> cdf(items);
  double total = 0;
  for (size_t i = 0; i < items; ++i) cdf[i] = total += 1.0 / std::pow(double(i + 1), 1.1);
  auto pick_item = [&] {
    double u = std::uniform_real_distribution<double>(0, total)(rng);
    return static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
  };
  static const char* kSignals[] = {"view", "like", "skip", "share", "completion", "dwell_time"};
  std::discrete_distribution<int> mix({60, 12, 15, 3, 7, 3});
  std::lognormal_distribution<double> dwell(3.0, 1.0);
  std::vector<SignalEvent> out;
  out.reserve(count);
  for (size_t n = 0; n < count; ++n) {
    int64_t t;
    size_t item;
    if (n % 20 == 0) {
      // Breakouts: items 200, 300 and 400 take off in the last hour.
      item = 200 + 100 * (n / 20 % 3);
      t = now_us - std::uniform_int_distribution<int64_t>(0, kHour - 1)(rng);
    } else {
      item = pick_item();
      // A daily rhythm: accept an instant with probability following the hour.
      do {
        t = now_us - std::uniform_int_distribution<int64_t>(0, 48 * kHour - 1)(rng);
      } while (std::uniform_real_distribution<double>(0, 1)(rng) >
               0.55 + 0.45 * std::sin(double(t % (24 * kHour)) / double(24 * kHour) * 6.283));
    }
    SignalEvent e;
    char key[32];
    std::snprintf(key, sizeof(key), "video_%04zu", item);
    e.item = key;
    e.user = "user_" + std::to_string(std::uniform_int_distribution<int>(1, 5000)(rng));
    e.signal = kSignals[mix(rng)];
    e.timestamp = from_micros(t);
    if (e.signal == "dwell_time") e.value = std::round(dwell(rng));
    out.push_back(std::move(e));
  }
  return out;
}

// The catalog behind the stream: `items` videos with titles, categories,
// durations, languages, creators (a few prolific, most occasional) and an
// embedding (its category's direction plus noise, so that neighbours mostly
// share a category, as a content model's would), and `users` users with
// age, country, language and interests.
std::vector<EntityWrite> demo_catalog(size_t items, size_t users) {
  static const char* kCategories[] = {"music",   "gaming",  "news",   "comedy", "sports",
                                      "science", "cooking", "travel", "pets",   "fashion"};
  static const char* kLanguages[] = {"en", "es", "pt", "fr", "de", "ja"};
  static const char* kCountries[] = {"US", "BR", "GB", "MX", "FR", "DE", "JP", "IN"};
  static const char* kWords[] = {"Ultimate", "Tiny", "Midnight", "Secret", "Perfect", "Wild",
                                 "Golden",   "Lazy", "Electric", "Hidden", "Cozy",    "Epic"};
  static const char* kThings[] = {"Guitar Loop", "Speedrun", "Briefing",  "Sketch", "Highlights",
                                  "Experiment",  "Ramen",    "Road Trip", "Cat",    "Lookbook"};
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0, 1);
  std::vector<std::vector<float>> centers(10);
  for (auto& c : centers) {
    for (uint32_t d = 0; d < kDemoEmbeddingDim; ++d) c.push_back(normal(rng));
  }
  std::vector<EntityWrite> out;
  out.reserve(items + users);
  for (size_t i = 0; i < items; ++i) {
    char key[32], creator[32];
    std::snprintf(key, sizeof(key), "video_%04zu", i);
    // Zipf-like creators: creator_000 makes many videos, creator_199 few.
    auto c =
        static_cast<size_t>(200 * std::pow(std::uniform_real_distribution<double>(0, 1)(rng), 2));
    std::snprintf(creator, sizeof(creator), "creator_%03zu", c);
    size_t cat = (i * 7 + c) % 10;
    std::string title = std::string(kWords[rng() % 12]) + " " + kThings[cat];
    std::vector<float> embedding = centers[cat];
    for (float& x : embedding) x += 0.6f * normal(rng);
    out.push_back({EntityKind::kItem,
                   key,
                   {{"title", title},
                    {"category", kCategories[cat]},
                    {"duration", static_cast<int64_t>(15 + rng() % 900)},
                    {"language", kLanguages[rng() % 6]},
                    {"creator", creator},
                    {"embedding", std::move(embedding)}}});
  }
  for (size_t u = 1; u <= users; ++u) {
    std::vector<std::string> interests;
    for (int k = 0; k < 3; ++k) interests.emplace_back(kCategories[rng() % 10]);
    out.push_back({EntityKind::kUser,
                   "user_" + std::to_string(u),
                   {{"age", static_cast<int64_t>(13 + rng() % 60)},
                    {"country", kCountries[rng() % 8]},
                    {"language", kLanguages[rng() % 6]},
                    {"interests", std::move(interests)}}});
  }
  return out;
}

std::string attribute_text(const Entity& e, std::string_view name) {
  const AttributeValue* v = e.find(name);
  if (v == nullptr) return "-";
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  if (const auto* i = std::get_if<int64_t>(v)) return std::to_string(*i);
  return "?";
}

// Runs one TQL query and prints its rows with the item's title, category
// and creator.
void print_query(Database& db, const char* title, const std::string& tql) {
  Result<QueryResult> r = db.query(tql);
  std::printf("\n%s\n  %s\n", title, tql.c_str());
  if (!r.ok()) {
    std::printf("  %s\n", r.status().to_string().c_str());
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r->rows.size(); ++i) {
    const QueryRow& row = r->rows[i];
    char score[32];
    std::snprintf(score, sizeof(score), "%.3g", row.score);
    Result<Entity> e = db.get(EntityKind::kItem, row.key);
    std::string name = e.ok() ? attribute_text(*e, "title") : "-";
    std::string category = e.ok() ? attribute_text(*e, "category") : "-";
    std::string creator = e.ok() ? attribute_text(*e, "creator") : "-";
    rows.push_back({std::to_string(i + 1), row.key, name, category, creator, score});
  }
  print_table({"#", "item", "title", "category", "creator", "score"}, rows);
  if (r->explain) std::printf("%s", r->explain_text().c_str());
}

}  // namespace

int run_demo(const Args& args) {
  static const char* kUsage =
      "usage: tidal demo [--data DIR] [--events N] [--port N] [--no-serve]\n"
      "\n"
      "Creates a fresh database in DIR, ingests N generated signal events (views,\n"
      "likes, skips, shares, completions, dwell times over the last two days, with\n"
      "three items breaking out in the last hour) and prints what is trending.\n"
      "Then it serves the database over HTTP (as `tidal serve` does) and prints\n"
      "commands to try, until Ctrl-C or SIGTERM.\n"
      "An existing tidalDB data folder at DIR is replaced; any other folder is left\n"
      "alone and the demo refuses to run.\n"
      "\n"
      "  --data DIR   the data folder (default: ./tidal-demo-data)\n"
      "  --events N   events to ingest (default: 200000)\n"
      "  --port N     the HTTP port (default: 8080; 0 picks a free one)\n"
      "  --no-serve   close the database and exit instead of serving it\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--events", "--port", "--no-serve", "--help", "-h"})) {
    return 2;
  }
  bool serve = !args.has("--no-serve");
  long port = std::strtol(args.value("--port").value_or("8080").c_str(), nullptr, 10);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "tidal: --port must be between 0 and 65535\n");
    return 2;
  }
  // Before the database starts its threads: SIGTERM and SIGINT end the server.
  if (serve) block_shutdown_signals();
  std::string dir = args.value("--data").value_or(kDefaultDemoDir);
  long events = std::strtol(args.value("--events").value_or("200000").c_str(), nullptr, 10);
  if (events <= 0 || events > 10'000'000) {
    std::fprintf(stderr, "tidal: --events must be between 1 and 10000000\n");
    return 2;
  }
  std::error_code ec;
  if (std::filesystem::exists(dir + "/TIDAL", ec)) std::filesystem::remove_all(dir, ec);

  std::printf("tidalDB %s demo — data folder %s\n\n", kVersion,
              std::filesystem::absolute(dir).c_str());
  Result<std::unique_ptr<Database>> opened =
      Database::open(dir, demo_schema(/*with_embedding=*/true));
  if (!opened.ok()) {
    std::fprintf(stderr, "tidal: %s\n", opened.status().to_string().c_str());
    return 1;
  }
  std::unique_ptr<Database> owned = std::move(opened).value();
  Database& db = *owned;
  print_schema(db.schema());

  std::vector<EntityWrite> catalog = demo_catalog(2000, 5000);
  auto c0 = std::chrono::steady_clock::now();
  BatchIngestResult loaded = db.upsert(catalog);
  double catalog_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
  if (loaded.rejected > 0) {
    for (const Status& e : loaded.errors) {
      if (!e.ok()) std::fprintf(stderr, "tidal: %s\n", e.to_string().c_str());
    }
    return 1;
  }
  std::vector<RelationshipWrite> follows;
  for (int u = 1; u <= 5000; ++u) {
    // Every user follows a few creators.
    for (int k = 0; k < 3; ++k) {
      char creator[32];
      std::snprintf(creator, sizeof(creator), "creator_%03d", (u * 31 + k * 17) % 200);
      follows.push_back({.user = "user_" + std::to_string(u), .target = creator});
    }
  }
  BatchIngestResult followed = db.relate(follows);
  if (followed.rejected > 0) {
    std::fprintf(stderr, "tidal: %zu follows rejected\n", followed.rejected);
    return 1;
  }
  std::printf("\nUpserted 2000 items and 5000 users (one batch, %.2f s) and 15000 follows.\n",
              catalog_secs);

  std::vector<SignalEvent> stream =
      demo_events(static_cast<size_t>(events), 2000, to_micros(db.now()));
  constexpr size_t kBatch = 1000;
  std::atomic<size_t> next{0};
  std::atomic<size_t> rejected{0};
  auto t0 = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (size_t b; (b = next.fetch_add(kBatch)) < stream.size();) {
      size_t n = std::min(kBatch, stream.size() - b);
      BatchIngestResult r = db.ingest(std::span<const SignalEvent>(stream.data() + b, n));
      rejected.fetch_add(r.rejected);
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  DatabaseStats st = db.stats();
  std::printf(
      "\nIngested %zu events for %llu items from 2 threads in %.2f s (%.0f events/s, "
      "fsync durability); %zu rejected.\n",
      stream.size() - rejected.load(), static_cast<unsigned long long>(st.items), secs,
      double(stream.size()) / secs, rejected.load());

  print_query(
      db, "Trending now — views decayed with a 6h half-life:", "RANK items BY hot(view) LIMIT 10");
  print_query(db, "Rising in the last hour — shares this hour minus the hour before:",
              "RANK items BY rising(share, 1h) LIMIT 10");
  print_query(db, "Most liked in the last 24 hours:", "TRENDING items BY like WINDOW 24h LIMIT 10");
  print_query(db, "Best music — Wilson lower bound of likes against skips, two per creator:",
              "RANK items BY best WHERE category = 'music' DIVERSIFY BY creator MAX 2 LIMIT 10");
  print_query(db, "Search — BM25 over the titles (stemmed: 'cats' finds \"Cat\"):",
              "SEARCH items QUERY 'midnight cats' LIMIT 5");
  print_query(db, "Search blended with signals — relevance times how liked the video is now:",
              "SEARCH items QUERY 'cats' RANK BY bm25 * (1 + log1p(decay(like))) LIMIT 5");
  print_query(db, "Similar to video_0200 — nearest by embedding (cosine, HNSW index):",
              "SIMILAR items TO 'video_0200' USING embedding LIMIT 5");
  print_query(db, "Similar and popular now — similarity blended with decayed likes:",
              "SIMILAR items TO 'video_0200' USING embedding WHERE duration < 600 RANK BY "
              "similarity(embedding) * (1 + log1p(decay(like))) LIMIT 5");
  print_query(db, "Hybrid — the text ranking for 'cat' fused with the vector ranking:",
              "SIMILAR items TO 'video_0200' USING embedding QUERY 'cat' LIMIT 5");
  Result<QueryResult> created = db.query(
      "CREATE PROFILE engaging AS 0.5 * log1p(decay(like)) + 0.3 * rate(count(completion, 24h), "
      "count(view, 24h)) + 0.2 * freshness(6h)");
  std::printf("\n%s\n",
              created.ok() ? created->message.c_str() : created.status().to_string().c_str());
  print_query(db, "Ranked by that profile, with its plan:",
              "EXPLAIN RANK items BY engaging WHERE duration < 300 LIMIT 5");

  std::printf("\nFilters over the catalog:\n");
  std::vector<std::vector<std::string>> frows;
  auto count_row = [&](const char* text, const Filter& f) {
    Result<uint64_t> n = db.count(EntityKind::kItem, f);
    frows.push_back({text, n.ok() ? std::to_string(*n) : n.status().to_string()});
  };
  count_row("category = 'music'", Filter::eq("category", "music"));
  count_row("category = 'music' AND duration < 120",
            Filter::eq("category", "music") && Filter::lt("duration", int64_t{120}));
  count_row("language IN ('en', 'es') AND NOT category = 'news'",
            Filter::in("language", {"en", "es"}) && !Filter::eq("category", "news"));
  count_row("creator = 'creator_000'", Filter::eq("creator", "creator_000"));
  print_table({"filter", "items"}, frows);

  Result<std::vector<AffinityEntry>> aff = db.top_affinities("user_7", 5);
  if (aff.ok()) {
    std::printf("\nuser_7's strongest creator affinities (from their signals):\n");
    std::vector<std::vector<std::string>> arows;
    for (const AffinityEntry& a : *aff) {
      char w[32];
      std::snprintf(w, sizeof(w), "%.2f", a.weight);
      arows.push_back({a.creator, w});
    }
    print_table({"creator", "affinity"}, arows);
  }

  Result<ItemSignals> detail = db.item_signals("video_0200");
  if (detail.ok()) {
    std::printf("\nOne item up close — video_0200:\n");
    std::vector<std::vector<std::string>> rows;
    for (const SignalSnapshot& s : detail->signals) {
      const SignalTypeDefinition* def = db.schema().find_signal(s.signal);
      for (const WindowSignal& w : s.windows) {
        char decayed[32], vel[32] = "-", sum[32] = "-";
        std::snprintf(decayed, sizeof(decayed), "%.2f", s.decayed);
        if (def->velocity) std::snprintf(vel, sizeof(vel), "%+.0f", w.velocity);
        if (def->value_kind == ValueKind::kSum) std::snprintf(sum, sizeof(sum), "%.0f", w.sum);
        rows.push_back(
            {s.signal, decayed, format_duration(w.window), std::to_string(w.count), vel, sum});
      }
    }
    print_table({"signal", "decayed", "window", "count", "velocity", "sum"}, rows);
  }
  if (rejected.load() != 0) return 1;
  if (!serve) {
    Status closed = db.close();
    std::printf("\nCheckpointed and closed: %s.\n",
                closed.ok() ? "ok" : closed.to_string().c_str());
    const std::string self = this_program();
    std::printf("\nNext:\n  %s serve --data %s\n  %s shell --data %s\n", self.c_str(), dir.c_str(),
                self.c_str(), dir.c_str());
    return closed.ok() ? 0 : 1;
  }
  ServeSettings settings;
  settings.data_dir = dir;
  settings.http.port = static_cast<uint16_t>(port);
  return serve_until_signal(std::move(owned), std::move(settings), [&](uint16_t bound) {
    std::string url = "http://127.0.0.1:" + std::to_string(bound);
    std::printf(
        "\ntidal demo: listening on %s (loopback only, no API key needed). Try:\n\n"
        "  curl -s '%s/v1/query' -d '{\"tql\": \"RANK items BY hot LIMIT 5\"}'\n"
        "  curl -s -X POST '%s/v1/events' -d '{\"item\": \"video_0042\", \"user\": "
        "\"user_7\", \"signal\": \"like\"}'\n"
        "  curl -s '%s/v1/items/video_0042'\n\n"
        "Docs: docs/getting-started.md, docs/http-api.md. Ctrl-C checkpoints and stops.\n",
        url.c_str(), url.c_str(), url.c_str(), url.c_str());
  });
}

namespace {

// tidal info --url: the server's /health, its schema and its present.
int remote_info(const ServerTarget& target) {
  std::unique_ptr<HttpClient> http = connect_server(target);
  if (!http) return 1;
  std::string present;
  Result<std::vector<std::vector<std::string>>> health = server_health(*http, &present);
  Result<Schema> schema = server_schema(*http);
  if (!health.ok() || !schema.ok()) {
    std::fprintf(stderr, "tidal: %s\n",
                 (!health.ok() ? health.status() : schema.status()).message().c_str());
    return 1;
  }
  std::printf("Server %s\n\n", http->url().c_str());
  print_table({"health", "value"}, *health);
  std::printf("\n");
  print_schema(*schema);
  if (!present.empty()) std::printf("\nPresent: %s\n", present.c_str());
  return 0;
}

}  // namespace

int run_info(const Args& args) {
  static const char* kUsage =
      "usage: tidal info --data DIR\n"
      "       tidal info --url URL [--key KEY]\n"
      "\nShows a data folder's format, schema, WAL and storage; or a running server's\n"
      "health, schema and present (TIDAL_URL and TIDAL_KEY work too).\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--url", "--key", "--help", "-h"})) return 2;
  bool bad = false;
  std::optional<ServerTarget> target = server_target(args, &bad);
  if (bad) return 2;
  if (target) return remote_info(*target);
  std::optional<std::string> dir = data_dir(args);
  if (!dir) return 2;
  std::optional<OpenFolder> f = open_folder(*dir, /*create=*/false);
  if (!f) return 1;
  std::printf("Data folder %s (format %u)\n\n", f->folder->path().c_str(),
              f->folder->format_version());
  if (f->schema) {
    print_schema(*f->schema);
  } else {
    std::printf("No schema stored yet.\n");
  }
  print_wal(*f->wal);
  print_storage(*f->storage);
  Result<db::StoredPresent> stored = db::read_stored_present(*f->storage, *f->wal);
  if (!stored.ok()) {
    std::fprintf(stderr, "tidal: %s\n", stored.status().to_string().c_str());
    return 1;
  }
  Present p = db::make_present(*stored, to_micros(SystemClock::instance()->now()));
  std::printf("\nPresent: %s\n", describe_present(p).c_str());
  return 0;
}

int run_check(const Args& args) {
  static const char* kUsage =
      "usage: tidal check --data DIR\n"
      "\n"
      "Verifies a data folder: the WAL (every frame's checksum, sequence continuity;\n"
      "a torn tail is repaired and reported), the stored schema, and every key of\n"
      "every storage keyspace (RocksDB block checksums). Exit status 0 when intact,\n"
      "1 when something is damaged or cannot be read.\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--data", "--help", "-h"})) return 2;
  std::optional<std::string> dir = data_dir(args);
  if (!dir) return 2;
  std::optional<OpenFolder> f = open_folder(*dir, /*create=*/false);
  if (!f) return 1;  // open_folder printed why (damaged WAL, schema, lock, ...)
  int problems = 0;
  uint64_t records = 0;
  Status replay = f->wal->replay(f->wal->first_retained_sequence(), [&](const wal::FrameView&) {
    ++records;
    return Status::Ok();
  });
  std::printf("wal:     %llu records readable from sequence %llu; %s\n",
              static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(f->wal->first_retained_sequence()),
              replay.ok() ? "ok" : replay.to_string().c_str());
  if (!replay.ok()) ++problems;
  if (f->wal->recovery_report().torn_bytes > 0) {
    std::printf("wal:     repaired a torn tail (%llu bytes cut)\n",
                static_cast<unsigned long long>(f->wal->recovery_report().torn_bytes));
  }
  std::printf("schema:  %s\n", f->schema
                                   ? ("version " + std::to_string(f->schema->version())).c_str()
                                   : "none stored");
  for (Keyspace ks : kAllKeyspaces) {
    uint64_t keys = 0;
    auto it = f->storage->scan(ks, "", "");
    for (; it->valid(); it->next()) ++keys;
    Status st = it->status();
    std::printf("storage: %-8s %llu keys; %s\n", std::string(keyspace_name(ks)).c_str(),
                static_cast<unsigned long long>(keys), st.ok() ? "ok" : st.to_string().c_str());
    if (!st.ok()) ++problems;
  }
  std::printf("%s\n", problems == 0 ? "check: intact" : "check: DAMAGED");
  return problems == 0 ? 0 : 1;
}

}  // namespace tidal::cli
