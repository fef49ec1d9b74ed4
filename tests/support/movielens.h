// MovieLens ml-latest-small (../shared/data/movielens) as the tests read it:
// movies.csv's movies in file order, and ratings.csv and tags.csv as signal
// events (../shared/WORKLOADS.md, "Real data"): every rating a view, a
// rating >= 4 a like, <= 2 a skip, every tag a share; ratings then tags, each
// in file order, sorted by time (stably).
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tidal::testing {

struct MovieLensEvent {
  int64_t t_us;
  std::string item;  // movie_<movieId>
  int user;          // userId
  const char* signal;
};

// The comma-separated fields of a line without its CR. Titles and tags may
// hold quoted commas, so callers only use the first two fields and the last.
inline std::vector<std::string> csv_fields(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The item keys of movies.csv, in file order.
inline std::vector<std::string> load_movielens_movies(const std::filesystem::path& folder) {
  std::vector<std::string> out;
  std::ifstream in(folder / "movies.csv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) out.push_back("movie_" + csv_fields(line)[0]);
  return out;
}

inline std::vector<MovieLensEvent> load_movielens_events(const std::filesystem::path& folder) {
  std::vector<MovieLensEvent> out;
  std::ifstream ratings(folder / "ratings.csv");
  std::string line;
  std::getline(ratings, line);  // header
  while (std::getline(ratings, line)) {
    std::vector<std::string> f = csv_fields(line);
    if (f.size() != 4) continue;
    const int64_t t = std::stoll(f[3]) * 1'000'000;
    const double rating = std::stod(f[2]);
    const int user = std::stoi(f[0]);
    const std::string item = "movie_" + f[1];
    out.push_back({t, item, user, "view"});
    if (rating >= 4) out.push_back({t, item, user, "like"});
    if (rating <= 2) out.push_back({t, item, user, "skip"});
  }
  std::ifstream tags(folder / "tags.csv");
  std::getline(tags, line);  // header
  while (std::getline(tags, line)) {
    std::vector<std::string> f = csv_fields(line);
    if (f.size() < 4) continue;
    out.push_back({std::stoll(f.back()) * 1'000'000, "movie_" + f[1], std::stoi(f[0]), "share"});
  }
  std::stable_sort(out.begin(), out.end(), [](const MovieLensEvent& a, const MovieLensEvent& b) {
    return a.t_us < b.t_us;
  });
  return out;
}

}  // namespace tidal::testing
