// The real `tidal serve` over loopback: ingest and query over HTTP, API key
// scopes, request limits and client errors, kill -9 with every acknowledged
// event kept, and a clean SIGTERM shutdown that finishes a request in flight.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "cli_runner.h"
#include "server_process.h"

namespace tidal::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& body) {
  simdjson::dom::element doc;
  auto err = p.parse(body).get(doc);
  EXPECT_EQ(err, simdjson::SUCCESS) << body;
  return doc;
}

// The count of `signal` in its `window` window for `item`, from GET signals.
int64_t window_count(uint16_t port, const std::string& item, const std::string& signal,
                     const std::string& window) {
  HttpReply r = http(port, "GET", "/v1/items/" + item + "/signals");
  if (r.status == 404) return 0;  // never seen
  if (r.status != 200) return -1;
  simdjson::dom::parser p;
  simdjson::dom::element doc = parse(p, r.body);
  for (simdjson::dom::element s : doc["signals"].get_array()) {
    if (std::string_view(s["signal"].get_string().value()) != signal) continue;
    for (simdjson::dom::element w : s["windows"].get_array()) {
      if (std::string_view(w["window"].get_string().value()) == window) {
        return w["count"].get_int64().value();
      }
    }
  }
  return 0;
}

// The error code of a 4xx body, checking the shape {"error": {"code", "message"}}.
std::string error_code(const HttpReply& r) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(r.body).get(doc) != simdjson::SUCCESS) return "(not JSON: " + r.body + ")";
  std::string_view code, message;
  if (doc["error"]["code"].get_string().get(code) != simdjson::SUCCESS ||
      doc["error"]["message"].get_string().get(message) != simdjson::SUCCESS) {
    return "(no error.code/message: " + r.body + ")";
  }
  return std::string(code);
}

std::string error_field(const HttpReply& r) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::string_view field;
  if (p.parse(r.body).get(doc) != simdjson::SUCCESS ||
      doc["error"]["field"].get_string().get(field) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(field);
}

TEST(Server, IngestsOverHttpAndAnswersQueries) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
  EXPECT_NE(server.output().find("no API keys configured"), std::string::npos);
  uint16_t port = server.port();

  EXPECT_EQ(http(port, "GET", "/health").status, 200);
  HttpReply head = http(port, "HEAD", "/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "") << "a HEAD answer has no body";
  HttpReply put = http(port, "PUT", "/v1/items/video_1",
                       R"({"attributes": {"title": "Cats", "category": "music", "duration": 95}})");
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_EQ(
      http(port, "PUT", "/v1/items/video_2", R"({"attributes": {"category": "news"}})").status,
      200);
  HttpReply got = http(port, "GET", "/v1/items/video_1");
  ASSERT_EQ(got.status, 200);
  EXPECT_NE(got.body.find(R"("title":"Cats")"), std::string::npos) << got.body;
  EXPECT_NE(got.body.find(R"("duration":95)"), std::string::npos) << got.body;

  std::string batch = R"({"events": [)";
  for (int i = 0; i < 30; ++i) {
    if (i > 0) batch += ',';
    batch += R"({"item": "video_1", "signal": "view", "user": "u)" + std::to_string(i) + "\"}";
  }
  for (int i = 0; i < 10; ++i) {
    batch += R"(,{"item": "video_2", "signal": "view", "user": "v)" + std::to_string(i) + "\"}";
  }
  batch += "]}";
  HttpReply ingested = http(port, "POST", "/v1/events/batch", batch);
  ASSERT_EQ(ingested.status, 200) << ingested.body;
  EXPECT_NE(ingested.body.find(R"("accepted":40)"), std::string::npos) << ingested.body;
  EXPECT_EQ(window_count(port, "video_1", "view", "1h"), 30);

  HttpReply q = http(port, "POST", "/v1/query", R"({"tql": "RANK items BY most_viewed LIMIT 2"})");
  ASSERT_EQ(q.status, 200) << q.body;
  simdjson::dom::parser p;
  simdjson::dom::element doc = parse(p, q.body);
  simdjson::dom::array rows = doc["rows"].get_array();
  ASSERT_EQ(rows.size(), 2u) << q.body;
  EXPECT_EQ(std::string_view(rows.at(0)["key"].get_string().value()), "video_1");
  EXPECT_EQ(rows.at(0)["score"].get_double().value(), 30.0);

  // The same query as GET, filtered, and the JSON form.
  HttpReply filtered =
      http(port, "GET", "/v1/query?q=RANK+items+BY+most_viewed+WHERE+category+%3D+%27news%27");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_NE(filtered.body.find("video_2"), std::string::npos);
  EXPECT_EQ(filtered.body.find("video_1"), std::string::npos) << filtered.body;
  HttpReply json_form = http(port, "POST", "/v1/query",
                             R"({"query": {"statement": "rank", "target": "items",
                                 "rank_by": {"ident": "most_viewed"}, "limit": 1}})");
  ASSERT_EQ(json_form.status, 200) << json_form.body;
  EXPECT_NE(json_form.body.find("video_1"), std::string::npos) << json_form.body;

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
}

// FEED FOR USER over HTTP: every signal updates the user at once, seen items
// are left out unless include_seen, record_served keeps a feed from repeating
// itself, and the user state survives kill -9 (it is rebuilt from the WAL)
// and a clean restart (from the checkpoint).
TEST(Server, FeedsLearnFromEverySignalAndSurviveKillNine) {
  TempDir dir;
  auto feed_keys = [](uint16_t port, const std::string& extra) {
    HttpReply r =
        http(port, "POST", "/v1/query", R"({"tql": "FEED FOR USER 'me' LIMIT 3")" + extra + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> keys;
    simdjson::dom::parser p;
    for (simdjson::dom::element row : parse(p, r.body)["rows"].get_array()) {
      keys.emplace_back(row["key"].get_string().value());
    }
    return keys;
  };
  std::vector<std::string> before;
  {
    ServerProcess server;
    ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
    const uint16_t port = server.port();
    // Users who liked "piano" also liked "violin"; "drums" is merely popular.
    std::string batch = R"({"events": [)";
    for (int i = 0; i < 5; ++i) {
      const std::string u = "u" + std::to_string(i);
      batch += std::string(i ? "," : "") + R"({"item": "piano", "signal": "like", "user": ")" + u +
               R"("}, {"item": "violin", "signal": "like", "user": ")" + u + R"("})";
    }
    for (int i = 0; i < 20; ++i) {
      batch += R"(, {"item": "drums", "signal": "view", "user": "d)" + std::to_string(i) + "\"}";
    }
    batch += "]}";
    ASSERT_EQ(http(port, "POST", "/v1/events/batch", batch).status, 200);
    // A new user gets the cold-start feed: the most popular first.
    EXPECT_EQ(feed_keys(port, "").at(0), "drums");
    // One like, and the next feed reflects it.
    ASSERT_EQ(
        http(port, "POST", "/v1/events", R"({"item": "piano", "signal": "like", "user": "me"})")
            .status,
        200);
    before = feed_keys(port, "");
    ASSERT_FALSE(before.empty());
    EXPECT_EQ(before[0], "violin");
    EXPECT_EQ(std::count(before.begin(), before.end(), "piano"), 0);
    std::vector<std::string> with_seen = feed_keys(port, R"(, "include_seen": true)");
    EXPECT_EQ(std::count(with_seen.begin(), with_seen.end(), "piano"), 1);
    // Record what this feed served: the next feeds leave it out for an hour.
    EXPECT_EQ(feed_keys(port, R"(, "record_served": true)"), before);
    server.signal(SIGKILL);
    server.wait(10s);
  }
  for (int round = 0; round < 2; ++round) {  // replayed after kill -9, then from a checkpoint
    ServerProcess server;
    ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
    // The likes and the served record came back from the WAL (round 0) and
    // from the checkpoint (round 1): none of what was served is shown again.
    for (const std::string& key : feed_keys(server.port(), "")) {
      EXPECT_EQ(std::count(before.begin(), before.end(), key), 0) << key << ", round " << round;
    }
    EXPECT_EQ(feed_keys(server.port(), R"(, "include_seen": true)").size(), 1u)
        << "only piano (seen) is not served; round " << round;
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(30s), 0) << server.output();
  }
}

// GET /v1/{kind} pages through the entities a WHERE keeps, and COUNT over
// HTTP agrees with the number of rows the pages hold (issue 24, item 4).
TEST(Server, ListsEntitiesWithAFilterAndCursorAndCountsThem) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
  uint16_t port = server.port();
  std::string batch = R"({"items": [)";
  for (int i = 0; i < 45; ++i) {
    if (i > 0) batch += ',';
    batch += R"({"key": "v)" + std::to_string(i) + R"(", "attributes": {"category": ")" +
             (i % 3 == 0 ? "music" : "news") + R"(", "duration": )" + std::to_string(i) + "}}";
  }
  batch += "]}";
  ASSERT_EQ(http(port, "POST", "/v1/items/batch", batch).status, 200);

  const std::string where = "category%20%3D%20%27music%27%20AND%20duration%20%3E%3D%206";
  std::vector<std::string> listed;
  std::string cursor;
  simdjson::dom::parser p;
  for (int page = 0; page < 20; ++page) {
    HttpReply r =
        http(port, "GET",
             "/v1/items?limit=4&where=" + where + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::element doc = parse(p, r.body);
    simdjson::dom::array items = doc["items"].get_array();
    EXPECT_LE(items.size(), 4u);
    for (simdjson::dom::element e : items) {
      listed.emplace_back(e["key"].get_string().value());
      EXPECT_EQ(std::string_view(e["attributes"]["category"].get_string().value()), "music");
    }
    std::string_view next;
    if (doc["cursor"].get_string().get(next) != simdjson::SUCCESS) break;
    cursor = std::string(next);
  }
  std::vector<std::string> want;
  for (int i = 6; i < 45; i += 3) want.push_back("v" + std::to_string(i));
  EXPECT_EQ(listed, want);

  HttpReply count = http(port, "GET", "/v1/query?q=COUNT%20items%20WHERE%20" + where);
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(parse(p, count.body)["count"].get_uint64().value(), want.size()) << count.body;

  HttpReply bad = http(port, "GET", "/v1/items?where=category%20%3D");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(error_field(bad), "where");
  HttpReply unknown = http(port, "GET", "/v1/users?where=colour%20%3D%20%27red%27");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  HttpReply too_many = http(port, "GET", "/v1/creators?limit=10001");
  EXPECT_EQ(error_field(too_many), "limit");
  EXPECT_EQ(http(port, "GET", "/v1/users").body, "{\"users\":[]}\n");

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
}

// Runs `tidal shell` on a pseudo-terminal (so it is interactive: readline,
// prompts), types `lines` one at a time after each prompt, and returns
// everything the terminal showed.
std::string run_shell_on_pty(const std::vector<std::string>& args,
                             const std::vector<std::string>& lines) {
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return "(forkpty failed)";
  if (pid == 0) {
    std::vector<std::string> argv = {(binary_dir() / "tidal").string(), "shell"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c;
    for (std::string& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    ::setenv("TIDAL_HISTORY", "/dev/null", 1);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  std::string seen;
  size_t next = 0;
  size_t prompts = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      char buf[4096];
      ssize_t n = ::read(master, buf, sizeof(buf));
      if (n <= 0) break;  // the shell exited
      seen.append(buf, static_cast<size_t>(n));
    }
    // Type the next line once a new prompt shows.
    size_t count = 0;
    for (size_t at = seen.find("tidal> "); at != std::string::npos;
         at = seen.find("tidal> ", at + 1)) {
      ++count;
    }
    if (count > prompts && next < lines.size()) {
      prompts = count;
      std::string line = lines[next++] + "\r";
      if (::write(master, line.data(), line.size()) < 0) break;
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return seen;
}

// --url: query, shell (on a terminal), import and info talk to a running
// server and print what they print on a folder; a server that is down, or a
// key it refuses, is one line and exit status 1 (issue 24, item 1).
TEST(Server, TheCliTalksToARunningServerWithUrl) {
  TempDir dir;
  std::string keys = dir.sub("keys.txt");
  CliRun made = run_tidal({"key", "--scope", "write", "--file", keys});
  ASSERT_EQ(made.status, 0) << made.output;
  const size_t at = made.output.find("key:  ");
  const std::string write_key = made.output.substr(at + 6, made.output.find('\n', at) - at - 6);
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0", "--keys", keys}))
      << server.output();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  write_file(dir.sub("items.csv"), kItemsCsv);
  write_file(dir.sub("events.ndjson"), kEventsNdjson);
  CliRun items = run_tidal({"import", "--url", url, "--key", write_key, dir.sub("items.csv")});
  EXPECT_EQ(items.status, 1) << items.output;  // two bad rows, as on a folder
  EXPECT_THAT(items.output, HasSubstr("accepted:   4"));
  EXPECT_THAT(items.output, HasSubstr("items.csv:4: duration"));
  // A batch the server rejects whole (400) still reports line by line.
  const std::string long_key(300, 'k');  // longer than a key may be: the server says so
  write_file(dir.sub("bad_items.csv"), "key,duration\n" + long_key + "1,5\n" + long_key + "2,6\n");
  CliRun bad = run_tidal(
      {"import", "--url", url, "--key", write_key, "--kind", "items", dir.sub("bad_items.csv")});
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.output, HasSubstr("rejected:   2"));
  EXPECT_THAT(bad.output, HasSubstr("bad_items.csv:2: key"));
  EXPECT_THAT(bad.output, HasSubstr("bad_items.csv:3: key"));
  CliRun events = run_tidal({"import", dir.sub("events.ndjson")}, "",
                            {"TIDAL_URL=" + url, "TIDAL_KEY=" + write_key});
  EXPECT_THAT(events.output, HasSubstr("duplicates: 1"));
  EXPECT_THAT(events.output, HasSubstr("events.ndjson:6: colour: unknown field"));

  CliRun q =
      run_tidal({"query", "--url", url, "--key", write_key, "RANK items BY hot(view) LIMIT 2"});
  ASSERT_EQ(q.status, 0) << q.output;
  EXPECT_THAT(q.output, HasSubstr("| title"));
  EXPECT_THAT(q.output, HasSubstr("studio_a"));  // attribute cells come from the server
  EXPECT_LT(q.output.find("video_1"), q.output.find("video_2"));
  CliRun count = run_tidal({"query", "--url", url, "--key", write_key, "COUNT items"});
  EXPECT_EQ(count.output, "4\n");
  CliRun syntax = run_tidal({"query", "--url", url, "--key", write_key, "RANK items BY"});
  EXPECT_EQ(syntax.status, 1);
  EXPECT_THAT(syntax.output, HasSubstr("line 1, column"));

  std::string terminal =
      run_shell_on_pty({"--url", url, "--key", write_key},
                       {"COUNT items WHERE category = 'pets';", "\\stats", "exit"});
  EXPECT_THAT(terminal, HasSubstr("shell on " + url));
  EXPECT_THAT(terminal, HasSubstr("\r1\r\ncounted in"));  // one pets item among the four
  EXPECT_THAT(terminal, HasSubstr("last_sequence"));

  CliRun info = run_tidal({"info", "--url", url, "--key", write_key});
  EXPECT_EQ(info.status, 0) << info.output;
  EXPECT_THAT(info.output, HasSubstr("Schema version 1"));

  // Refused key, no key, nobody listening: one line each, status 1.
  CliRun wrong = run_tidal({"query", "--url", url, "--key", "not-a-key", "COUNT items"});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_THAT(wrong.output, HasSubstr("refused the request"));
  EXPECT_EQ(std::count(wrong.output.begin(), wrong.output.end(), '\n'), 1) << wrong.output;
  CliRun none = run_tidal({"shell", "--url", url}, "COUNT items;\n");
  EXPECT_EQ(none.status, 1);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
  CliRun down = run_tidal({"query", "--url", url, "COUNT items"});
  EXPECT_EQ(down.status, 1);
  EXPECT_THAT(down.output, HasSubstr("cannot reach the server at " + url));
  EXPECT_EQ(std::count(down.output.begin(), down.output.end(), '\n'), 1) << down.output;
  CliRun both = run_tidal({"query", "--url", url, "--data", dir.sub("db"), "COUNT items"});
  EXPECT_EQ(both.status, 2);
}

// tidal schema diff|apply --url: a running server's schema compared with a
// file and migrated through POST /v1/schema/*, one addition at a time.
TEST(Server, SchemaApplyWithUrlMigratesARunningServer) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  write_file(dir.sub("more.json"), R"({
    "signals": [{"name": "save", "half_life": "1d", "windows": ["1d"], "affinity_delta": 2}],
    "attributes": {"item": [{"name": "genres", "type": "tags", "filterable": true},
                            {"name": "summary", "type": "text", "stemmer": "english"}],
                   "user": [{"name": "occupation", "type": "keyword", "filterable": true}]}})");
  CliRun diff = run_tidal({"schema", "diff", "--url", url, dir.sub("more.json")});
  EXPECT_EQ(diff.status, 1) << diff.output;
  EXPECT_THAT(diff.output, HasSubstr("+ user attribute \"occupation\""));
  CliRun apply = run_tidal({"schema", "apply", "--url", url, dir.sub("more.json")});
  ASSERT_EQ(apply.status, 0) << apply.output;
  EXPECT_THAT(apply.output, HasSubstr("schema version 1 -> 5"));
  HttpReply schema = http(server.port(), "GET", "/v1/schema");
  EXPECT_THAT(schema.body, HasSubstr(R"("version":5)"));
  EXPECT_THAT(schema.body, HasSubstr(R"({"name":"save","half_life":"1d")"));
  EXPECT_THAT(schema.body, HasSubstr(R"("name":"summary","type":"text","filterable":false,)"
                                     R"("sortable":false,"stemmer":"english")"));
  EXPECT_EQ(run_tidal({"schema", "diff", "--url", url, dir.sub("more.json")}).status, 0);
  // The server takes the new attribute at once.
  EXPECT_EQ(
      http(server.port(), "PUT", "/v1/items/a", R"({"attributes": {"genres": ["jazz"]}})").status,
      200);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
}

// `serve --historical` takes old events over HTTP and answers at their time;
// the flag is remembered by the folder, not needed again.
TEST(Server, HistoricalServeTakesOldEventsAndRemembersIt) {
  TempDir dir;
  const std::string old_event =
      R"({"item": "a", "signal": "view", "user": "u1", "timestamp": "2018-09-24T10:00:00Z"})";
  {
    ServerProcess server;
    ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0", "--historical"}))
        << server.output();
    EXPECT_NE(server.output().find("present: historical"), std::string::npos) << server.output();
    HttpReply r = http(server.port(), "POST", "/v1/events", old_event);
    EXPECT_EQ(r.status, 200) << r.body;
    HttpReply present = http(server.port(), "GET", "/v1/present");
    EXPECT_NE(present.body.find(R"("now":"2018-09-24T10:00:00.000000Z")"), std::string::npos)
        << present.body;
    server.signal(SIGTERM);
    ASSERT_EQ(server.wait(std::chrono::seconds(30)), 0) << server.output();
  }
  ServerProcess again;
  ASSERT_TRUE(again.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << again.output();
  HttpReply health = http(again.port(), "GET", "/health");
  EXPECT_NE(health.body.find(R"("mode":"historical")"), std::string::npos) << health.body;
  HttpReply q =
      http(again.port(), "POST", "/v1/query", R"({"tql": "RANK items BY top(view, 1h) LIMIT 1"})");
  EXPECT_NE(q.body.find(R"("score":1)"), std::string::npos) << q.body;
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(std::chrono::seconds(30)), 0) << again.output();
}

TEST(Server, ApiKeyScopesAreEnforced) {
  TempDir dir;
  std::string keys = dir.sub("keys.txt");
  auto make_key = [&](const char* scope) {
    CliRun r = run_tidal({"key", "--scope", scope, "--file", keys});
    EXPECT_EQ(r.status, 0) << r.output;
    size_t at = r.output.find("key:  ");
    return r.output.substr(at + 6, r.output.find('\n', at) - at - 6);
  };
  std::string search = make_key("search");
  std::string write = make_key("write");
  std::ifstream in(keys);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file.find(search), std::string::npos) << "the keys file must hold hashes only";
  EXPECT_NE(file.find("search blake3:"), std::string::npos) << file;

  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0", "--keys", keys},
                           {"TIDAL_API_KEYS=admin:the-admin-key"}))
      << server.output();
  EXPECT_NE(server.output().find("3 API key(s) configured"), std::string::npos) << server.output();
  uint16_t port = server.port();
  const std::string event = R"({"item": "a", "signal": "view"})";
  auto auth = [](const std::string& key) {
    return std::vector<std::string>{"Authorization: Bearer " + key};
  };

  HttpReply none = http(port, "POST", "/v1/events", event);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(error_code(none), "unauthenticated");
  EXPECT_EQ(http(port, "POST", "/v1/events", event, auth("not-a-key")).status, 401);
  EXPECT_EQ(http(port, "GET", "/health").status, 200) << "health needs no key";

  // search: reads only.
  HttpReply denied = http(port, "POST", "/v1/events", event, auth(search));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "permission_denied");
  EXPECT_EQ(http(port, "PUT", "/v1/items/a", R"({"attributes": {}})", auth(search)).status, 403);
  EXPECT_EQ(http(port, "GET", "/v1/query?q=RANK+items+BY+hot", {}, auth(search)).status, 200);
  EXPECT_EQ(http(port, "GET", "/metrics", {}, auth(search)).status, 200);
  EXPECT_EQ(http(port, "GET", "/metrics").status, 401);

  // write: ingest yes, admin no (also through X-API-Key).
  EXPECT_EQ(http(port, "POST", "/v1/events", event, {"X-API-Key: " + write}).status, 200);
  EXPECT_EQ(http(port, "POST", "/v1/checkpoint", "", auth(write)).status, 403);
  HttpReply create = http(port, "POST", "/v1/query",
                          R"j({"tql": "CREATE PROFILE p AS decay(view)"})j", auth(write));
  EXPECT_EQ(create.status, 403) << create.body;
  // The parsed statement decides whether it writes, not its spelling: an
  // escape in the JSON form does not hide a CREATE.
  HttpReply escaped = http(
      port, "POST", "/v1/query",
      R"j({"query": {"statement": "\u0063reate_profile", "name": "q", "definition": {"ident": "hot"}}})j",
      auth(write));
  EXPECT_EQ(escaped.status, 403) << escaped.body;

  // admin (from the environment): everything.
  EXPECT_EQ(http(port, "POST", "/v1/checkpoint", "", auth("the-admin-key")).status, 200);
  EXPECT_EQ(http(port, "PUT", "/v1/profiles/p", R"j({"expression": "decay(view)"})j",
                 auth("the-admin-key"))
                .status,
            200);
  EXPECT_EQ(http(port, "GET", "/v1/profiles/p", {}, auth(search)).status, 200);

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
}

TEST(Server, RefusesAPublicAddressWithoutKeys) {
  TempDir dir;
  CliRun r = run_tidal({"serve", "--data", dir.sub("db"), "--bind", "0.0.0.0", "--port", "0"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("without API keys"), std::string::npos) << r.output;
}

TEST(Server, ClientErrorsAre4xxWithAJsonErrorNamingTheField) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0", "--max-body", "4KiB"}))
      << server.output();
  uint16_t port = server.port();
  struct Case {
    std::string method, target, body;
    int status;
    std::string code, field;
  };
  std::vector<Case> cases = {
      {"POST", "/v1/events", "{bad json", 400, "invalid_argument", "body"},
      {"POST", "/v1/events", R"({"item": "a", "signal": "view", "colour": 1})", 400,
       "invalid_argument", "colour"},
      {"POST", "/v1/events", R"({"item": 7, "signal": "view"})", 400, "invalid_argument", "item"},
      {"POST", "/v1/events", R"({"signal": "view"})", 400, "invalid_argument", "item"},
      {"POST", "/v1/events", R"({"item": "a", "signal": "nope"})", 400, "invalid_argument",
       "signal"},
      {"POST", "/v1/events", R"({"item": "a", "signal": "view", "timestamp": "yesterday"})", 400,
       "invalid_argument", "timestamp"},
      {"PUT", "/v1/items/a", R"({"attributes": {"duration": "long"}})", 400, "invalid_argument",
       "attributes.duration"},
      {"PUT", "/v1/items/a", R"({"attributes": {"shoe_size": 3}})", 400, "invalid_argument", ""},
      {"POST", "/v1/events/batch", R"({"events": {}})", 400, "invalid_argument", "events"},
      // The batch's error is the invalid event's, not a skipped valid one's.
      {"POST", "/v1/events/batch",
       R"({"mode": "all_or_nothing", "events": [{"item": "a", "signal": "view"},
                                                 {"item": "a", "signal": "nope"}]})",
       400, "invalid_argument", "signal"},
      {"POST", "/v1/query", R"({"tql": "RANK items BY"})", 400, "invalid_argument", ""},
      {"POST", "/v1/query", R"({"tql": "SIMILAR items TO 'cats' USING embedding"})", 400,
       "invalid_argument", "using"},
      {"POST", "/v1/query", R"({"tql": "SEARCH items QUERY 'x' WITHIN TRENDING WINDOW 1h"})", 400,
       "not_supported", ""},
      {"POST", "/v1/query", R"({"tql": "FEED FOR USER 'u' PROFILE nope"})", 404, "not_found",
       "profile"},
      {"POST", "/v1/query", R"({"tql": "FEED FOR USER 'u'", "include_seen": 1})", 400,
       "invalid_argument", "include_seen"},
      {"GET", "/v1/items/never-written", "", 404, "not_found", ""},
      {"GET", "/v1/nowhere", "", 404, "not_found", ""},
      {"GET", "/v2/items/a", "", 404, "not_found", ""},
      {"DELETE", "/v1/query", "", 405, "method_not_allowed", ""},
      {"POST", "/v1/events", std::string(5000, ' '), 413, "resource_exhausted", "body"},
      {"GET", "/v1/users/u/followers?limit=0", "", 400, "invalid_argument", "limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body.substr(0, 80));
    HttpReply r = http(port, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(error_code(r), c.code) << r.body;
    if (!c.field.empty()) {
      EXPECT_EQ(error_field(r), c.field) << r.body;
    }
  }
  // Not HTTP at all, and a header block past 64 KiB.
  EXPECT_EQ(http_raw(port, "HELLO\r\n\r\n").status, 400);
  HttpReply big_header = http(port, "GET", "/health", "", {"X-Big: " + std::string(70000, 'x')});
  EXPECT_EQ(big_header.status, 413);
  // Nothing above crashed the server or left anything half-written.
  EXPECT_EQ(http(port, "GET", "/health").status, 200);
  EXPECT_EQ(http(port, "GET", "/v1/items/a").status, 404);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0) << server.output();
}

TEST(Server, KillNineKeepsEveryAcknowledgedEvent) {
  TempDir dir;
  int64_t acknowledged = 0;
  for (int round = 0; round < 3; ++round) {
    ServerProcess server;
    ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
    uint16_t port = server.port();
    int64_t present = window_count(port, "k9", "view", "1d");
    EXPECT_GE(present, acknowledged) << "round " << round << ": acknowledged events were lost";
    acknowledged = std::max(acknowledged, present);

    std::atomic<bool> stop{false};
    std::atomic<int64_t> acked{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; ++t) {
      writers.emplace_back([&, t] {
        for (int b = 0; !stop.load(); ++b) {
          std::string body = R"({"events": [)";
          for (int i = 0; i < 20; ++i) {
            if (i > 0) body += ',';
            body += R"({"item": "k9", "signal": "view", "idempotency_key": ")" +
                    std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(b) +
                    "-" + std::to_string(i) + "\"}";
          }
          body += "]}";
          HttpReply r = http(port, "POST", "/v1/events/batch", body);
          if (r.status == 200 && r.body.find(R"("accepted":20,)") != std::string::npos) {
            acked.fetch_add(20);
          }
        }
      });
    }
    std::this_thread::sleep_for(300ms + round * 200ms);
    server.signal(SIGKILL);
    std::this_thread::sleep_for(50ms);
    stop.store(true);
    for (std::thread& w : writers) w.join();
    server.wait(10s);
    ASSERT_GT(acked.load(), 0) << server.output();
    acknowledged += acked.load();
  }
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
  EXPECT_GE(window_count(server.port(), "k9", "view", "1d"), acknowledged);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(30s), 0);
}

TEST(Server, SigtermFinishesTheRequestInFlightThenCheckpoints) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << server.output();
  uint16_t port = server.port();
  // A bulk request big enough to be in flight when SIGTERM arrives.
  constexpr int kEvents = 150000;
  std::string ndjson;
  for (int i = 0; i < kEvents; ++i) {
    ndjson += R"({"item": "s)" + std::to_string(i % 500) + R"(", "signal": "view", "user": "u)" +
              std::to_string(i) + "\"}\n";
  }
  HttpReply reply;
  std::thread client([&] { reply = http(port, "POST", "/v1/events/bulk", ndjson); });
  // Wait until the server is working on it: its body has arrived and the
  // handler runs (this /metrics request is the other one in flight). Under
  // ASan on a loaded machine receiving the 10 MB body alone can take
  // seconds; a SIGTERM before the request is in flight tests nothing.
  bool in_flight = false;
  for (int i = 0; i < 6000 && !in_flight; ++i) {
    std::this_thread::sleep_for(5ms);
    HttpReply m = http(port, "GET", "/metrics");
    in_flight = m.body.find("tidal_http_requests_in_flight 2") != std::string::npos;
  }
  server.signal(SIGTERM);
  client.join();
  ASSERT_TRUE(in_flight) << "the bulk request never reached its handler";
  EXPECT_EQ(reply.status, 200) << reply.body.substr(0, 500);
  EXPECT_NE(reply.body.find("\"accepted\":" + std::to_string(kEvents)), std::string::npos)
      << reply.body.substr(0, 500);
  EXPECT_EQ(server.wait(60s), 0) << server.output();
  EXPECT_NE(server.output().find("checkpointed and closed"), std::string::npos) << server.output();
  // After a clean shutdown the WAL holds nothing to replay, and the events are there.
  ServerProcess again;
  ASSERT_TRUE(again.start({"serve", "--data", dir.sub("db"), "--port", "0"})) << again.output();
  HttpReply health = http(again.port(), "GET", "/health");
  simdjson::dom::parser p;
  simdjson::dom::element doc = parse(p, health.body);
  EXPECT_EQ(doc["last_sequence"].get_uint64().value(),
            doc["checkpoint_sequence"].get_uint64().value())
      << health.body;
  EXPECT_EQ(window_count(again.port(), "s7", "view", "1h"), kEvents / 500);
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(30s), 0);
}

TEST(Server, DemoServesItsDatabase) {
  TempDir dir;
  ServerProcess demo;
  ASSERT_TRUE(demo.start({"demo", "--data", dir.sub("demo"), "--port", "0", "--events", "20000"}))
      << demo.output();
  EXPECT_NE(demo.output().find("curl -s"), std::string::npos) << demo.output();
  HttpReply q = http(demo.port(), "POST", "/v1/query", R"({"tql": "RANK items BY hot LIMIT 5"})");
  EXPECT_EQ(q.status, 200) << q.body;
  EXPECT_NE(q.body.find("video_"), std::string::npos) << q.body;
  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(30s), 0) << demo.output();
}

}  // namespace
}  // namespace tidal::testing
