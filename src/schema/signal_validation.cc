#include "schema/signal_validation.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "core/duration.h"
#include "schema/value_text.h"

namespace tidal {

namespace {

std::string range_rule(Duration lo, Duration hi) {
  return "must be between " + format_duration(lo) + " and " + format_duration(hi);
}

void check_windows(const SignalTypeSpec& spec, std::string_view path, ErrorList* errors,
                   std::vector<Duration>* distinct) {
  for (size_t i = 0; i < spec.windows.size(); ++i) {
    Duration w = spec.windows[i];
    std::string f = field_path(path, "windows[" + std::to_string(i) + "]");
    if (w < kMinWindow || w > kMaxWindow) {
      errors->add(f, format_duration(w), range_rule(kMinWindow, kMaxWindow));
    } else if (w % kWindowGranularity != Duration::zero()) {
      errors->add(f, format_duration(w),
                  "must be a whole number of minutes (windows are counted in minute buckets)");
    }
  }
  *distinct = spec.windows;
  std::sort(distinct->begin(), distinct->end());
  distinct->erase(std::unique(distinct->begin(), distinct->end()), distinct->end());
  if (distinct->size() > kMaxWindowsPerSignal) {
    errors->add(field_path(path, "windows"), windows_text(*distinct),
                "at most " + std::to_string(kMaxWindowsPerSignal) + " distinct windows");
  }
  if (spec.velocity && distinct->empty()) {
    errors->add(field_path(path, "velocity"), "true",
                "needs at least one window (velocity compares a window with the one before it)");
  }
}

}  // namespace

SignalTypeDefinition validate_signal_fields(const SignalTypeSpec& spec, std::string_view path,
                                            ErrorList* errors) {
  SignalTypeDefinition def;
  def.name = spec.name;
  def.half_life = spec.half_life;
  def.velocity = spec.velocity;
  def.polarity = spec.polarity;
  def.value_kind = spec.value_kind;
  def.learning_rate = spec.learning_rate;
  def.affinity_delta = spec.affinity_delta;

  if (spec.half_life < kMinHalfLife || spec.half_life > kMaxHalfLife) {
    errors->add(field_path(path, "half_life"), format_duration(spec.half_life),
                range_rule(kMinHalfLife, kMaxHalfLife));
  } else {
    double seconds = static_cast<double>(spec.half_life.count()) / 1e6;
    def.lambda_per_second = std::numbers::ln2 / seconds;
  }

  check_windows(spec, path, errors, &def.windows);

  if (polarity_name(spec.polarity) == "unknown") {
    errors->add(field_path(path, "polarity"), std::to_string(static_cast<int>(spec.polarity)),
                "unknown polarity; expected positive or negative");
  }
  if (value_kind_name(spec.value_kind) == "unknown") {
    errors->add(field_path(path, "value_kind"), std::to_string(static_cast<int>(spec.value_kind)),
                "unknown value kind; expected count or sum");
  }
  if (!std::isfinite(spec.learning_rate) || spec.learning_rate < 0 || spec.learning_rate > 1) {
    errors->add(field_path(path, "learning_rate"), number_text(spec.learning_rate),
                "must be a finite number between 0 and 1");
  }
  if (!std::isfinite(spec.affinity_delta) || std::fabs(spec.affinity_delta) > kMaxAffinityDelta) {
    errors->add(field_path(path, "affinity_delta"), number_text(spec.affinity_delta),
                "must be a finite number between -1000 and 1000");
  }
  return def;
}

}  // namespace tidal
