// Workload W1 of ../shared/WORKLOADS.md ("trending at scale") as a stream of
// tidal::SignalEvent: Zipf(1.1) item popularity, a daily rhythm, 50 breakout
// items and the six default signal types in W1's mix, in time order.
//
//   W1Generator gen(W1Config::full(/*seed=*/1));
//   std::vector<SignalEvent> chunk;
//   while (gen.next(&chunk, 100'000) > 0) { ... }
//
// The same config (seed included) gives the same events, byte for byte, on
// every run and machine with the same standard library. W1Entities generates
// the entities the events name (items, users and the items' creators).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tidal/database.h"
#include "tidal/entity.h"
#include "tidal/event.h"
#include "tidal/options.h"
#include "tidal/schema.h"
#include "tidal/types.h"

namespace tidal::bench {

struct W1Config {
  uint64_t seed = 1;
  size_t items = 1'000'000;
  size_t users = 100'000;
  size_t creators = 20'000;
  uint64_t events = 10'000'000;
  int days = 7;
  size_t breakouts = 50;
  double item_zipf = 1.1;
  double creator_zipf = 1.0;
  double breakout_factor = 50;
  Duration breakout_length = std::chrono::hours(6);
  // The first simulated day begins here (midnight UTC, 2024-01-01): in the
  // past, so a database must run in historical-import mode to accept it.
  Timestamp start = from_micros(1'704'067'200'000'000);

  // W1 as WORKLOADS.md defines it, its --quick form and its --smoke form.
  static W1Config full(uint64_t seed);
  static W1Config quick(uint64_t seed);
  static W1Config smoke(uint64_t seed);
};

// Draws ranks 0..n-1 with P(rank k) ∝ 1/(k+1)^s: a precomputed CDF searched
// by binary search (n doubles of memory, O(log n) per draw).
class ZipfSampler {
 public:
  ZipfSampler(size_t n, double s);
  size_t operator()(std::mt19937_64& rng) const;
  // P(rank k).
  double probability(size_t k) const;

 private:
  std::vector<double> cdf_;  // cdf_[k] = P(rank <= k); the last is 1
};

class W1Generator {
 public:
  explicit W1Generator(const W1Config& config);

  // Appends up to `max` events to `out` (cleared first), in time order and
  // continuing where the previous call stopped. Returns how many; 0 once all
  // config.events were produced.
  size_t next(std::vector<SignalEvent>* out, size_t max);

  // The time just after the last event: the end of the last simulated day.
  Timestamp end() const;
  const W1Config& config() const { return config_; }
  // The creator of item n ("i<n>"), Zipf(creator_zipf) over creators, fixed
  // by the seed and n.
  size_t creator_of(size_t item) const;
  // The breakout items and when their six hours begin.
  struct Breakout {
    size_t item = 0;
    Timestamp begins{};
  };
  const std::vector<Breakout>& breakouts() const { return breakouts_; }

 private:
  struct Pending {
    int64_t time_us;
    uint32_t item;
    uint32_t user;
    uint8_t signal;
    double value;
  };
  // Fills pending_ with the next simulated minute's events, sorted by time.
  void generate_minute();
  size_t draw_item(int64_t time_us);

  W1Config config_;
  std::mt19937_64 rng_;
  ZipfSampler items_;
  ZipfSampler creators_;
  std::vector<uint32_t> item_of_rank_;  // popularity rank -> item number
  std::vector<Breakout> breakouts_;
  std::vector<size_t> breakout_rank_;  // popularity rank of breakouts_[b].item
  std::vector<uint64_t> minute_end_;   // events emitted once minute m is done
  size_t minute_ = 0;                  // the next minute to generate
  std::vector<Pending> pending_;
  size_t pending_pos_ = 0;
};

// W1's entities, each a function of the seed and its number alone (so any
// subset can be generated, in any order, on any thread):
//
//   item "i<n>": creator "c<k>" (k = creator_of(n), as W1Generator::creator_of),
//     category "cat<r>" (30 values, Zipf(1.0) over r), duration 5..900 s
//     (uniform), created_at uniform over the 30 days before config.start,
//     language "lang<r>" (12 values, Zipf(1.0)); and three attributes
//     WORKLOADS.md leaves open, for an entity of 8 attributes: title (text,
//     30-60 bytes), rating (float 1.0..5.0 in steps of 0.1, uniform), tags
//     (1-5 distinct of 100 "tag<r>", Zipf(1.0)).
//   user "u<n>": age 13..80 (uniform), country "cc<r>" (50 values, Zipf(1.0)),
//     language (as items), interests (1-5 distinct of 40 "topic<r>", uniform).
//
// Value names carry their popularity rank: cat0 is the most common category.
struct W1Item {
  uint32_t number = 0;
  uint32_t creator = 0;
  uint8_t category = 0;  // rank
  uint8_t language = 0;  // rank
  int16_t duration = 0;  // seconds
  int64_t created_at_us = 0;
  double rating = 0;
  std::vector<uint8_t> tags;  // ranks, distinct, ascending
};

struct W1User {
  uint32_t number = 0;
  uint8_t age = 0;
  uint8_t country = 0;             // rank
  uint8_t language = 0;            // rank
  std::vector<uint8_t> interests;  // ranks, distinct, ascending
};

class W1Entities {
 public:
  static constexpr size_t kCategories = 30;
  static constexpr size_t kLanguages = 12;
  static constexpr size_t kItemTags = 100;
  static constexpr size_t kCountries = 50;
  static constexpr size_t kInterests = 40;
  static constexpr int kMinDuration = 5;
  static constexpr int kMaxDuration = 900;

  explicit W1Entities(const W1Config& config);

  // Declares the item and user attributes above on `builder`; every one is
  // filterable except title, and duration and rating are also sortable
  // (RANK items BY duration).
  static void declare(SchemaBuilder& builder);
  // The default signal types plus declare()'s attributes.
  static Schema schema();

  W1Item item(size_t n) const;
  W1User user(size_t n) const;
  static EntityWrite write(const W1Item& item);
  static EntityWrite write(const W1User& user);

  static std::string category_name(size_t rank) { return "cat" + std::to_string(rank); }
  static std::string language_name(size_t rank) { return "lang" + std::to_string(rank); }
  static std::string tag_name(size_t rank) { return "tag" + std::to_string(rank); }
  static std::string country_name(size_t rank) { return "cc" + std::to_string(rank); }
  static std::string interest_name(size_t rank) { return "topic" + std::to_string(rank); }

 private:
  W1Config config_;
  ZipfSampler creators_;
  ZipfSampler categories_;
  ZipfSampler languages_;
  ZipfSampler tags_;
  ZipfSampler countries_;
};

// The creator of item n under `config`: what W1Generator::creator_of and
// W1Entities agree on. `creators` samples Zipf(config.creator_zipf).
// Options for loading W1's generated days: fsync durability, historical
// import (the days lie in the past), checkpoints only when asked, the
// default trending capacity (1,000).
DatabaseOptions w1_load_options();

size_t w1_creator_of(const W1Config& config, const ZipfSampler& creators, size_t item);

// Loading a database for a benchmark: `writes` through Database::upsert and
// `events` through Database::ingest, `batch` at a time on `threads` threads
// (run_batches), BatchMode::kApplyValid. Any rejection ends the program with
// "<bench>: ... rejected N: <first error>": a figure of rejected writes
// measures nothing. Return the seconds taken.
double upsert_all(Database& db, std::span<const EntityWrite> writes, size_t batch, int threads,
                  const char* bench);
double ingest_all(Database& db, std::span<const SignalEvent> events, size_t batch, int threads,
                  const char* bench);

}  // namespace tidal::bench
