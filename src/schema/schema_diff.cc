// Schema::diff: what differs between a stored schema and a given one, in
// sentences a person can act on. Every field compared here is a field
// compared by operator==, so diff is empty exactly when the schemas are equal
// (lambda_per_second follows from half_life and is not reported on its own).
#include <string>

#include "core/duration.h"
#include "schema/schema_rep.h"
#include "schema/value_text.h"

namespace tidal {

namespace {

// Collects the differences of one signal type or attribute, each line
// starting with `subject` (e.g. `signal "view"`).
class FieldDiff {
 public:
  FieldDiff(std::string subject, std::vector<std::string>* out)
      : subject_(std::move(subject)), out_(out) {}

  // Compares one field; `text` renders a value of it for the message.
  template <typename T, typename Text>
  void field(std::string_view name, const T& stored, const T& given, Text text,
             std::string_view verb = "differs") {
    if (stored == given) return;
    out_->push_back(subject_ + ": " + std::string(name) + " " + std::string(verb) + " (stored " +
                    std::string(text(stored)) + ", given " + std::string(text(given)) + ")");
  }

 private:
  std::string subject_;
  std::vector<std::string>* out_;
};

std::string quoted(std::string_view name) {
  std::string out = "\"";
  out.append(name);
  out += '"';
  return out;
}

std::string id_text(uint16_t id) {
  return std::to_string(id);
}

void diff_signal(const SignalTypeDefinition& a, const SignalTypeDefinition& b,
                 std::vector<std::string>* out) {
  FieldDiff d("signal " + quoted(a.name), out);
  d.field("id", a.id, b.id, id_text);
  d.field("half_life", a.half_life, b.half_life, format_duration);
  d.field("windows", a.windows, b.windows, windows_text, "differ");
  d.field("velocity", a.velocity, b.velocity, bool_text);
  d.field("polarity", a.polarity, b.polarity, polarity_name);
  d.field("value_kind", a.value_kind, b.value_kind, value_kind_name);
  d.field("learning_rate", a.learning_rate, b.learning_rate, number_text);
  d.field("affinity_delta", a.affinity_delta, b.affinity_delta, number_text);
}

void diff_attribute(const AttributeDefinition& a, const AttributeDefinition& b,
                    std::vector<std::string>* out) {
  FieldDiff d(std::string(entity_kind_name(a.kind)) + " attribute " + quoted(a.name), out);
  d.field("id", a.id, b.id, id_text);
  d.field("type", a.type, b.type, attribute_type_name);
  d.field("filterable", a.filterable, b.filterable, bool_text);
  d.field("sortable", a.sortable, b.sortable, bool_text);
  d.field("vector_dim", a.vector_dim, b.vector_dim, [](uint32_t v) { return std::to_string(v); });
  d.field("metric", a.metric, b.metric, vector_metric_name);
  auto text = [](const std::string& s) { return s; };
  d.field("stemmer", a.text.stemmer, b.text.stemmer, text);
  d.field("stop_words", a.text.stop_words, b.text.stop_words, text);
  d.field("boost", a.text.boost, b.text.boost, number_text);
  d.field("k1", a.text.k1, b.text.k1, number_text);
  d.field("b", a.text.b, b.text.b, number_text);
}

// The lines for one list of named definitions: each stored one that is
// missing from `given` or differs from its namesake, then each given one
// the stored list lacks.
template <typename Def, typename Find, typename DiffOne>
void diff_list(const std::string& subject, const std::vector<Def>& stored,
               const std::vector<Def>& given, Find find_stored, Find find_given, DiffOne diff_one,
               std::vector<std::string>* out) {
  for (const Def& s : stored) {
    const Def* g = find_given(s.name);
    if (g == nullptr) {
      out->push_back(subject + " " + quoted(s.name) +
                     " is in the stored schema but not the given one");
    } else {
      diff_one(s, *g, out);
    }
  }
  for (const Def& g : given) {
    if (find_stored(g.name) == nullptr) {
      out->push_back(subject + " " + quoted(g.name) +
                     " is in the given schema but not the stored one");
    }
  }
}

}  // namespace

std::vector<std::string> Schema::diff(const Schema& given) const {
  std::vector<std::string> out;
  using FindSignal = std::function<const SignalTypeDefinition*(std::string_view)>;
  diff_list<SignalTypeDefinition, FindSignal>(
      "signal", signals(), given.signals(), [this](std::string_view n) { return find_signal(n); },
      [&given](std::string_view n) { return given.find_signal(n); }, diff_signal, &out);

  using FindAttribute = std::function<const AttributeDefinition*(std::string_view)>;
  for (EntityKind kind : kEntityKinds) {
    diff_list<AttributeDefinition, FindAttribute>(
        std::string(entity_kind_name(kind)) + " attribute", attributes(kind),
        given.attributes(kind),
        [this, kind](std::string_view n) { return find_attribute(kind, n); },
        [&given, kind](std::string_view n) { return given.find_attribute(kind, n); },
        diff_attribute, &out);
  }
  return out;
}

}  // namespace tidal
