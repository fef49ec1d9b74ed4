#include "db/event_validation.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/duration.h"
#include "entities/key_rules.h"

namespace tidal::db {

std::string format_timestamp(int64_t us) {
  int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  auto micros = static_cast<long>(us - secs * 1000000);
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}
}  // namespace

Status validate_event(const SignalEvent& e, const Schema& schema, const DatabaseOptions& options,
                      int64_t now_us, ValidatedEvent* out) {
  const SignalTypeDefinition* signal = schema.find_signal(e.signal);
  if (signal == nullptr) {
    std::string known;
    for (const auto& s : schema.signals()) known += (known.empty() ? "" : ", ") + s.name;
    return Status::Invalid(Subsystem::kQuery, "signal", e.signal,
                           "is not a signal type of the schema (known: " + known + ")");
  }
  TIDAL_RETURN_IF_ERROR(validate_key("item", e.item));
  if (!e.user.empty()) TIDAL_RETURN_IF_ERROR(validate_key("user", e.user));
  if (e.idempotency_key.size() > kMaxKeyBytes) {
    return Status::Invalid(Subsystem::kQuery, "idempotency_key", e.idempotency_key,
                           "must be at most " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (!std::isfinite(e.value)) {
    return Status::Invalid(Subsystem::kQuery, "value", number(e.value), "must be finite");
  }
  if (e.value < 0) {
    return Status::Invalid(Subsystem::kQuery, "value", number(e.value), "must be >= 0");
  }
  if (signal->value_kind == ValueKind::kCount && e.value != 1.0) {
    return Status::Invalid(Subsystem::kQuery, "value", number(e.value),
                           "signal \"" + signal->name +
                               "\" counts events, so its value must be 1 (only sum signal types "
                               "take a value)");
  }
  int64_t t = to_micros(e.timestamp);
  if (t == 0) t = now_us;
  if (options.historical_import) {
    if (t < 0) {
      return Status::Invalid(Subsystem::kQuery, "timestamp", format_timestamp(t),
                             "must not be before the Unix epoch");
    }
  } else if (t < now_us - options.max_past_skew.count() ||
             t > now_us + options.max_future_skew.count()) {
    return Status::Invalid(Subsystem::kQuery, "timestamp", format_timestamp(t),
                           "must be between " + format_duration(options.max_past_skew) +
                               " before and " + format_duration(options.max_future_skew) +
                               " after the database's present (" + format_timestamp(now_us) +
                               "); use historical import for backfills");
  }
  out->signal = signal;
  out->time_us = t;
  return Status::Ok();
}

}  // namespace tidal::db
