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

// Checks `e`; `now_us` is the database's present. On success fills `out`.
Status validate_event(const SignalEvent& e, const Schema& schema, const DatabaseOptions& options,
                      int64_t now_us, ValidatedEvent* out);

// "2026-11-24T02:26:08.123456Z"
std::string format_timestamp(int64_t us);

}  // namespace tidal::db
