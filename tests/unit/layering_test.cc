// The folders of src/ are the architecture (docs/architecture.md): a folder
// may include its own headers and those of folders below it, never one above.
// This test reads every #include "folder/..." in include/, src/ and tools/ and
// fails on an edge that goes up or sideways, and on a folder it does not know
// (a new folder gets its place in kOrder first).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace tidal {
namespace {

namespace fs = std::filesystem;

// The allowed order, lowest first. A folder may include folders of a lower
// rank; folders of the same rank may not include each other.
const std::map<std::string, int>& order() {
  static const std::map<std::string, int> kOrder = {
      {"tidal", 0},     // include/tidal: the public API, includes only itself
      {"core", 1},      // status, clock, time text, byte coding, hashing
      {"expr", 2},      // the expression tree TQL and profiles share
      {"storage", 2},   // the storage engine interface and RocksDB
      {"wal", 2},       // the write-ahead log
      {"schema", 3},    // signal and attribute definitions, validation
      {"apply", 4},     // the materializer interface, applied records, record codecs
      {"entities", 5},  // key maps, attributes, filter indexes, relationships
      {"signals", 6},   // ledgers, windows, trending indexes, the event store
      {"text", 7},      // analyzers, inverted index, BM25
      {"vectors", 7},   // embeddings and ANN
      {"cohorts", 7},   // cohort definitions, membership, cohort ledgers
      {"ranking", 8},   // profiles: compile and evaluate expressions
      {"users", 8},     // user state: seen, recent items, preferences, co-engagement
      {"query", 9},     // TQL, planner, executor
      {"db", 10},       // tidal::Database
      {"server", 11},   // HTTP
      {"tools", 12},    // the tidal CLI
  };
  return kOrder;
}

struct Edge {
  std::string file;
  int line;
  std::string from, to;
};

// Every quoted include naming a folder, of every source under `root`, with
// `from` the folder the file is in (`fixed_from` when given).
std::vector<Edge> edges_under(const fs::path& root, const std::string& fixed_from) {
  static const std::regex kInclude(R"re(^\s*#\s*include\s+"([a-z_]+)/[^"]+")re");
  std::vector<Edge> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
    const std::string from =
        fixed_from.empty() ? fs::relative(entry.path(), root).begin()->string() : fixed_from;
    std::ifstream in(entry.path());
    std::string text;
    int line = 0;
    while (std::getline(in, text)) {
      ++line;
      std::smatch m;
      if (std::regex_search(text, m, kInclude)) {
        out.push_back({entry.path().string(), line, from, m[1].str()});
      }
    }
  }
  return out;
}

TEST(LayeringTest, NoFolderIncludesAFolderAboveIt) {
  const fs::path source(TIDAL_SOURCE_DIR);
  std::vector<Edge> edges = edges_under(source / "src", "");
  for (Edge& e : edges_under(source / "include" / "tidal", "tidal")) edges.push_back(e);
  for (Edge& e : edges_under(source / "tools", "tools")) edges.push_back(e);
  ASSERT_GT(edges.size(), 100u) << "too few includes read under " << source;

  size_t checked = 0;
  for (const Edge& e : edges) {
    auto from = order().find(e.from);
    auto to = order().find(e.to);
    ASSERT_NE(from, order().end())
        << e.file << ": folder \"" << e.from << "\" has no place in the layering order; add it";
    ASSERT_NE(to, order().end()) << e.file << ":" << e.line << ": includes \"" << e.to
                                 << "/...\", a folder with no place in the layering order";
    if (e.from == e.to) continue;
    ++checked;
    EXPECT_LT(to->second, from->second)
        << e.file << ":" << e.line << ": " << e.from << "/ includes " << e.to << "/, which is "
        << (to->second == from->second ? "beside" : "above") << " it";
  }
  EXPECT_GT(checked, 50u);
}

}  // namespace
}  // namespace tidal
