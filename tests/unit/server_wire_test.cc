// Regressions found by fuzz/api_fuzz.cc: requests through server::Api whose
// responses broke the API's contract (a body that is not JSON, a 5xx for a
// client's mistake).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

#include "server/api.h"
#include "server/wire.h"
#include "support/test_support.h"
#include "tidal/schema.h"

namespace tidal::server {
namespace {

using ::testing::HasSubstr;

class ServerWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiOptions options;
    DatabaseOptions db_options;
    db_options.durability = Durability::kNone;
    db_options.background_checkpoints = false;
    options.open_access = true;
    auto schema = SchemaBuilder::with_default_signals().build();
    ASSERT_TRUE(schema.ok()) << schema.status().to_string();
    auto db = Database::open(dir_.str(), *schema, db_options);
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    api_ = std::make_unique<Api>(std::move(db).value(), options, KeyStore());
  }

  HttpResponse send(std::string_view method, std::string_view target, std::string_view body = {}) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    HttpResponse res;
    api_->handle(req, &res);
    return res;
  }

  static bool is_json(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    return parser.parse(body).get(doc) == simdjson::SUCCESS;
  }

  testing::TempDir dir_;
  std::unique_ptr<Api> api_;
};

// A URL's bytes were echoed into error messages and stored as keys
// unchecked: a byte that is not UTF-8 made the response invalid JSON.
TEST_F(ServerWireTest, UrlThatIsNotUtf8IsRejectedWithJson) {
  for (std::string target :
       {std::string("/v1/events\xb1"), std::string("/v1/items/%FF"),
        std::string("/v1/query?q=TRENDING%20items%C3"), std::string("/nowhere/\xc3")}) {
    HttpResponse res = send("GET", target);
    EXPECT_EQ(res.status, 400u) << target;
    EXPECT_TRUE(is_json(res.body)) << target << " -> " << res.body;
    EXPECT_THAT(res.body, HasSubstr("not UTF-8")) << target;
  }
  HttpResponse put = send("PUT", "/v1/items/%FF", R"({"attributes":{}})");
  EXPECT_EQ(put.status, 400u);
  EXPECT_TRUE(is_json(put.body)) << put.body;
  // UTF-8, encoded or not, is fine.
  HttpResponse ok = send("PUT", "/v1/items/caf%C3%A9", R"({"attributes":{}})");
  EXPECT_EQ(ok.status, 200u) << ok.body;
  HttpResponse get = send("GET", "/v1/items/caf\xc3\xa9");
  EXPECT_EQ(get.status, 200u) << get.body;
  EXPECT_TRUE(is_json(get.body)) << get.body;
}

// exp(1000) in a profile used to come back as "score": null, which a client
// cannot tell from "no score".
TEST_F(ServerWireTest, ScoresJsonHasNoNumberForAreNamedStrings) {
  ASSERT_EQ(send("PUT", "/v1/items/a", R"({"attributes":{}})").status, 200u);
  for (const auto& [expr, text] : {std::pair<std::string, std::string>{"exp(1000)", "\"Infinity\""},
                                   {"-exp(1000)", "\"-Infinity\""},
                                   {"exp(1000) - exp(1000)", "\"NaN\""}}) {
    HttpResponse res =
        send("POST", "/v1/query", R"({"tql": "RANK items BY )" + expr + R"( LIMIT 1"})");
    ASSERT_EQ(res.status, 200u) << res.body;
    EXPECT_TRUE(is_json(res.body)) << res.body;
    EXPECT_THAT(res.body, HasSubstr("\"score\":" + text)) << expr;
  }
  std::string out;
  write_score(&out, 1.5);
  EXPECT_EQ(out, "1.5");
}

TEST_F(ServerWireTest, ThePresentIsShownAndSwitchedOverHttp) {
  HttpResponse get = send("GET", "/v1/present");
  ASSERT_EQ(get.status, 200u) << get.body;
  EXPECT_THAT(get.body, HasSubstr("\"mode\":\"live\""));
  HttpResponse health = send("GET", "/health");
  ASSERT_EQ(health.status, 200u) << health.body;
  EXPECT_THAT(health.body, HasSubstr("\"status\":\"ok\""));
  EXPECT_THAT(health.body, HasSubstr("\"present\":{\"mode\":\"live\""));

  // A live database refuses an old event and says how to load it.
  HttpResponse old =
      send("POST", "/v1/events",
           R"({"item": "a", "signal": "like", "timestamp": "2001-01-01T00:00:00Z"})");
  EXPECT_EQ(old.status, 400u) << old.body;
  EXPECT_THAT(old.body, HasSubstr("/v1/present"));
  HttpResponse set = send("POST", "/v1/present", R"({"mode": "historical"})");
  ASSERT_EQ(set.status, 200u) << set.body;
  EXPECT_THAT(set.body, HasSubstr("\"mode\":\"historical\""));
  old = send("POST", "/v1/events",
             R"({"item": "a", "signal": "like", "timestamp": "2001-01-01T00:00:00Z"})");
  EXPECT_EQ(old.status, 200u) << old.body;
  HttpResponse now = send("GET", "/v1/present");
  EXPECT_THAT(now.body, HasSubstr("\"now\":\"2001-01-01T00:00:00.000000Z\""));

  for (const char* bad :
       {R"({"mode": "yesterday"})", R"({"mode": 1})", R"({})", R"({"mode": "live", "colour": 1})",
        R"({"mode": "historical", "at": "2000-01-01T00:00:00Z"})",
        R"({"mode": "live", "at": "2030-01-01T00:00:00Z"})"}) {
    HttpResponse res = send("POST", "/v1/present", bad);
    EXPECT_EQ(res.status, 400u) << bad << " -> " << res.body;
    EXPECT_TRUE(is_json(res.body)) << res.body;
  }
}

// Whether a request runs on a write worker: for POST /v1/query the parsed
// statement decides, not words in the body.
TEST(ApiMayBlockTest, AQueryRunsOnAWorkerOnlyWhenItsStatementWrites) {
  auto post = [](std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/query";
    r.body = std::move(body);
    return Api::may_block(r);
  };
  EXPECT_TRUE(post(R"j({"tql": "CREATE PROFILE p AS decay(view)"})j"));
  EXPECT_TRUE(post(
      R"j({"query": {"statement": "create_profile", "name": "q", "definition": {"ident": "hot"}}})j"));
  EXPECT_FALSE(post(R"j({"tql": "RANK items BY hot WHERE category = 'create' LIMIT 5"})j"));
  EXPECT_FALSE(post(R"j({"tql": "-- create\nRANK items BY hot"})j"));
  EXPECT_FALSE(post(""));
  EXPECT_FALSE(post("{not json"));
  EXPECT_FALSE(post(R"j({"tql": "CREATE PROFILE"})j")) << "a syntax error is answered on the loop";
  HttpRequest get;
  get.method = "GET";
  get.target = "/v1/query?q=CREATE";
  EXPECT_FALSE(Api::may_block(get));
  HttpRequest event;
  event.method = "POST";
  event.target = "/v1/events";
  EXPECT_TRUE(Api::may_block(event));
}

}  // namespace
}  // namespace tidal::server
