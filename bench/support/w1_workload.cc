#include "support/w1_workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <string>

#include "support/bench_report.h"

namespace tidal::bench {

namespace {

constexpr int64_t kMinuteUs = 60'000'000;
constexpr int kMinutesPerDay = 24 * 60;

// W1's mix, in the order of default_signal_specs().
constexpr const char* kSignalNames[] = {"view",  "like",       "skip",
                                        "share", "completion", "dwell_time"};
constexpr double kSignalShare[] = {0.60, 0.12, 0.15, 0.03, 0.07, 0.03};
constexpr uint8_t kDwellSignal = 5;
// dwell_time seconds: log-normal with a median of 20 s and sigma 1 (a long
// tail of people who watch to the end and beyond).
constexpr double kDwellLogMedian = 2.995732273553991;  // ln 20
constexpr double kDwellLogSigma = 1.0;

// Uniform in [0, 1) from 53 random bits: the same on every standard library,
// unlike std::uniform_real_distribution.
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Traffic weight of a moment of the day: 3 at 20:00, 1 at 08:00 (the busiest
// hour carries 3x the quietest), a cosine between.
double daily_rhythm(double hour_of_day) {
  return 2.0 + std::cos(2.0 * std::numbers::pi * (hour_of_day - 20.0) / 24.0);
}

// "i123": a letter and a decimal number.
std::string numbered_key(char letter, uint32_t n) {
  char buf[16];
  buf[0] = letter;
  char* end = std::to_chars(buf + 1, buf + sizeof buf, n).ptr;
  return std::string(buf, static_cast<size_t>(end - buf));
}

}  // namespace

W1Config W1Config::full(uint64_t seed) {
  W1Config c;
  c.seed = seed;
  return c;
}

W1Config W1Config::quick(uint64_t seed) {
  W1Config c;
  c.seed = seed;
  c.items = 10'000;
  c.events = 100'000;
  c.days = 1;
  return c;
}

W1Config W1Config::smoke(uint64_t seed) {
  W1Config c = quick(seed);  // one day, like --quick, and smaller still
  c.items = 1'000;
  c.users = 1'000;
  c.creators = 200;
  c.events = 10'000;
  c.breakouts = 5;
  return c;
}

ZipfSampler::ZipfSampler(size_t n, double s) : cdf_(std::max<size_t>(n, 1)) {
  double sum = 0;
  for (size_t k = 0; k < cdf_.size(); ++k) {
    sum += std::pow(static_cast<double>(k + 1), -s);
    cdf_[k] = sum;
  }
  for (double& c : cdf_) c /= sum;
  cdf_.back() = 1.0;
}

size_t ZipfSampler::operator()(std::mt19937_64& rng) const {
  double u = unit(rng);
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
}

double ZipfSampler::probability(size_t k) const {
  return k == 0 ? cdf_[0] : cdf_[k] - cdf_[k - 1];
}

W1Generator::W1Generator(const W1Config& config)
    : config_(config),
      rng_(config.seed),
      items_(config.items, config.item_zipf),
      creators_(config.creators, config.creator_zipf) {
  // Popularity is a property of a random item, not of its number: ranks are
  // mapped through a seeded permutation.
  item_of_rank_.resize(config_.items);
  for (size_t i = 0; i < item_of_rank_.size(); ++i) item_of_rank_[i] = static_cast<uint32_t>(i);
  for (size_t i = item_of_rank_.size(); i > 1; --i) {
    std::swap(item_of_rank_[i - 1], item_of_rank_[rng_() % i]);
  }

  // Breakouts come from the middle of the head (ranks 10 .. items/100): an
  // item whose popularity x50 becomes a visible trend, not the tail item a
  // uniform pick would nearly always be (x50 of almost nothing).
  const size_t lo = std::min<size_t>(10, config_.items / 10);
  const size_t hi = std::max<size_t>(config_.items / 100, lo + config_.breakouts);
  const int64_t span_us = static_cast<int64_t>(config_.days) * kMinutesPerDay * kMinuteUs -
                          config_.breakout_length.count();
  for (size_t b = 0; b < config_.breakouts && hi <= config_.items; ++b) {
    size_t rank = lo + rng_() % (hi - lo);
    breakout_rank_.push_back(rank);
    Breakout br;
    br.item = item_of_rank_[rank];
    br.begins =
        config_.start + Duration(static_cast<int64_t>(unit(rng_) * std::max<int64_t>(span_us, 0)));
    breakouts_.push_back(br);
  }

  // How many events end in each minute: the daily rhythm, rounded so that
  // the total is exact.
  const size_t minutes = static_cast<size_t>(config_.days) * kMinutesPerDay;
  std::vector<double> weight(minutes);
  double total = 0;
  for (size_t m = 0; m < minutes; ++m) {
    weight[m] = daily_rhythm(static_cast<double>(m % kMinutesPerDay) / 60.0 + 1.0 / 120.0);
    total += weight[m];
  }
  minute_end_.resize(minutes);
  double cumulative = 0;
  for (size_t m = 0; m < minutes; ++m) {
    cumulative += weight[m];
    minute_end_[m] = static_cast<uint64_t>(
        std::llround(cumulative / total * static_cast<double>(config_.events)));
  }
  if (!minute_end_.empty()) minute_end_.back() = config_.events;
}

Timestamp W1Generator::end() const {
  return config_.start + Duration(static_cast<int64_t>(minute_end_.size()) * kMinuteUs);
}

size_t w1_creator_of(const W1Config& config, const ZipfSampler& creators, size_t item) {
  uint64_t h = splitmix64(config.seed ^ splitmix64(item));
  std::mt19937_64 one(h);
  return creators(one);
}

size_t W1Generator::creator_of(size_t item) const {
  return w1_creator_of(config_, creators_, item);
}

size_t W1Generator::draw_item(int64_t time_us) {
  // An active breakout item has factor x its usual probability: the extra
  // (factor - 1) x p is a second mixture component drawn first.
  auto active = [&](size_t b) {
    int64_t begins = to_micros(breakouts_[b].begins);
    return time_us >= begins && time_us < begins + config_.breakout_length.count();
  };
  double extra = 0;
  for (size_t b = 0; b < breakouts_.size(); ++b) {
    if (active(b)) extra += (config_.breakout_factor - 1) * items_.probability(breakout_rank_[b]);
  }
  if (extra > 0 && unit(rng_) * (1 + extra) >= 1) {
    double pick = unit(rng_) * extra;
    for (size_t b = 0; b < breakouts_.size(); ++b) {
      if (!active(b)) continue;
      pick -= (config_.breakout_factor - 1) * items_.probability(breakout_rank_[b]);
      if (pick < 0) return breakouts_[b].item;
    }
  }
  return item_of_rank_[items_(rng_)];
}

void W1Generator::generate_minute() {
  pending_.clear();
  pending_pos_ = 0;
  uint64_t first = minute_ == 0 ? 0 : minute_end_[minute_ - 1];
  uint64_t count = minute_end_[minute_] - first;
  int64_t minute_start = to_micros(config_.start) + static_cast<int64_t>(minute_) * kMinuteUs;
  ++minute_;
  std::vector<int64_t> times(count);
  for (int64_t& t : times) t = minute_start + static_cast<int64_t>(unit(rng_) * kMinuteUs);
  std::sort(times.begin(), times.end());
  pending_.reserve(count);
  for (int64_t t : times) {
    Pending p;
    p.time_us = t;
    p.item = static_cast<uint32_t>(draw_item(t));
    p.user = static_cast<uint32_t>(rng_() % config_.users);
    double u = unit(rng_);
    p.signal = 0;
    while (size_t{p.signal} + 1 < std::size(kSignalShare) && u >= kSignalShare[p.signal]) {
      u -= kSignalShare[p.signal];
      ++p.signal;
    }
    p.value = 1.0;
    if (p.signal == kDwellSignal) {
      // Box-Muller, to stay independent of the library's normal_distribution.
      double u1 = 1.0 - unit(rng_), u2 = unit(rng_);
      double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      p.value = std::round(std::exp(kDwellLogMedian + kDwellLogSigma * z) * 1000.0) / 1000.0;
    }
    pending_.push_back(p);
  }
}

size_t W1Generator::next(std::vector<SignalEvent>* out, size_t max) {
  out->clear();
  while (out->size() < max) {
    if (pending_pos_ == pending_.size()) {
      if (minute_ == minute_end_.size()) break;
      generate_minute();
      continue;
    }
    const Pending& p = pending_[pending_pos_++];
    SignalEvent& e = out->emplace_back();
    e.item = numbered_key('i', p.item);
    e.user = numbered_key('u', p.user);
    e.signal = kSignalNames[p.signal];
    e.timestamp = from_micros(p.time_us);
    e.value = p.value;
  }
  return out->size();
}

// ---------------------------------------------------------------------------
// W1Entities

namespace {

constexpr int64_t kDayUs = 24 * 60 * kMinuteUs;
constexpr int kCreatedAtDays = 30;
// Distinct streams per kind, so item n and user n draw unrelated numbers.
constexpr uint64_t kItemStream = 0x6974656d;  // "item"
constexpr uint64_t kUserStream = 0x75736572;  // "user"
constexpr const char* kTitleWords[] = {"cats",   "jazz",  "night", "city",  "river",   "storm",
                                       "garden", "robot", "ocean", "dance", "kitchen", "road"};

std::mt19937_64 entity_rng(uint64_t seed, uint64_t stream, size_t n) {
  return std::mt19937_64(splitmix64(seed ^ splitmix64(stream ^ splitmix64(n))));
}

// `count` distinct values drawn by `draw`, ascending.
template <typename Draw>
std::vector<uint8_t> distinct_ranks(size_t count, Draw&& draw) {
  std::vector<uint8_t> out;
  while (out.size() < count) {
    auto r = static_cast<uint8_t>(draw());
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

W1Entities::W1Entities(const W1Config& config)
    : config_(config),
      creators_(config.creators, config.creator_zipf),
      categories_(kCategories, 1.0),
      languages_(kLanguages, 1.0),
      tags_(kItemTags, 1.0),
      countries_(kCountries, 1.0) {}

Schema W1Entities::schema() {
  SchemaBuilder b = SchemaBuilder::with_default_signals();
  declare(b);
  return b.build().value();  // a fixed, valid schema
}

DatabaseOptions w1_load_options() {
  DatabaseOptions o;
  o.durability = Durability::kFsync;
  o.historical_import = true;
  o.background_checkpoints = false;
  o.trending_capacity = 1000;
  return o;
}

void W1Entities::declare(SchemaBuilder& b) {
  auto filterable = [&](EntityKind kind, const char* name, AttributeType type,
                        bool sortable = false) {
    b.add_attribute(kind, {.name = name, .type = type, .filterable = true, .sortable = sortable});
  };
  b.add_attribute(EntityKind::kItem, {.name = "title", .type = AttributeType::kText});
  filterable(EntityKind::kItem, "category", AttributeType::kKeyword);
  filterable(EntityKind::kItem, "duration", AttributeType::kInt, /*sortable=*/true);
  filterable(EntityKind::kItem, "language", AttributeType::kKeyword);
  filterable(EntityKind::kItem, "rating", AttributeType::kFloat, /*sortable=*/true);
  filterable(EntityKind::kItem, "tags", AttributeType::kTags);
  filterable(EntityKind::kUser, "age", AttributeType::kInt);
  filterable(EntityKind::kUser, "country", AttributeType::kKeyword);
  filterable(EntityKind::kUser, "language", AttributeType::kKeyword);
  filterable(EntityKind::kUser, "interests", AttributeType::kTags);
}

W1Item W1Entities::item(size_t n) const {
  std::mt19937_64 rng = entity_rng(config_.seed, kItemStream, n);
  W1Item it;
  it.number = static_cast<uint32_t>(n);
  it.creator = static_cast<uint32_t>(w1_creator_of(config_, creators_, n));
  it.category = static_cast<uint8_t>(categories_(rng));
  it.language = static_cast<uint8_t>(languages_(rng));
  it.duration = static_cast<int16_t>(kMinDuration + rng() % (kMaxDuration - kMinDuration + 1));
  it.created_at_us = to_micros(config_.start) - kCreatedAtDays * kDayUs +
                     static_cast<int64_t>(unit(rng) * kCreatedAtDays * kDayUs);
  it.rating = static_cast<double>(10 + rng() % 41) / 10.0;
  it.tags = distinct_ranks(1 + rng() % 5, [&] { return tags_(rng); });
  return it;
}

W1User W1Entities::user(size_t n) const {
  std::mt19937_64 rng = entity_rng(config_.seed, kUserStream, n);
  W1User u;
  u.number = static_cast<uint32_t>(n);
  u.age = static_cast<uint8_t>(13 + rng() % 68);
  u.country = static_cast<uint8_t>(countries_(rng));
  u.language = static_cast<uint8_t>(languages_(rng));
  u.interests = distinct_ranks(1 + rng() % 5, [&] { return rng() % kInterests; });
  return u;
}

EntityWrite W1Entities::write(const W1Item& it) {
  std::string title = "Item " + std::to_string(it.number) + ":";
  for (size_t k = 0; k < 3 + it.number % 4; ++k) {
    title += ' ';
    title += kTitleWords[(it.number / (k + 1) + k * 5) % std::size(kTitleWords)];
  }
  std::vector<std::string> tags;
  for (uint8_t t : it.tags) tags.push_back(tag_name(t));
  return {EntityKind::kItem,
          numbered_key('i', it.number),
          {{"creator", numbered_key('c', it.creator)},
           {"created_at", from_micros(it.created_at_us)},
           {"title", std::move(title)},
           {"category", category_name(it.category)},
           {"duration", int64_t{it.duration}},
           {"language", language_name(it.language)},
           {"rating", it.rating},
           {"tags", std::move(tags)}}};
}

EntityWrite W1Entities::write(const W1User& u) {
  std::vector<std::string> interests;
  for (uint8_t t : u.interests) interests.push_back(interest_name(t));
  return {EntityKind::kUser,
          numbered_key('u', u.number),
          {{"age", int64_t{u.age}},
           {"country", country_name(u.country)},
           {"language", language_name(u.language)},
           {"interests", std::move(interests)}}};
}

namespace {

// Exits naming the first error when `r` rejected anything.
void check_all_accepted(const BatchIngestResult& r, const char* what, const char* bench) {
  if (r.rejected == 0) return;
  for (const Status& s : r.errors) {
    if (s.ok()) continue;
    std::fprintf(stderr, "%s: %s rejected %zu: %s\n", bench, what, r.rejected,
                 s.to_string().c_str());
    std::exit(1);
  }
}

}  // namespace

double upsert_all(Database& db, std::span<const EntityWrite> writes, size_t batch, int threads,
                  const char* bench) {
  return run_batches(writes.size(), batch, threads, [&](int, size_t begin, size_t end) {
    check_all_accepted(db.upsert(writes.subspan(begin, end - begin)), "upsert", bench);
  });
}

double ingest_all(Database& db, std::span<const SignalEvent> events, size_t batch, int threads,
                  const char* bench) {
  return run_batches(events.size(), batch, threads, [&](int, size_t begin, size_t end) {
    check_all_accepted(db.ingest(events.subspan(begin, end - begin), BatchMode::kApplyValid),
                       "ingest", bench);
  });
}

}  // namespace tidal::bench
