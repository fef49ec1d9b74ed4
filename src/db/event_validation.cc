#include "db/event_validation.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/duration.h"
#include "core/time_text.h"
#include "entities/key_rules.h"

namespace tidal::db {

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}
}  // namespace

Status validate_event(const SignalEvent& e, const Schema& schema, const DatabaseOptions& options,
                      const EventTimeRule& rule, ValidatedEvent* out) {
  const SignalTypeDefinition* signal = schema.find_signal(e.signal);
  if (signal == nullptr) {
    std::string known;
    for (const auto& s : schema.signals()) known += (known.empty() ? "" : ", ") + s.name;
    return Status::Invalid(Subsystem::kIngest, "signal", e.signal,
                           "is not a signal type of the schema (known: " + known + ")");
  }
  TIDAL_RETURN_IF_ERROR(validate_key("item", e.item));
  if (!e.user.empty()) TIDAL_RETURN_IF_ERROR(validate_key("user", e.user));
  if (e.idempotency_key.size() > kMaxKeyBytes) {
    return Status::Invalid(Subsystem::kIngest, "idempotency_key", e.idempotency_key,
                           "must be at most " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (!std::isfinite(e.value)) {
    return Status::Invalid(Subsystem::kIngest, "value", number(e.value), "must be finite");
  }
  if (e.value < 0) {
    return Status::Invalid(Subsystem::kIngest, "value", number(e.value), "must be >= 0");
  }
  if (e.value > kMaxEventValue) {
    return Status::Invalid(Subsystem::kIngest, "value", number(e.value),
                           "must be at most 1e15, so that the sums kept from it stay finite");
  }
  if (signal->value_kind == ValueKind::kCount && e.value != 1.0) {
    return Status::Invalid(Subsystem::kIngest, "value", number(e.value),
                           "signal \"" + signal->name +
                               "\" counts events, so its value must be 1 (only sum signal types "
                               "take a value)");
  }
  const int64_t now_us = rule.now_us;
  int64_t t = to_micros(e.timestamp);
  if (t == 0) t = now_us;
  if (rule.historical) {
    if (t < 0) {
      return Status::Invalid(Subsystem::kIngest, "timestamp", format_timestamp(t),
                             "must not be before the Unix epoch");
    }
    if (rule.pinned && t > now_us + options.max_future_skew.count()) {
      return Status::Invalid(Subsystem::kIngest, "timestamp", format_timestamp(t),
                             "is after the database's pinned present (" + format_timestamp(now_us) +
                                 "); set the present to historical without a time, or later, "
                                 "to load it (docs/time.md)");
    }
  } else if (t < now_us - options.max_past_skew.count() ||
             t > now_us + options.max_future_skew.count()) {
    return Status::Invalid(Subsystem::kIngest, "timestamp", format_timestamp(t),
                           "must be between " + format_duration(options.max_past_skew) +
                               " before and " + format_duration(options.max_future_skew) +
                               " after the database's present (" + format_timestamp(now_us) +
                               "), since the database is live; to load older events, make it "
                               "historical (`tidal present --data DIR historical`, POST "
                               "/v1/present, `tidal import --historical` or `tidal serve "
                               "--historical`; docs/time.md)");
  }
  out->signal = signal;
  out->time_us = t;
  return Status::Ok();
}

}  // namespace tidal::db
