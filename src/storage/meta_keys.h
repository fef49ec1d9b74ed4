// Every key of the meta keyspace, in one place. docs/formats/storage.md says
// what each value holds and who writes it; the test beside this header checks
// that no key is a prefix of another's.
#pragma once

#include <string_view>

namespace tidal::meta_keys {

// The schema (schema/schema_catalog.cc): the current version's encoding, and
// every version by number (+ u32 BE version).
inline constexpr std::string_view kSchemaCurrent = "schema/current";
inline constexpr std::string_view kSchemaVersionPrefix = "schema/version/";

// The checkpoint (db/): the last WAL sequence number it covers (u64 LE) and
// the newest event time applied up to it (i64 LE).
inline constexpr std::string_view kCheckpointSequence = "checkpoint/sequence";
inline constexpr std::string_view kCheckpointNewestEvent = "checkpoint/newest_event_us";
// Signal events applied up to the checkpoint since the database was created
// (u64 LE; DatabaseStats::events_applied). Absent in folders written before it
// was stored: they count from their first checkpoint with it.
inline constexpr std::string_view kCheckpointEventsApplied = "checkpoint/events_applied";

// The database's present (db/present.cc), each an i64 LE.
inline constexpr std::string_view kPresentMode = "present/mode";
inline constexpr std::string_view kPresentPinned = "present/pinned_us";
inline constexpr std::string_view kPresentSince = "present/since_us";
inline constexpr std::string_view kPresentSweptAt = "present/swept_at_us";

// Application key <-> dense index maps (entities/key_map.cc):
// + '0' + entity kind + '/' + the application key.
inline constexpr std::string_view kKeyMapPrefix = "keys/";

// The global ledger's decay landmark per signal type (signals/global_ledger.cc):
// + the signal id in decimal.
inline constexpr std::string_view kLedgerLandmarkPrefix = "ledger/landmark/";

// Stored ranking profiles (query/profile_catalog.cc): + the profile's name.
inline constexpr std::string_view kProfilePrefix = "profiles/";

// Cohorts (cohorts/cohort_store.cc): + the cohort's id as 10 decimal digits;
// and the next id to give out.
inline constexpr std::string_view kCohortPrefix = "cohorts/def/";
inline constexpr std::string_view kCohortNextId = "cohorts/next_id";
// Cohort families: + the family's name.
inline constexpr std::string_view kCohortFamilyPrefix = "cohorts/family/";

// Every key and prefix above (for the test, and for docs).
inline constexpr std::string_view kAll[] = {
    kSchemaCurrent, kSchemaVersionPrefix,  kCheckpointSequence, kCheckpointNewestEvent,
    kPresentMode,   kPresentPinned,        kPresentSince,       kPresentSweptAt,
    kKeyMapPrefix,  kLedgerLandmarkPrefix, kProfilePrefix,      kCohortPrefix,
    kCohortNextId,  kCohortFamilyPrefix,   kCheckpointEventsApplied,
};

}  // namespace tidal::meta_keys
