#include "server/schema_document.h"

#include <algorithm>

#include "core/duration.h"
#include "schema/schema_rep.h"

namespace tidal::server {

namespace {

using simdjson::dom::array;
using simdjson::dom::object;

// Collects the problems of one document, each with its JSON path.
class Reader {
 public:
  explicit Reader(std::vector<Status>* errors) : errors_(errors) {}

  void fail(const std::string& path, std::string_view message) {
    errors_->push_back(Status(Subsystem::kServer, StatusCode::kInvalidArgument,
                              path + ": " + std::string(message), path));
  }
  // A parser's error, which names the path and value itself.
  void fail(const std::string& path, const Status& st) {
    errors_->push_back(
        Status(Subsystem::kServer, StatusCode::kInvalidArgument, st.message(), path));
  }

  bool text(JsonElement v, const std::string& path, std::string* out) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      fail(path, "expected a string");
      return false;
    }
    *out = std::string(s);
    return true;
  }
  void flag(JsonElement v, const std::string& path, bool* out) {
    if (v.get_bool().get(*out) != simdjson::SUCCESS) fail(path, "expected a bool");
  }
  void number(JsonElement v, const std::string& path, double* out) {
    if (v.get_double().get(*out) != simdjson::SUCCESS) fail(path, "expected a number");
  }
  bool duration(JsonElement v, const std::string& path, Duration* out) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      fail(path, "expected a duration string such as \"6h\"");
      return false;
    }
    Result<Duration> d = parse_duration(s, path, Subsystem::kServer);
    if (!d.ok()) {
      fail(path, d.status());
      return false;
    }
    *out = *d;
    return true;
  }
  // Calls fn(element, "path[i]") for each element of the array `v`; a value
  // that is not an array is an error ("expected an array of <what>").
  template <typename Fn>
  void each(JsonElement v, const std::string& path, std::string_view what, Fn fn) {
    array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) {
      fail(path, "expected an array of " + std::string(what));
      return;
    }
    size_t i = 0;
    for (JsonElement e : arr) fn(e, path + "[" + std::to_string(i++) + "]");
  }

  // Parses `text` with `parse` (an enum's name) into *out.
  template <typename T, typename Parse>
  void named(JsonElement v, const std::string& path, Parse parse, T* out) {
    std::string s;
    if (!text(v, path, &s)) return;
    Result<T> r = parse(s, path);
    if (r.ok()) {
      *out = *r;
    } else {
      fail(path, r.status());
    }
  }

 private:
  std::vector<Status>* errors_;
};

std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

}  // namespace

void read_signal_spec(JsonElement doc, const std::string& path, SignalTypeSpec* spec,
                      std::vector<Status>* errors) {
  Reader r(errors);
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return r.fail(path.empty() ? "body" : path, "expected a signal type object");
  }
  bool has_name = false;
  for (auto [key, value] : obj) {
    const std::string field = at(path, key);
    if (key == "name") {
      has_name = true;
      r.text(value, field, &spec->name);
    } else if (key == "half_life") {
      r.duration(value, field, &spec->half_life);
    } else if (key == "windows") {
      r.each(value, field, "durations", [&](JsonElement w, const std::string& at_path) {
        Duration d;
        if (r.duration(w, at_path, &d)) spec->windows.push_back(d);
      });
    } else if (key == "velocity") {
      r.flag(value, field, &spec->velocity);
    } else if (key == "polarity") {
      r.named(
          value, field, [](std::string_view s, std::string_view f) { return parse_polarity(s, f); },
          &spec->polarity);
    } else if (key == "value_kind") {
      r.named(
          value, field,
          [](std::string_view s, std::string_view f) { return parse_value_kind(s, f); },
          &spec->value_kind);
    } else if (key == "learning_rate") {
      r.number(value, field, &spec->learning_rate);
    } else if (key == "affinity_delta") {
      r.number(value, field, &spec->affinity_delta);
    } else {
      r.fail(field,
             "unknown field (known: name, half_life, windows, velocity, polarity, value_kind, "
             "learning_rate, affinity_delta)");
    }
  }
  if (!has_name) r.fail(at(path, "name"), "is required");
}

void read_attribute_spec(JsonElement doc, const std::string& path, bool kind_given,
                         EntityKind* kind, AttributeSpec* spec, std::vector<Status>* errors) {
  Reader r(errors);
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return r.fail(path.empty() ? "body" : path, "expected an attribute object");
  }
  bool has_kind = false, has_name = false, has_type = false;
  for (auto [key, value] : obj) {
    const std::string field = at(path, key);
    if (key == "kind") {
      EntityKind k = *kind;
      r.named(
          value, field,
          [](std::string_view s, std::string_view f) { return parse_entity_kind(s, f); }, &k);
      if (kind_given && k != *kind) {
        r.fail(field, "is " + std::string(entity_kind_name(k)) +
                          ", but the attribute is listed "
                          "under " +
                          std::string(entity_kind_name(*kind)));
      }
      *kind = k;
      has_kind = true;
    } else if (key == "name") {
      has_name = true;
      r.text(value, field, &spec->name);
    } else if (key == "type") {
      has_type = true;
      r.named(
          value, field,
          [](std::string_view s, std::string_view f) { return parse_attribute_type(s, f); },
          &spec->type);
    } else if (key == "filterable") {
      r.flag(value, field, &spec->filterable);
    } else if (key == "sortable") {
      r.flag(value, field, &spec->sortable);
    } else if (key == "vector_dim") {
      int64_t dim;
      if (value.get_int64().get(dim) != simdjson::SUCCESS || dim < 0 || dim > 1'000'000) {
        r.fail(field, "expected a whole number from 0 to 1000000");
      } else {
        spec->vector_dim = static_cast<uint32_t>(dim);
      }
    } else if (key == "metric") {
      VectorMetric m{};
      const size_t before = errors->size();
      r.named(
          value, field,
          [](std::string_view s, std::string_view f) { return parse_vector_metric(s, f); }, &m);
      if (errors->size() == before) spec->metric = m;
    } else if (key == "stemmer") {
      r.text(value, field, &spec->text.stemmer);
    } else if (key == "stop_words") {
      r.text(value, field, &spec->text.stop_words);
    } else if (key == "boost") {
      r.number(value, field, &spec->text.boost);
    } else if (key == "k1") {
      r.number(value, field, &spec->text.k1);
    } else if (key == "b") {
      r.number(value, field, &spec->text.b);
    } else {
      r.fail(field,
             "unknown field (known: kind, name, type, filterable, sortable, vector_dim, metric, "
             "stemmer, stop_words, boost, k1, b)");
    }
  }
  if (!has_name) r.fail(at(path, "name"), "is required");
  if (!has_type) r.fail(at(path, "type"), "is required");
  if (!kind_given && !has_kind) r.fail(at(path, "kind"), "is required (item, user or creator)");
}

Result<SchemaDocument> read_schema_document(std::string_view json) {
  simdjson::dom::parser parser;
  JsonElement doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err != simdjson::SUCCESS) {
    return Status(Subsystem::kServer, StatusCode::kInvalidArgument,
                  std::string("not valid JSON: ") + simdjson::error_message(err), "schema");
  }
  std::vector<Status> errors;
  Reader r(&errors);
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return Status(Subsystem::kServer, StatusCode::kInvalidArgument,
                  "a schema document is an object {\"signals\": [...], \"attributes\": {...}}",
                  "schema");
  }
  SchemaDocument out;
  bool has_signals = false;
  for (auto [key, value] : obj) {
    const std::string field(key);
    if (key == "version") {
      int64_t v;
      if (value.get_int64().get(v) != simdjson::SUCCESS) r.fail(field, "expected a whole number");
    } else if (key == "signals") {
      has_signals = true;
      r.each(value, field, "signal types", [&](JsonElement v, const std::string& at_path) {
        SignalTypeSpec spec;
        read_signal_spec(v, at_path, &spec, &errors);
        out.signals.push_back(std::move(spec));
      });
    } else if (key == "attributes") {
      object by_kind;
      if (value.get_object().get(by_kind) != simdjson::SUCCESS) {
        r.fail(field, "expected an object {\"item\": [...], \"user\": [...], \"creator\": [...]}");
        continue;
      }
      for (auto [kind_name, list] : by_kind) {
        const std::string kind_path = "attributes." + std::string(kind_name);
        Result<EntityKind> kind = parse_entity_kind(kind_name, kind_path);
        if (!kind.ok()) {
          r.fail(kind_path, "is not an entity kind (item, user or creator)");
          continue;
        }
        r.each(list, kind_path, "attributes", [&](JsonElement a, const std::string& at_path) {
          AttributeSpec spec;
          EntityKind k = *kind;
          read_attribute_spec(a, at_path, true, &k, &spec, &errors);
          out.attributes[static_cast<size_t>(*kind)].push_back(std::move(spec));
        });
      }
    } else {
      r.fail(field, "unknown field (known: version, signals, attributes)");
    }
  }
  if (!errors.empty()) return join_errors(errors, "the schema document");
  if (!has_signals) out.signals = default_signal_specs();
  return out;
}

namespace {

Result<Schema> build(SchemaBuilder& b) {
  Result<Schema> s = b.build();
  if (s.ok()) return s;
  return Status(Subsystem::kServer, StatusCode::kInvalidArgument,
                "the schema document breaks these rules:\n" + s.status().message(),
                std::string(s.status().field()));
}

}  // namespace

Result<Schema> schema_from_document(std::string_view json) {
  TIDAL_ASSIGN_OR_RETURN(SchemaDocument doc, read_schema_document(json));
  SchemaBuilder b;
  for (SignalTypeSpec& s : doc.signals) b.add_signal(std::move(s));
  for (EntityKind kind : kEntityKinds) {
    for (AttributeSpec& a : doc.attributes[static_cast<size_t>(kind)]) b.add_attribute(kind, a);
  }
  return build(b);
}

Result<Schema> schema_over(const Schema& stored, const SchemaDocument& doc,
                           std::vector<std::string>* kept) {
  // Stored declarations first, in id order, with the document's fields when
  // it has them; then the document's new ones in its order.
  SchemaBuilder b;
  auto find_signal = [&](const std::string& name) -> const SignalTypeSpec* {
    for (const SignalTypeSpec& s : doc.signals) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  for (const SignalTypeDefinition& s : stored.signals()) {
    const SignalTypeSpec* given = find_signal(s.name);
    if (given == nullptr) kept->push_back("signal \"" + s.name + "\"");
    b.add_signal(given ? *given : to_spec(s));
  }
  for (const SignalTypeSpec& s : doc.signals) {
    if (stored.find_signal(s.name) == nullptr) b.add_signal(s);
  }
  for (EntityKind kind : kEntityKinds) {
    const std::vector<AttributeSpec>& given = doc.attributes[static_cast<size_t>(kind)];
    for (const AttributeDefinition& a : stored.attributes(kind)) {
      auto it = std::find_if(given.begin(), given.end(),
                             [&](const AttributeSpec& g) { return g.name == a.name; });
      if (it == given.end()) {
        kept->push_back(std::string(entity_kind_name(kind)) + " attribute \"" + a.name + "\"");
      }
      b.add_attribute(kind, it != given.end() ? *it : to_spec(a));
    }
    for (const AttributeSpec& g : given) {
      if (stored.find_attribute(kind, g.name) == nullptr) b.add_attribute(kind, g);
    }
  }
  return build(b);
}

Status join_errors(const std::vector<Status>& errors, std::string_view what) {
  if (errors.size() == 1) return errors.front();
  std::string message = std::string(what) + " has " + std::to_string(errors.size()) + " errors:";
  for (const Status& e : errors) message += "\n  " + e.message();
  return Status(Subsystem::kServer, StatusCode::kInvalidArgument, message,
                std::string(errors.front().field()));
}

}  // namespace tidal::server
