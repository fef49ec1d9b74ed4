// The `tidal` commands query, shell, import and bench, run as a user runs
// them: the real binary, its output and its exit status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "integration/cli_runner.h"

namespace tidal::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// One data folder for the suite: items.csv, then events.ndjson, imported
// into a new folder (so with the default schema).
class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data_ = dir_->sub("data");
    write_file(dir_->sub("items.csv"), kItemsCsv);
    write_file(dir_->sub("events.ndjson"), kEventsNdjson);
    items_import_ = new CliRun(run_tidal({"import", "--data", data_, dir_->sub("items.csv")}));
    events_import_ = new CliRun(run_tidal({"import", "--data", data_, dir_->sub("events.ndjson")}));
  }
  static void TearDownTestSuite() {
    delete items_import_;
    delete events_import_;
    delete dir_;
  }

  static TempDir* dir_;
  static std::string data_;
  static CliRun* items_import_;
  static CliRun* events_import_;
};

TempDir* CliTest::dir_ = nullptr;
std::string CliTest::data_;
CliRun* CliTest::items_import_ = nullptr;
CliRun* CliTest::events_import_ = nullptr;

TEST_F(CliTest, ImportCsvItemsReportsBadLinesByNumber) {
  const std::string& out = items_import_->output;
  EXPECT_EQ(items_import_->status, 1) << out;
  EXPECT_THAT(out, HasSubstr("holds no database yet: creating one with the default schema"));
  EXPECT_THAT(out, HasSubstr("lines read: 6"));
  EXPECT_THAT(out, HasSubstr("accepted:   4"));
  EXPECT_THAT(out, HasSubstr("rejected:   2"));
  EXPECT_THAT(out, HasSubstr("items.csv:4: duration = \"abc\""));
  EXPECT_THAT(out, HasSubstr("items.csv:7: the row has 8 cells; the header names 6 columns"));
}

TEST_F(CliTest, ImportNdjsonEventsCountsDuplicatesAndRejections) {
  const std::string& out = events_import_->output;
  EXPECT_EQ(events_import_->status, 1) << out;
  EXPECT_THAT(out, HasSubstr("lines read: 8"));
  EXPECT_THAT(out, HasSubstr("accepted:   5"));
  EXPECT_THAT(out, HasSubstr("duplicates: 1"));
  EXPECT_THAT(out, HasSubstr("rejected:   3"));
  EXPECT_THAT(out, HasSubstr("events.ndjson:5: not valid JSON"));
  EXPECT_THAT(out, HasSubstr("events.ndjson:6: colour: unknown field"));
  EXPECT_THAT(out, HasSubstr("events.ndjson:8: "));
  EXPECT_THAT(out, Not(HasSubstr("events.ndjson:4:")));
}

TEST_F(CliTest, ImportedLinesAreInTheDatabase) {
  CliRun r = run_tidal({"query", "--data", data_, "RANK items BY duration LIMIT 10"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Cats, Dogs and \"Friends\""));
  EXPECT_THAT(r.output, HasSubstr("Midnight Ramen"));
  EXPECT_THAT(r.output, HasSubstr("video_4"));
  EXPECT_THAT(r.output, HasSubstr("video_6"));
  EXPECT_THAT(r.output, Not(HasSubstr("video_3")));  // its duration was "abc"
  EXPECT_THAT(r.output, Not(HasSubstr("video_5")));  // too many cells
}

TEST_F(CliTest, QueryPrintsATableWithItemAttributes) {
  CliRun r = run_tidal({"query", "--data", data_, "RANK items BY hot(view) LIMIT 2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("# | key"));
  EXPECT_THAT(r.output, HasSubstr("| title"));
  EXPECT_THAT(r.output, HasSubstr("| category"));
  EXPECT_THAT(r.output, HasSubstr("| creator"));
  // video_1 has two views, video_2 one (its retry was a duplicate).
  size_t first = r.output.find("video_1");
  size_t second = r.output.find("video_2");
  ASSERT_NE(first, std::string::npos) << r.output;
  ASSERT_NE(second, std::string::npos) << r.output;
  EXPECT_LT(first, second);
  EXPECT_THAT(r.output, HasSubstr("studio_a"));
}

TEST_F(CliTest, QueryPrintsJson) {
  CliRun r =
      run_tidal({"query", "--data", data_, "--format", "json", "RANK items BY duration LIMIT 1"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("{\"rows\":[{\"key\":\"video_2\",\"score\":300}]"));
  EXPECT_THAT(r.output, HasSubstr("\"took_ms\":"));
}

TEST_F(CliTest, QueryReadsStdinAndExplains) {
  CliRun r =
      run_tidal({"query", "--data", data_, "--explain", "-"}, "RANK items BY duration\nLIMIT 2;\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("video_2"));
  EXPECT_THAT(r.output, HasSubstr("page"));  // the plan's root stage
}

TEST_F(CliTest, QuerySyntaxErrorNamesLineAndColumn) {
  CliRun r = run_tidal({"query", "--data", data_, "RANK items BY duration LIMIT"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("line 1, column"));
}

TEST_F(CliTest, QueryWithoutADatabaseFails) {
  CliRun r = run_tidal({"query", "--data", dir_->sub("nothing-here"), "RANK items BY duration"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no tidalDB database"));
}

TEST_F(CliTest, ShellRunsStatementsFromAPipe) {
  CliRun r = run_tidal({"shell", "--data", data_},
                       "RANK items BY hot(view) LIMIT 3;\n"
                       "RANK items\n"
                       "  BY duration\n"
                       "  LIMIT 2;\n"
                       "RANK items\n"
                       "  BY duration LIMIT LIMIT;\n"
                       "\\schema\n"
                       "\\format json\n"
                       "RANK items BY duration LIMIT 1\n"
                       "\n"
                       "\\quit\n"
                       "RANK items BY duration LIMIT 5;\n");
  EXPECT_EQ(r.status, 1) << r.output;  // one statement failed
  EXPECT_THAT(r.output, Not(HasSubstr("tidal> ")));
  EXPECT_THAT(r.output, HasSubstr("3 rows in "));
  EXPECT_THAT(r.output, HasSubstr("2 rows in "));
  EXPECT_THAT(r.output, HasSubstr("error: line 2, column"));
  EXPECT_THAT(r.output, HasSubstr("Signal types:"));
  EXPECT_THAT(r.output, HasSubstr("{\"rows\":[{\"key\":\"video_2\",\"score\":300}]"));
  EXPECT_THAT(r.output, Not(HasSubstr("5 rows")));  // after \quit
}

// help, exit and quit alone on a line, as in psql; inside a statement they
// are TQL (and wrong there).
TEST_F(CliTest, ShellTakesHelpExitAndQuitAlone) {
  CliRun r = run_tidal({"shell", "--data", data_},
                       "HELP;\n"
                       "RANK items BY duration LIMIT 2;\n"
                       "Exit\n"
                       "RANK items BY duration LIMIT 5;\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Lines starting with"));
  EXPECT_THAT(r.output, HasSubstr("2 rows in "));
  EXPECT_THAT(r.output, Not(HasSubstr("5 rows")));
  r = run_tidal({"shell", "--data", data_}, "RANK items\nquit\n;\nquit\nRANK items BY duration;\n");
  EXPECT_EQ(r.status, 1) << r.output;  // "RANK items quit" is not TQL
  EXPECT_THAT(r.output, HasSubstr("error: "));
  EXPECT_THAT(r.output, Not(HasSubstr("rows in ")));
}

TEST_F(CliTest, ShellEndsAPendingStatementAtTheEndOfInput) {
  CliRun r = run_tidal({"shell", "--data", data_}, "RANK items BY duration LIMIT 4");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("4 rows in "));
}

// A folder `tidal demo --no-serve` made: 2,000 items with titles, users
// with attributes.
TEST(CliDemoFolderTest, QueryAndShellReadADemoFolder) {
  if (run_tidal({"demo", "--help"}).output.find("--no-serve") == std::string::npos) {
    GTEST_SKIP() << "tidal demo has no --no-serve";
  }
  TempDir dir;
  std::string data = dir.sub("demo");
  CliRun demo = run_tidal({"demo", "--data", data, "--events", "2000", "--no-serve"});
  ASSERT_EQ(demo.status, 0) << demo.output;
  CliRun r = run_tidal(
      {"query", "--data", data, "RANK items BY duration WHERE category = 'music' LIMIT 3"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("| music "));
  EXPECT_THAT(r.output, HasSubstr("creator_"));
  r = run_tidal({"query", "--data", data, "RANK users BY age LIMIT 2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(" # | key "));
  EXPECT_THAT(r.output, Not(HasSubstr("title")));  // users have none
  r = run_tidal({"shell", "--data", data}, "\\stats\nTRENDING items BY view WINDOW 24h LIMIT 5;\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("live items            | 2000"));
  EXPECT_THAT(r.output, HasSubstr("5 rows in "));
}

TEST(CliUsageTest, EveryCommandHasHelpAndRejectsUnknownFlags) {
  for (const char* command : {"query", "shell", "import", "bench"}) {
    CliRun help = run_tidal({command, "--help"});
    EXPECT_EQ(help.status, 0) << command << ": " << help.output;
    EXPECT_THAT(help.output, HasSubstr(std::string("usage: tidal ") + command));
    EXPECT_EQ(run_tidal({command, "-h"}).status, 0) << command;
    CliRun bad = run_tidal({command, "--no-such-flag"});
    EXPECT_EQ(bad.status, 2) << command << ": " << bad.output;
    EXPECT_THAT(bad.output, HasSubstr("unknown option --no-such-flag"));
  }
  CliRun top = run_tidal({"--help"});
  EXPECT_EQ(top.status, 0);
  EXPECT_THAT(top.output, HasSubstr("import"));
}

TEST(CliImportTest, NeedsAKindWhenTheNameDoesNotSayIt) {
  TempDir dir;
  write_file(dir.sub("stuff.ndjson"), "{\"item\":\"a\",\"signal\":\"view\"}\n");
  CliRun r = run_tidal({"import", "--data", dir.sub("data"), dir.sub("stuff.ndjson")});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--kind"));
  r = run_tidal({"import", "--data", dir.sub("data"), "--kind", "events", dir.sub("stuff.ndjson")});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("accepted:   1"));
}

TEST(CliImportTest, CsvEventsWithTimesAndHistoricalMode) {
  TempDir dir;
  // 2001: far older than the accepted skew, so only --historical takes it.
  write_file(dir.sub("old-events.csv"),
             "item,signal,timestamp,user\n"
             "video_1,view,2001-09-09T01:46:40Z,u1\n"
             "video_1,like,1000000000.5,u2\n"
             "video_2,view,yesterday,u3\n");
  CliRun r = run_tidal({"import", "--data", dir.sub("data"), dir.sub("old-events.csv")});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("rejected:   3"));
  EXPECT_THAT(r.output, HasSubstr("old-events.csv:4: timestamp = \"yesterday\""));
  r = run_tidal({"import", "--data", dir.sub("hist"), "--historical", dir.sub("old-events.csv")});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("accepted:   2"));
  EXPECT_THAT(r.output, HasSubstr("rejected:   1"));
}

// A historical database stays historical for every later command, which
// answers at its newest event time, until `tidal present ... live`.
TEST(CliPresentTest, AHistoricalImportIsReadAtItsNewestEventByEveryCommand) {
  TempDir dir;
  write_file(dir.sub("events.ndjson"),
             "{\"item\":\"a\",\"signal\":\"view\",\"user\":\"u1\",\"timestamp\":\"2018-09-24T10:00:"
             "00Z\"}\n"
             "{\"item\":\"a\",\"signal\":\"view\",\"user\":\"u2\",\"timestamp\":\"2018-09-24T10:30:"
             "00Z\"}\n");
  CliRun r =
      run_tidal({"import", "--data", dir.sub("d"), "--historical", dir.sub("events.ndjson")});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("present:    historical (the newest event time): now is "
                                  "2018-09-24T10:30:00.000000Z"));
  r = run_tidal(
      {"query", "--data", dir.sub("d"), "--format", "json", "RANK items BY top(view, 1h) LIMIT 1"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"score\":2"));
  r = run_tidal({"info", "--data", dir.sub("d")});
  EXPECT_THAT(r.output, HasSubstr("Present: historical (the newest event time): now is "
                                  "2018-09-24T10:30:00.000000Z"));
  r = run_tidal({"present", "--data", dir.sub("d"), "historical", "--at", "2018-09-25T00:00:00Z"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("historical (pinned): now is 2018-09-25T00:00:00.000000Z"));
  r = run_tidal({"present", "--data", dir.sub("d"), "historical", "--at", "2018-09-01T00:00:00Z"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("must not be before 2018-09-24T10:30:00.000000Z"));
  r = run_tidal({"present", "--data", dir.sub("d"), "live"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("present: live (the clock)"));
  r = run_tidal(
      {"query", "--data", dir.sub("d"), "--format", "json", "RANK items BY top(view, 1h) LIMIT 1"});
  EXPECT_THAT(r.output, HasSubstr("\"score\":0"));  // 2018 is long gone at the clock
  r = run_tidal({"present", "--data", dir.sub("d"), "sideways"});
  EXPECT_EQ(r.status, 2) << r.output;
}

// A schema of your own from a file (issue 24, item 2): init creates the
// folder with it, import and query use it (the table shows its attributes),
// diff and apply migrate by name, and a bad file creates nothing.
TEST(CliSchemaTest, InitImportDiffApplyFromASchemaFile) {
  TempDir dir;
  const std::string data = dir.sub("movies");
  write_file(dir.sub("schema.json"), R"({
    "signals": [{"name": "rating", "half_life": "30d", "windows": ["7d"]}],
    "attributes": {"item": [{"name": "genres", "type": "tags", "filterable": true},
                            {"name": "year", "type": "int", "filterable": true, "sortable": true}]}
  })");
  CliRun init = run_tidal({"init", "--data", data, "--schema", dir.sub("schema.json")});
  ASSERT_EQ(init.status, 0) << init.output;
  EXPECT_THAT(init.output, HasSubstr("1 signal types, 2 attributes (schema version 1)"));
  EXPECT_EQ(run_tidal({"init", "--data", data}).status, 1);  // it exists now

  CliRun show = run_tidal({"schema", "show", "--data", data});
  ASSERT_EQ(show.status, 0) << show.output;
  EXPECT_THAT(show.output, HasSubstr(R"({"name":"genres","type":"tags","filterable":true)"));
  EXPECT_THAT(show.output, Not(HasSubstr("category")));  // no default attributes
  // What show prints is a schema file: it reads back and adds nothing.
  write_file(dir.sub("shown.json"), show.output);
  CliRun same = run_tidal({"schema", "diff", "--data", data, dir.sub("shown.json")});
  EXPECT_EQ(same.status, 0) << same.output;

  write_file(dir.sub("movies.csv"), "key,genres,year\nm1,drama|war,1998\nm2,comedy,2004\n");
  CliRun imported = run_tidal({"import", "--data", data, "--kind", "items", dir.sub("movies.csv")});
  ASSERT_EQ(imported.status, 0) << imported.output;
  CliRun q = run_tidal({"query", "--data", data, "RANK items BY year LIMIT 5"});
  ASSERT_EQ(q.status, 0) << q.output;
  EXPECT_THAT(q.output, HasSubstr("| genres"));
  EXPECT_THAT(q.output, HasSubstr("| year"));
  EXPECT_THAT(q.output, Not(HasSubstr("| category")));
  EXPECT_THAT(q.output, HasSubstr("drama, war"));
  CliRun count = run_tidal({"query", "--data", data, "COUNT items WHERE 'drama' IN genres"});
  EXPECT_EQ(count.status, 0);
  EXPECT_EQ(count.output, "1\n");

  // A column the schema lacks says how to add it.
  write_file(dir.sub("more.csv"), "key,year,studio\nm3,2010,ghibli\n");
  CliRun unknown = run_tidal({"import", "--data", data, "--kind", "items", dir.sub("more.csv")});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.output, HasSubstr("tidal schema apply"));

  // The next version lists things in another order, adds two and leaves one out.
  write_file(dir.sub("v2.json"), R"({
    "signals": [{"name": "view", "half_life": "6h", "windows": ["1h"]},
                {"name": "rating", "half_life": "30d", "windows": ["7d"]}],
    "attributes": {"item": [{"name": "year", "type": "int", "filterable": true, "sortable": true},
                            {"name": "studio", "type": "keyword", "filterable": true}]}
  })");
  CliRun diff = run_tidal({"schema", "diff", "--data", data, dir.sub("v2.json")});
  EXPECT_EQ(diff.status, 1) << diff.output;
  EXPECT_THAT(diff.output, HasSubstr("+ signal \"view\""));
  EXPECT_THAT(diff.output, HasSubstr("+ item attribute \"studio\""));
  EXPECT_THAT(diff.output, HasSubstr("item attribute \"genres\" is not in the file (kept"));
  CliRun apply = run_tidal({"schema", "apply", "--data", data, dir.sub("v2.json")});
  ASSERT_EQ(apply.status, 0) << apply.output;
  EXPECT_THAT(apply.output, HasSubstr("schema version 1 -> 2"));
  CliRun now = run_tidal({"import", "--data", data, "--kind", "items", dir.sub("more.csv")});
  EXPECT_EQ(now.status, 0) << now.output;
  EXPECT_EQ(run_tidal({"schema", "diff", "--data", data, dir.sub("v2.json")}).status, 0);

  // A change to a stored declaration is refused and nothing is applied.
  write_file(dir.sub("v3.json"), R"({"signals": [{"name": "rating", "half_life": "1d",
    "windows": ["7d"]}], "attributes": {"item": [{"name": "lang", "type": "keyword"}]}})");
  CliRun changed = run_tidal({"schema", "apply", "--data", data, dir.sub("v3.json")});
  EXPECT_EQ(changed.status, 1);
  EXPECT_THAT(changed.output, HasSubstr("signal \"rating\": half_life differs"));
  EXPECT_THAT(run_tidal({"schema", "show", "--data", data}).output, Not(HasSubstr("\"lang\"")));
  // serve and import with a file the folder does not match stop before opening it.
  CliRun mismatch = run_tidal({"import", "--data", data, "--schema", dir.sub("v3.json"), "--kind",
                               "items", dir.sub("more.csv")});
  EXPECT_EQ(mismatch.status, 1);
  EXPECT_THAT(mismatch.output, HasSubstr("tidal schema apply --data"));
}

TEST(CliSchemaTest, ABadSchemaFileListsEveryErrorAndCreatesNothing) {
  TempDir dir;
  write_file(dir.sub("bad.json"), R"({"signals": [{"name": "x", "half_life": "soon"}, {}],
    "attributes": {"item": [{"name": "a", "type": "number"}], "robots": []}, "colour": 1})");
  for (const char* command : {"init", "serve", "import"}) {
    std::vector<std::string> argv = {command, "--data", dir.sub("db"), "--schema",
                                     dir.sub("bad.json")};
    if (std::string(command) == "import") {
      argv.insert(argv.end(), {"--kind", "items", dir.sub("bad.json")});
    }
    CliRun r = run_tidal(argv);
    EXPECT_EQ(r.status, 2) << command << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("5 errors"));
    EXPECT_THAT(r.output, HasSubstr("signals[0].half_life = \"soon\""));
    EXPECT_THAT(r.output, HasSubstr("signals[1].name: is required"));
    EXPECT_THAT(r.output, HasSubstr("attributes.item[0].type = \"number\""));
    EXPECT_THAT(r.output, HasSubstr("attributes.robots: is not an entity kind"));
    EXPECT_THAT(r.output, HasSubstr("colour: unknown field"));
    EXPECT_FALSE(std::filesystem::exists(dir.sub("db"))) << command;
  }
  // Rules the builder checks come next, once the JSON reads.
  write_file(dir.sub("rules.json"), R"({"signals": [{"name": "x", "half_life": "1h"},
    {"name": "x", "half_life": "2h"}], "attributes": {"item": [{"name": "v", "type": "vector"}]}})");
  CliRun rules = run_tidal({"init", "--data", dir.sub("db"), "--schema", dir.sub("rules.json")});
  EXPECT_EQ(rules.status, 2) << rules.output;
  EXPECT_THAT(rules.output, HasSubstr("breaks these rules"));
  EXPECT_THAT(rules.output, HasSubstr("vector_dim"));
  EXPECT_FALSE(std::filesystem::exists(dir.sub("db")));
  CliRun missing = run_tidal({"init", "--data", dir.sub("db"), "--schema", dir.sub("nope.json")});
  EXPECT_EQ(missing.status, 2);
  EXPECT_THAT(missing.output, HasSubstr("cannot read the schema file"));
}

TEST(CliBenchTest, SaysHowToBuildWhenThereAreNoBenchPrograms) {
  TempDir dir;
  CliRun r = run_tidal({"bench"}, "", {"TIDAL_BENCH_DIR=" + shell_quote(dir.str())});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("-DTIDAL_BUILD_BENCH=ON"));
}

TEST(CliBenchTest, GathersFiguresAndNamesFailures) {
  TempDir dir;
  write_file(dir.sub("good_bench"),
             "#!/bin/sh\n"
             "echo \"running $1\"\n"
             "echo 'BENCH {\"bench\":\"good_bench\",\"metric\":\"put\",\"value\":1234.5,"
             "\"unit\":\"ops/s\"}'\n");
  write_file(dir.sub("bad_bench"), "#!/bin/sh\necho broken\nexit 3\n");
  write_file(dir.sub("notes.txt"), "not a bench\n");
  for (const char* name : {"good_bench", "bad_bench"}) {
    std::filesystem::permissions(dir.sub(name), std::filesystem::perms::owner_all);
  }
  std::string env = "TIDAL_BENCH_DIR=" + shell_quote(dir.str());
  CliRun r = run_tidal({"bench"}, "", {env});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("running --quick"));
  EXPECT_THAT(r.output, HasSubstr("broken"));
  EXPECT_THAT(r.output, HasSubstr("good_bench | put    | 1234.5 | ops/s"));
  EXPECT_THAT(r.output, HasSubstr("bad_bench | exit status 3"));
  r = run_tidal({"bench", "--only", "good", "--full"}, "", {env});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("--quick")));
  EXPECT_THAT(r.output, Not(HasSubstr("broken")));
}

}  // namespace
}  // namespace tidal::testing
