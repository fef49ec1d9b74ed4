// Random valid schemas survive encode/decode exactly, equal themselves, and
// any one change to their declarations shows up in diff().
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "schema/schema_rep.h"
#include "tidal/schema.h"

namespace tidal {
namespace {

using Declarations =
    std::pair<std::vector<SignalTypeSpec>, std::array<std::vector<AttributeSpec>, 3>>;

constexpr int64_t kMicrosPerMinute = 60LL * 1000 * 1000;
constexpr int64_t kMaxHalfLifeMicros = 3650LL * 86400 * 1000 * 1000;
constexpr int64_t kMaxWindowMinutes = 365LL * 24 * 60;

// Names that cannot be reserved words: a letter, a digit, then anything.
std::string random_name(char letter, size_t index) {
  std::string suffix = *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 8),
                                                        rc::gen::element('a', 'z', '0', '_'));
  // The 'x' ends the index, so "s1" + "0" cannot collide with "s10" + "".
  return std::string(1, letter) + std::to_string(index) + "x" + suffix;
}

SignalTypeSpec random_signal(size_t index) {
  SignalTypeSpec spec;
  spec.name = random_name('s', index);
  spec.half_life = Duration(*rc::gen::inRange<int64_t>(1000 * 1000, kMaxHalfLifeMicros + 1));
  auto minutes = *rc::gen::container<std::vector<int64_t>>(
      *rc::gen::inRange<size_t>(0, kMaxWindowsPerSignal + 1),
      rc::gen::inRange<int64_t>(1, kMaxWindowMinutes + 1));
  for (int64_t m : minutes) spec.windows.emplace_back(m * kMicrosPerMinute);
  // Repeat some windows: the builder must merge them.
  if (!minutes.empty()) {
    size_t repeats = *rc::gen::inRange<size_t>(0, 3);
    for (size_t i = 0; i < repeats; ++i) {
      spec.windows.push_back(spec.windows[*rc::gen::inRange<size_t>(0, spec.windows.size())]);
    }
  }
  spec.velocity = !spec.windows.empty() && *rc::gen::arbitrary<bool>();
  spec.polarity = *rc::gen::element(Polarity::kPositive, Polarity::kNegative);
  spec.value_kind = *rc::gen::element(ValueKind::kCount, ValueKind::kSum);
  spec.learning_rate = static_cast<double>(*rc::gen::inRange<int64_t>(0, 1000001)) / 1e6;
  spec.affinity_delta =
      static_cast<double>(*rc::gen::inRange<int64_t>(0, 2000000001) - 1000000000) / 1e6;
  return spec;
}

AttributeSpec random_attribute(size_t index) {
  AttributeSpec spec;
  spec.name = random_name('a', index);
  spec.type = static_cast<AttributeType>(*rc::gen::inRange(0, 8));
  switch (spec.type) {
    case AttributeType::kVector:
      spec.vector_dim = *rc::gen::inRange<uint32_t>(1, kMaxVectorDim + 1);
      if (*rc::gen::arbitrary<bool>()) {
        spec.metric =
            *rc::gen::element(VectorMetric::kCosine, VectorMetric::kDot, VectorMetric::kL2);
      }
      break;
    case AttributeType::kText: break;
    case AttributeType::kTags: spec.filterable = *rc::gen::arbitrary<bool>(); break;
    default:
      spec.filterable = *rc::gen::arbitrary<bool>();
      spec.sortable = *rc::gen::arbitrary<bool>();
  }
  return spec;
}

Declarations random_declarations() {
  Declarations d;
  size_t signals = *rc::gen::inRange<size_t>(0, 12);
  for (size_t i = 0; i < signals; ++i) d.first.push_back(random_signal(i));
  for (auto& list : d.second) {
    size_t n = *rc::gen::inRange<size_t>(0, 6);
    for (size_t i = 0; i < n; ++i) list.push_back(random_attribute(i));
  }
  return d;
}

// Builds `d`; with `split`, the first half as version 1 and the rest as a
// migration of it (version 2), which must give the same content.
Schema build(const Declarations& d, bool split = false) {
  SchemaBuilder first;
  size_t cut = split ? d.first.size() / 2 : d.first.size();
  for (size_t i = 0; i < cut; ++i) first.add_signal(d.first[i]);
  for (EntityKind kind : kEntityKinds) {
    const auto& list = d.second[kind_index(kind)];
    for (size_t i = 0; i < (split ? list.size() / 2 : list.size()); ++i)
      first.add_attribute(kind, list[i]);
  }
  Result<Schema> base = first.build();
  if (!base.ok()) RC_FAIL(base.status().to_string());
  if (!split) return *base;
  SchemaBuilder rest(*base);
  for (size_t i = cut; i < d.first.size(); ++i) rest.add_signal(d.first[i]);
  for (EntityKind kind : kEntityKinds) {
    const auto& list = d.second[kind_index(kind)];
    for (size_t i = list.size() / 2; i < list.size(); ++i) rest.add_attribute(kind, list[i]);
  }
  Result<Schema> full = rest.build();
  if (!full.ok()) RC_FAIL(full.status().to_string());
  return *full;
}

// Changes one declaration of `d` so that it stays valid but differs.
void mutate(Declarations* d) {
  auto& signals = d->first;
  std::vector<int> choices = {8, 11};  // add a signal, add an attribute
  if (!signals.empty()) {
    for (int c = 0; c <= 7; ++c) choices.push_back(c);
  }
  bool any_attribute =
      std::any_of(d->second.begin(), d->second.end(), [](const auto& l) { return !l.empty(); });
  if (any_attribute) choices.insert(choices.end(), {9, 10});
  int choice = *rc::gen::elementOf(choices);

  if (choice <= 7) {
    size_t i = *rc::gen::inRange<size_t>(0, signals.size());
    SignalTypeSpec& s = signals[i];
    const Duration second = std::chrono::seconds(1);
    std::vector<Duration> distinct = s.windows;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    switch (choice) {
      case 0:
        s.half_life = s.half_life + second <= Duration(kMaxHalfLifeMicros) ? s.half_life + second
                                                                           : s.half_life - second;
        break;
      case 1:
        if (distinct.empty()) {
          s.windows.push_back(std::chrono::minutes(1));  // a window is added instead
        } else {
          s.velocity = !s.velocity;
        }
        break;
      case 2:
        if (distinct.size() < kMaxWindowsPerSignal) {
          int64_t m = 1;
          while (std::find(distinct.begin(), distinct.end(), Duration(m * kMicrosPerMinute)) !=
                 distinct.end()) {
            ++m;
          }
          s.windows.emplace_back(m * kMicrosPerMinute);
        } else {
          Duration gone = distinct.front();
          std::erase(s.windows, gone);
        }
        break;
      case 3:
        s.polarity = s.polarity == Polarity::kPositive ? Polarity::kNegative : Polarity::kPositive;
        break;
      case 4:
        s.value_kind = s.value_kind == ValueKind::kCount ? ValueKind::kSum : ValueKind::kCount;
        break;
      case 5: s.learning_rate = s.learning_rate == 0.5 ? 0.25 : 0.5; break;
      case 6: s.affinity_delta = s.affinity_delta == 1 ? 2 : 1; break;
      case 7: signals.erase(signals.begin() + static_cast<std::ptrdiff_t>(i)); break;
    }
    return;
  }
  if (choice == 8) {
    signals.push_back(random_signal(signals.size()));
    signals.back().name = "added";
    return;
  }
  if (choice == 11) {
    auto& list = d->second[*rc::gen::inRange<size_t>(0, 3)];
    list.push_back(random_attribute(list.size()));
    list.back().name = "added";
    return;
  }
  std::vector<size_t> kinds;
  for (size_t k = 0; k < 3; ++k) {
    if (!d->second[k].empty()) kinds.push_back(k);
  }
  auto& list = d->second[*rc::gen::elementOf(kinds)];
  size_t i = *rc::gen::inRange<size_t>(0, list.size());
  if (choice == 10) {
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
  AttributeSpec& a = list[i];
  switch (a.type) {
    case AttributeType::kVector: a.vector_dim = a.vector_dim == 1 ? 2 : a.vector_dim - 1; break;
    case AttributeType::kText: a.type = AttributeType::kKeyword; break;
    default: a.filterable = !a.filterable;
  }
}

RC_GTEST_PROP(SchemaCodecProp, RoundTripIsExact, ()) {
  Declarations d = random_declarations();
  bool split = *rc::gen::arbitrary<bool>();
  Schema s = build(d, split);
  // A migration that adds nothing (every list empty) keeps version 1.
  bool anything = !d.first.empty() || std::any_of(d.second.begin(), d.second.end(),
                                                  [](const auto& l) { return !l.empty(); });
  RC_ASSERT(s.version() == (split && anything ? 2u : 1u));
  std::string bytes = s.encode();
  Result<Schema> back = Schema::decode(bytes);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == s);
  RC_ASSERT(back->version() == s.version());
  RC_ASSERT(back->encode() == bytes);
  RC_ASSERT(s.diff(*back).empty());
  RC_ASSERT(s.diff(s).empty());
  // Building in one go or as a migration gives the same content.
  RC_ASSERT(build(d, !split) == s);
}

RC_GTEST_PROP(SchemaCodecProp, AnyTruncationFails, ()) {
  std::string bytes = build(random_declarations()).encode();
  size_t n = *rc::gen::inRange<size_t>(0, bytes.size());
  Result<Schema> r = Schema::decode(std::string_view(bytes).substr(0, n));
  RC_ASSERT(!r.ok());
  RC_ASSERT(r.status().code() == StatusCode::kCorruption);
}

RC_GTEST_PROP(SchemaCodecProp, OneChangeShowsInDiff, ()) {
  Declarations d = random_declarations();
  Schema stored = build(d);
  mutate(&d);
  Schema given = build(d);
  RC_ASSERT(!(stored == given));
  RC_ASSERT(!stored.diff(given).empty());
  RC_ASSERT(!given.diff(stored).empty());
}

}  // namespace
}  // namespace tidal
