// Validation of incoming signal events against the schema and the database's
// present. Every rule's error names the field, the value and the rule.
#pragma once

#include <string>

#include "tidal/event.h"
#include "tidal/options.h"
#include "tidal/schema.h"

namespace tidal::db {

struct ValidatedEvent {
  const SignalTypeDefinition* signal = nullptr;
  int64_t time_us = 0;
};

// The largest value one event may carry. Every stored sum (decayed scores,
// which scale a value by at most e^200 before a rebase, and window sums) then
// stays finite for any number of events a database can hold.
inline constexpr double kMaxEventValue = 1e15;

// Which event times the database accepts at its present (docs/time.md).
struct EventTimeRule {
  int64_t now_us = 0;       // the present; an event without a time gets it
  bool historical = false;  // any time since 1970 (up to a pinned present)
  bool pinned = false;      // historical with a pinned present: no later events
};

// Checks `e`. On success fills `out`.
Status validate_event(const SignalEvent& e, const Schema& schema, const DatabaseOptions& options,
                      const EventTimeRule& rule, ValidatedEvent* out);

}  // namespace tidal::db
