#include "db/present.h"

#include "apply/signal_record.h"
#include "core/coding.h"
#include "storage/meta_keys.h"

namespace tidal::db {

namespace {
constexpr uint8_t kRecordFormat = 1;
}  // namespace

namespace {
constexpr uint8_t kPinned = 1;
constexpr uint8_t kSince = 2;
}  // namespace

std::string encode_present_record(const PresentRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(kRecordFormat));
  out.push_back(static_cast<char>(r.mode));
  out.push_back(static_cast<char>((r.pinned_us ? kPinned : 0) | (r.since_us ? kSince : 0)));
  if (r.pinned_us) put_fixed64_le(&out, static_cast<uint64_t>(*r.pinned_us));
  if (r.since_us) put_fixed64_le(&out, static_cast<uint64_t>(*r.since_us));
  return out;
}

bool decode_present_record(std::string_view payload, PresentRecord* out) {
  ByteReader r(payload);
  uint8_t format, mode, flags;
  if (!r.read_u8(&format) || format != kRecordFormat || !r.read_u8(&mode) || mode > 1 ||
      !r.read_u8(&flags) || (flags & ~(kPinned | kSince)) != 0) {
    return false;
  }
  out->mode = static_cast<PresentMode>(mode);
  out->pinned_us.reset();
  out->since_us.reset();
  uint64_t v;
  if (flags & kPinned) {
    if (!r.read_fixed64_le(&v)) return false;
    out->pinned_us = static_cast<int64_t>(v);
  }
  if (flags & kSince) {
    if (!r.read_fixed64_le(&v)) return false;
    out->since_us = static_cast<int64_t>(v);
  }
  return r.empty() && (out->mode == PresentMode::kHistorical || flags == 0);
}

Present make_present(const StoredPresent& s, int64_t clock_us) {
  Present p;
  p.mode = s.mode;
  if (s.mode == PresentMode::kHistorical && s.pinned_us) p.pinned = from_micros(*s.pinned_us);
  const int64_t floor = floor_of(s);
  p.floor = from_micros(floor == INT64_MIN ? 0 : floor);
  int64_t now = clock_us;
  if (s.mode == PresentMode::kHistorical) {
    const int64_t newest = std::max(s.newest_event_us, s.since_us.value_or(INT64_MIN));
    if (s.pinned_us) {
      now = *s.pinned_us;
    } else if (newest != INT64_MIN) {
      now = newest;
    }
  }
  p.now = from_micros(now);
  return p;
}

Result<std::optional<int64_t>> read_meta_i64(StorageEngine& storage, std::string_view key) {
  TIDAL_ASSIGN_OR_RETURN(std::optional<std::string> v, storage.get(Keyspace::kMeta, key));
  if (!v) return std::optional<int64_t>();
  if (v->size() != 8) {
    return Status::Corruption(Subsystem::kStorage,
                              "meta value \"" + std::string(key) + "\" is malformed");
  }
  return std::optional<int64_t>(static_cast<int64_t>(decode_fixed64_le(v->data())));
}

Result<StoredPresent> load_present(StorageEngine& storage) {
  StoredPresent p;
  TIDAL_ASSIGN_OR_RETURN(std::optional<int64_t> mode,
                         read_meta_i64(storage, meta_keys::kPresentMode));
  if (mode && (*mode < 0 || *mode > 1)) {
    return Status::Corruption(Subsystem::kStorage, "the stored present's mode is malformed");
  }
  if (mode) p.mode = static_cast<PresentMode>(*mode);
  TIDAL_ASSIGN_OR_RETURN(p.pinned_us, read_meta_i64(storage, meta_keys::kPresentPinned));
  TIDAL_ASSIGN_OR_RETURN(p.since_us, read_meta_i64(storage, meta_keys::kPresentSince));
  TIDAL_ASSIGN_OR_RETURN(std::optional<int64_t> swept,
                         read_meta_i64(storage, meta_keys::kPresentSweptAt));
  if (swept) p.swept_at_us = *swept;
  TIDAL_ASSIGN_OR_RETURN(std::optional<int64_t> newest,
                         read_meta_i64(storage, meta_keys::kCheckpointNewestEvent));
  if (newest) p.newest_event_us = *newest;
  return p;
}

void store_present(const StoredPresent& p, WriteBatch* batch) {
  auto put = [&](std::string_view key, std::optional<int64_t> v) {
    if (!v) {
      batch->del(Keyspace::kMeta, key);
      return;
    }
    std::string value;
    put_fixed64_le(&value, static_cast<uint64_t>(*v));
    batch->put(Keyspace::kMeta, key, value);
  };
  put(meta_keys::kCheckpointNewestEvent, p.newest_event_us);
  put(meta_keys::kPresentSweptAt, p.swept_at_us);
  put(meta_keys::kPresentMode, static_cast<int64_t>(p.mode));
  put(meta_keys::kPresentPinned, p.pinned_us);
  put(meta_keys::kPresentSince, p.since_us);
}

Result<StoredPresent> read_stored_present(StorageEngine& storage, wal::Wal& wal) {
  TIDAL_ASSIGN_OR_RETURN(StoredPresent p, load_present(storage));
  TIDAL_ASSIGN_OR_RETURN(std::optional<int64_t> checkpoint,
                         read_meta_i64(storage, meta_keys::kCheckpointSequence));
  const uint64_t checkpoint_sequence = static_cast<uint64_t>(checkpoint.value_or(0));
  uint64_t from = std::max(checkpoint_sequence + 1, wal.first_retained_sequence());
  TIDAL_RETURN_IF_ERROR(wal.replay(from, [&](const wal::FrameView& f) {
    if (f.type == wal::RecordType::kSignalEvent) {
      apply::SignalRecord e;
      if (apply::decode_signal_record(f.payload, &e) && e.time_us > p.newest_event_us) {
        p.newest_event_us = e.time_us;
      }
    } else if (f.type == wal::RecordType::kPresent) {
      PresentRecord r;
      if (!decode_present_record(f.payload, &r)) {
        return Status::Corruption(Subsystem::kWal,
                                  "present record " + std::to_string(f.sequence) + " is malformed");
      }
      apply_present_record(r, &p);
    }
    return Status::Ok();
  }));
  return p;
}

}  // namespace tidal::db
