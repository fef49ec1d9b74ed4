// Real data: the movies of MovieLens ml-latest-small as items. movies.csv is
// CSV with quoted titles (which hold commas and doubled quotes), CRLF line
// endings and `|`-separated genres, "(no genres listed)" meaning none. Each
// movie becomes item "movie_<id>" with title (text), year (int, from the
// title's trailing "(YYYY)" when it has one), decade (keyword, "1990s", when
// it has a year) and genres (tags, absent for a movie without genres).
// Filters are checked against counts computed directly from the parsed file,
// then again after the database is closed and reopened.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>

#include "support/test_support.h"
#include "tidal/database.h"

namespace tidal {
namespace {

struct Movie {
  std::string id;
  std::string title;
  std::optional<int64_t> year;
  std::vector<std::string> genres;  // as in the file, in file order
};

// The fields of one CSV record (RFC 4180 quoting; no field spans lines in
// movies.csv). The trailing CR of a CRLF ending is dropped.
std::vector<std::string> csv_fields(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// The year of a title ending in "(YYYY)", trailing spaces aside.
std::optional<int64_t> year_of(std::string_view title) {
  while (!title.empty() && title.back() == ' ') title.remove_suffix(1);
  if (title.size() < 6 || title.back() != ')' || title[title.size() - 6] != '(') {
    return std::nullopt;
  }
  int64_t year = 0;
  for (char c : title.substr(title.size() - 5, 4)) {
    if (c < '0' || c > '9') return std::nullopt;
    year = year * 10 + (c - '0');
  }
  return year;
}

std::vector<Movie> load_movies(const std::filesystem::path& file) {
  std::vector<Movie> out;
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f = csv_fields(line);
    if (f.size() != 3) {
      ADD_FAILURE() << "not 3 fields: " << line;
      continue;
    }
    Movie m{f[0], f[1], year_of(f[1]), {}};
    if (f[2] != "(no genres listed)") {
      size_t start = 0;
      for (size_t i = 0; i <= f[2].size(); ++i) {
        if (i == f[2].size() || f[2][i] == '|') {
          m.genres.push_back(f[2].substr(start, i - start));
          start = i + 1;
        }
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string decade_of(int64_t year) {
  return std::to_string(year / 10 * 10) + "s";
}

bool has_genre(const Movie& m, std::string_view g) {
  return std::find(m.genres.begin(), m.genres.end(), g) != m.genres.end();
}

Schema movie_schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  b.add_attribute(EntityKind::kItem, {.name = "title", .type = AttributeType::kText});
  b.add_attribute(EntityKind::kItem,
                  {.name = "year", .type = AttributeType::kInt, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "decade", .type = AttributeType::kKeyword, .filterable = true});
  b.add_attribute(EntityKind::kItem,
                  {.name = "genres", .type = AttributeType::kTags, .filterable = true});
  return b.build().value();
}

EntityWrite write_of(const Movie& m) {
  EntityWrite w{EntityKind::kItem, "movie_" + m.id, {{"title", m.title}}};
  if (m.year) {
    w.attributes.emplace_back("year", *m.year);
    w.attributes.emplace_back("decade", decade_of(*m.year));
  }
  if (!m.genres.empty()) w.attributes.emplace_back("genres", m.genres);
  return w;
}

struct Question {
  std::string text;
  Filter filter;
  std::function<bool(const Movie&)> matches;
  bool matches_none = false;  // the one question no movie answers
};

std::vector<Question> questions() {
  auto year_in = [](int64_t lo, int64_t hi) {
    return [lo, hi](const Movie& m) { return m.year && *m.year >= lo && *m.year <= hi; };
  };
  return {
      {"ALL", Filter::all(), [](const Movie&) { return true; }},
      {"'Comedy' IN genres AND year BETWEEN 1990 AND 1999",
       Filter::contains("genres", "Comedy") &&
           Filter::between("year", int64_t{1990}, int64_t{1999}),
       [year_in](const Movie& m) { return has_genre(m, "Comedy") && year_in(1990, 1999)(m); }},
      {"NOT 'Drama' IN genres", !Filter::contains("genres", "Drama"),
       [](const Movie& m) { return !has_genre(m, "Drama"); }},
      {"year < 1950 OR 'Animation' IN genres",
       Filter::lt("year", int64_t{1950}) || Filter::contains("genres", "Animation"),
       [](const Movie& m) { return (m.year && *m.year < 1950) || has_genre(m, "Animation"); }},
      {"EXISTS year", Filter::exists("year"), [](const Movie& m) { return m.year.has_value(); }},
      {"NOT EXISTS year", !Filter::exists("year"),
       [](const Movie& m) { return !m.year.has_value(); }},
      {"EXISTS genres", Filter::exists("genres"), [](const Movie& m) { return !m.genres.empty(); }},
      {"decade IN ('1980s', '1990s')",
       Filter::in("decade", {std::string("1980s"), std::string("1990s")}),
       [](const Movie& m) { return m.year && *m.year >= 1980 && *m.year <= 1999; }},
      {"decade != '1990s'", Filter::ne("decade", "1990s"),
       [](const Movie& m) { return m.year && decade_of(*m.year) != "1990s"; }},
      {"NOT decade = '1990s'", !Filter::eq("decade", "1990s"),
       [](const Movie& m) { return !m.year || decade_of(*m.year) != "1990s"; }},
      {"year = 1995", Filter::eq("year", int64_t{1995}),
       [](const Movie& m) { return m.year == 1995; }},
      {"year IN (1968, 2001, 2049)",
       Filter::in("year", {int64_t{1968}, int64_t{2001}, int64_t{2049}}),
       [](const Movie& m) { return m.year == 1968 || m.year == 2001 || m.year == 2049; }},
      {"year >= 2015.5", Filter::ge("year", 2015.5),
       [](const Movie& m) { return m.year && *m.year >= 2016; }},
      {"('Action' IN genres OR 'Adventure' IN genres) AND year >= 2000 AND NOT 'Comedy' IN genres",
       Filter::all_of(
           {Filter::contains("genres", "Action") || Filter::contains("genres", "Adventure"),
            Filter::ge("year", int64_t{2000}), !Filter::contains("genres", "Comedy")}),
       [](const Movie& m) {
         return (has_genre(m, "Action") || has_genre(m, "Adventure")) && m.year &&
                *m.year >= 2000 && !has_genre(m, "Comedy");
       }},
      {"'Film-Noir' IN genres AND 'Crime' IN genres AND decade = '1940s'",
       Filter::contains("genres", "Film-Noir") && Filter::contains("genres", "Crime") &&
           Filter::eq("decade", "1940s"),
       [](const Movie& m) {
         return has_genre(m, "Film-Noir") && has_genre(m, "Crime") && m.year &&
                decade_of(*m.year) == "1940s";
       }},
      {"'No Such Genre' IN genres", Filter::contains("genres", "No Such Genre"),
       [](const Movie&) { return false; }, true},
  };
}

void verify(const Database& db, const std::vector<Movie>& movies, const std::string& when) {
  SCOPED_TRACE(when);
  for (const Question& q : questions()) {
    uint64_t want = 0;
    std::vector<std::string> want_keys;
    for (const Movie& m : movies) {
      if (!q.matches(m)) continue;
      ++want;
      want_keys.push_back("movie_" + m.id);
    }
    EXPECT_EQ(want == 0, q.matches_none) << q.text;  // no question is trivially empty
    Result<uint64_t> got = db.count(EntityKind::kItem, q.filter);
    ASSERT_TRUE(got.ok()) << q.text << ": " << got.status().to_string();
    EXPECT_EQ(*got, want) << q.text;
    // The keys too, where they fit in one answer (in upsert order, which is
    // file order).
    if (want <= 1000) {
      Result<std::vector<std::string>> keys = db.keys(EntityKind::kItem, q.filter, 1000);
      ASSERT_TRUE(keys.ok()) << q.text << ": " << keys.status().to_string();
      EXPECT_EQ(*keys, want_keys) << q.text;
    }
  }

  // A title with commas and doubled quotes comes back byte for byte.
  for (const Movie& m : movies) {
    if (m.title.find('"') == std::string::npos || m.title.find(',') == std::string::npos) continue;
    Result<Entity> e = db.get(EntityKind::kItem, "movie_" + m.id);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    EXPECT_EQ(std::get<std::string>(*e->find("title")), m.title);
    break;
  }
  Result<Entity> toy = db.get(EntityKind::kItem, "movie_1");
  ASSERT_TRUE(toy.ok()) << toy.status().to_string();
  EXPECT_EQ(std::get<std::string>(*toy->find("title")), "Toy Story (1995)");
  EXPECT_EQ(std::get<int64_t>(*toy->find("year")), 1995);
  EXPECT_EQ(std::get<std::vector<std::string>>(*toy->find("genres")),
            (std::vector<std::string>{"Adventure", "Animation", "Children", "Comedy", "Fantasy"}));

  // Text is not filterable; the error names the attribute.
  Result<uint64_t> text = db.count(EntityKind::kItem, Filter::eq("title", "Toy Story (1995)"));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().to_string().find("title"), std::string::npos)
      << text.status().to_string();
}

TEST(EntitiesMovieLens, FiltersMatchCountsFromTheFileBeforeAndAfterReopen) {
  std::filesystem::path file =
      testing::shared_data_dir() / "movielens" / "ml-latest-small" / "movies.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no MovieLens data at " << file;
  std::vector<Movie> movies = load_movies(file);
  ASSERT_EQ(movies.size(), 9742u);
  // The file's own quirks, so that the test keeps meaning what it says.
  size_t no_year = 0, no_genres = 0, quoted = 0;
  for (const Movie& m : movies) {
    no_year += m.year ? 0 : 1;
    no_genres += m.genres.empty() ? 1 : 0;
    quoted += m.title.find(',') != std::string::npos ? 1 : 0;
  }
  EXPECT_GT(no_year, 0u);
  EXPECT_EQ(no_genres, 34u);
  EXPECT_GT(quoted, 100u);

  testing::TempDir dir;
  const Schema schema = movie_schema();
  DatabaseOptions o;
  o.durability = Durability::kNone;
  o.background_checkpoints = false;
  {
    auto db = Database::open(dir.str(), schema, o);
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    std::vector<EntityWrite> writes;
    for (const Movie& m : movies) writes.push_back(write_of(m));
    for (size_t i = 0; i < writes.size(); i += 1000) {
      size_t n = std::min<size_t>(1000, writes.size() - i);
      BatchIngestResult r = (*db)->upsert(std::span<const EntityWrite>(writes).subspan(i, n));
      ASSERT_EQ(r.rejected, 0u) << [&] {
        for (const Status& s : r.errors) {
          if (!s.ok()) return s.to_string();
        }
        return std::string();
      }();
    }
    EXPECT_EQ((*db)->stats().live_items, movies.size());
    verify(**db, movies, "after the upserts");
    ASSERT_TRUE((*db)->close().ok());
  }
  {
    auto db = Database::open(dir.str(), schema, o);
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    EXPECT_EQ((*db)->stats().live_items, movies.size());
    verify(**db, movies, "after close and reopen");
  }
}

}  // namespace
}  // namespace tidal
