// The six default signal types of a content platform: view, like, skip,
// share, completion and dwell_time. The rates and deltas are starting
// points, chosen by how strongly each action says "I want more like this":
// a share or a like is deliberate, a completion is a strong hint, a view is
// weak (it happens before the user knows what the item is), and a skip is
// mild evidence against. dwell_time carries its strength in its value
// (seconds), so it adds nothing to affinity by itself. docs/schema.md lists
// the same table.
#include <chrono>

#include "tidal/schema.h"

namespace tidal {

std::vector<SignalTypeSpec> default_signal_specs() {
  using std::chrono::hours;
  const Duration h1 = hours(1), h24 = hours(24), d7 = hours(24 * 7);
  return {
      {.name = "view",
       .half_life = hours(6),
       .windows = {h1, h24, d7},
       .velocity = true,
       .learning_rate = 0.02,
       .affinity_delta = 0.1},
      {.name = "like",
       .half_life = hours(12),
       .windows = {h1, h24, d7},
       .velocity = true,
       .learning_rate = 0.1,
       .affinity_delta = 1.0},
      {.name = "skip",
       .half_life = hours(6),
       .windows = {h24},
       .polarity = Polarity::kNegative,
       .learning_rate = 0.05,
       .affinity_delta = -0.5},
      {.name = "share",
       .half_life = hours(12),
       .windows = {h1, h24},
       .velocity = true,
       .learning_rate = 0.15,
       .affinity_delta = 2.0},
      {.name = "completion",
       .half_life = hours(12),
       .windows = {h24},
       .learning_rate = 0.08,
       .affinity_delta = 0.5},
      {.name = "dwell_time",
       .half_life = hours(12),
       .windows = {h24},
       .value_kind = ValueKind::kSum,
       .learning_rate = 0.02,
       .affinity_delta = 0.0},
  };
}

SchemaBuilder SchemaBuilder::with_default_signals() {
  SchemaBuilder builder;
  for (SignalTypeSpec& spec : default_signal_specs()) builder.add_signal(std::move(spec));
  return builder;
}

}  // namespace tidal
