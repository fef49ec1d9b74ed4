// Schema::encode / Schema::decode. The layout (docs/formats/schema.md):
//
//   u8      format            kFormatV2 (= 2); format 1 is read too
//   varint  version           >= 1
//   varint  signal_count      <= kMaxSignalTypes
//   signal_count times, in id order:
//     length-prefixed name
//     varsint half_life       microseconds
//     varint  window_count    <= kMaxWindowsPerSignal
//     window_count times: varsint window (microseconds, ascending)
//     u8      flags           bit 0: velocity; other bits 0
//     u8      polarity        Polarity
//     u8      value_kind      ValueKind
//     f64 LE  learning_rate
//     f64 LE  affinity_delta
//   for each kind (item, user, creator):
//     varint  attribute_count <= kMaxAttributesPerKind
//     attribute_count times, in id order:
//       length-prefixed name
//       u8      type          AttributeType
//       u8      flags         bit 0: filterable, bit 1: sortable; other bits 0
//       varint  vector_dim    0 unless vector
//       u8      metric        VectorMetric; 0 unless vector
//       text attributes only, format 2 (format 1 means the defaults):
//       length-prefixed stemmer, length-prefixed stop_words,
//       f64 LE boost, f64 LE k1, f64 LE b
//
// Ids are not stored: they are the positions. lambda is not stored: it is
// recomputed from half_life. Nothing may follow the last attribute.
#include <string>

#include "core/coding.h"
#include "schema/schema_assembly.h"
#include "schema/schema_rep.h"

namespace tidal {

namespace {

constexpr uint8_t kFormatV1 = 1;
constexpr uint8_t kFormatV2 = 2;  // adds text options
constexpr uint8_t kFlagVelocity = 1;
constexpr uint8_t kFlagFilterable = 1;
constexpr uint8_t kFlagSortable = 2;

// Reads fields in order, remembering the first failure with the field's name
// and byte offset; later reads after a failure do nothing.
class FieldReader {
 public:
  explicit FieldReader(std::string_view bytes) : bytes_(bytes), in_(bytes) {}

  bool failed() const { return !error_.ok(); }
  const Status& error() const { return error_; }
  bool at_end() const { return in_.empty(); }
  size_t offset() const { return bytes_.size() - in_.remaining(); }

  void fail(const std::string& what) {
    if (failed()) return;
    error_ = Status::Corruption(Subsystem::kSchema,
                                "stored schema: " + what + " at byte " + std::to_string(offset()));
  }

  uint8_t u8(const std::string& field) {
    uint8_t v = 0;
    if (!failed() && !in_.read_u8(&v)) fail("truncated " + field);
    return v;
  }
  uint64_t varint(const std::string& field) {
    uint64_t v = 0;
    if (!failed() && !in_.read_varint64(&v)) fail("truncated or malformed " + field);
    return v;
  }
  int64_t varsint(const std::string& field) {
    int64_t v = 0;
    if (!failed() && !in_.read_varsint64(&v)) fail("truncated or malformed " + field);
    return v;
  }
  double f64(const std::string& field) {
    double v = 0;
    if (!failed() && !in_.read_double_le(&v)) fail("truncated " + field);
    return v;
  }
  std::string bytes(const std::string& field) {
    std::string_view v;
    if (!failed() && !in_.read_length_prefixed(&v)) fail("truncated " + field);
    return std::string(v);
  }
  // A count that must not exceed `limit`.
  size_t count(const std::string& field, size_t limit) {
    uint64_t n = varint(field);
    if (!failed() && n > limit) {
      fail(field + " " + std::to_string(n) + " exceeds the limit of " + std::to_string(limit));
      return 0;
    }
    return static_cast<size_t>(n);
  }

 private:
  std::string_view bytes_;
  ByteReader in_;
  Status error_;
};

SignalTypeSpec read_signal(FieldReader* r, const std::string& at) {
  SignalTypeSpec spec;
  spec.name = r->bytes(at + ".name");
  spec.half_life = Duration(r->varsint(at + ".half_life"));
  size_t windows = r->count(at + ".window_count", kMaxWindowsPerSignal);
  for (size_t w = 0; w < windows && !r->failed(); ++w) {
    spec.windows.emplace_back(r->varsint(at + ".windows[" + std::to_string(w) + "]"));
  }
  uint8_t flags = r->u8(at + ".flags");
  if (flags & ~kFlagVelocity) r->fail("unknown flag bits in " + at + ".flags");
  spec.velocity = (flags & kFlagVelocity) != 0;
  spec.polarity = static_cast<Polarity>(r->u8(at + ".polarity"));
  spec.value_kind = static_cast<ValueKind>(r->u8(at + ".value_kind"));
  spec.learning_rate = r->f64(at + ".learning_rate");
  spec.affinity_delta = r->f64(at + ".affinity_delta");
  return spec;
}

AttributeSpec read_attribute(FieldReader* r, const std::string& at, uint8_t format) {
  AttributeSpec spec;
  spec.name = r->bytes(at + ".name");
  spec.type = static_cast<AttributeType>(r->u8(at + ".type"));
  uint8_t flags = r->u8(at + ".flags");
  if (flags & ~(kFlagFilterable | kFlagSortable)) r->fail("unknown flag bits in " + at + ".flags");
  spec.filterable = (flags & kFlagFilterable) != 0;
  spec.sortable = (flags & kFlagSortable) != 0;
  uint64_t dim = r->varint(at + ".vector_dim");
  if (dim > kMaxVectorDim) r->fail(at + ".vector_dim " + std::to_string(dim) + " is too large");
  spec.vector_dim = static_cast<uint32_t>(dim);
  uint8_t metric = r->u8(at + ".metric");
  // A non-vector attribute stores 0; anything else is handed to validation,
  // which rejects a metric on a non-vector attribute.
  if (spec.type == AttributeType::kVector || metric != 0) {
    spec.metric = static_cast<VectorMetric>(metric);
  }
  if (format >= kFormatV2 && spec.type == AttributeType::kText) {
    spec.text.stemmer = r->bytes(at + ".stemmer");
    spec.text.stop_words = r->bytes(at + ".stop_words");
    spec.text.boost = r->f64(at + ".boost");
    spec.text.k1 = r->f64(at + ".k1");
    spec.text.b = r->f64(at + ".b");
  }
  return spec;
}

}  // namespace

std::string Schema::encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormatV2));
  put_varint64(&out, rep_->version);
  put_varint64(&out, rep_->signals.size());
  for (const SignalTypeDefinition& s : rep_->signals) {
    put_length_prefixed(&out, s.name);
    put_varsint64(&out, s.half_life.count());
    put_varint64(&out, s.windows.size());
    for (Duration w : s.windows) put_varsint64(&out, w.count());
    out.push_back(static_cast<char>(s.velocity ? kFlagVelocity : 0));
    out.push_back(static_cast<char>(s.polarity));
    out.push_back(static_cast<char>(s.value_kind));
    put_double_le(&out, s.learning_rate);
    put_double_le(&out, s.affinity_delta);
  }
  for (const auto& list : rep_->attributes) {
    put_varint64(&out, list.size());
    for (const AttributeDefinition& a : list) {
      put_length_prefixed(&out, a.name);
      out.push_back(static_cast<char>(a.type));
      out.push_back(static_cast<char>((a.filterable ? kFlagFilterable : 0) |
                                      (a.sortable ? kFlagSortable : 0)));
      put_varint64(&out, a.vector_dim);
      out.push_back(static_cast<char>(a.metric));
      if (a.type == AttributeType::kText) {
        put_length_prefixed(&out, a.text.stemmer);
        put_length_prefixed(&out, a.text.stop_words);
        put_double_le(&out, a.text.boost);
        put_double_le(&out, a.text.k1);
        put_double_le(&out, a.text.b);
      }
    }
  }
  return out;
}

Result<Schema> Schema::decode(std::string_view bytes) {
  FieldReader r(bytes);
  uint8_t format = r.u8("format byte");
  if (r.failed()) return Status::Corruption(Subsystem::kSchema, "stored schema is empty");
  if (format > kFormatV2) {
    return Status::NotSupported(
        Subsystem::kSchema, "stored schema has format " + std::to_string(format) +
                                "; this build reads formats 1 and " + std::to_string(kFormatV2) +
                                " (the database was written by a newer tidalDB)");
  }
  if (format != kFormatV1 && format != kFormatV2) {
    r.fail("unknown format byte " + std::to_string(format));
  }

  uint64_t version = r.varint("version");
  if (!r.failed() && (version == 0 || version > UINT32_MAX)) {
    r.fail("version " + std::to_string(version) + " out of range");
  }
  std::vector<SignalTypeSpec> signals;
  size_t signal_count = r.count("signal_count", kMaxSignalTypes);
  for (size_t i = 0; i < signal_count && !r.failed(); ++i) {
    signals.push_back(read_signal(&r, "signals[" + std::to_string(i) + "]"));
  }
  std::array<std::vector<AttributeSpec>, 3> attributes;
  for (EntityKind kind : kEntityKinds) {
    std::string prefix = "attributes." + std::string(entity_kind_name(kind));
    size_t n = r.count(prefix + ".count", kMaxAttributesPerKind);
    for (size_t i = 0; i < n && !r.failed(); ++i) {
      attributes[kind_index(kind)].push_back(
          read_attribute(&r, prefix + "[" + std::to_string(i) + "]", format));
    }
  }
  if (!r.failed() && !r.at_end()) r.fail("unexpected bytes after the last attribute");
  if (r.failed()) return r.error();

  ErrorList errors;
  Result<Schema> schema = assemble_schema(static_cast<uint32_t>(version), signals, attributes,
                                          BaseDeclarations{}, &errors);
  if (!schema.ok()) {
    return Status::Corruption(Subsystem::kSchema,
                              "stored schema breaks a rule: " + schema.status().message());
  }
  return schema;
}

}  // namespace tidal
