#include "schema/schema_assembly.h"

#include <map>
#include <memory>
#include <string>

#include "schema/attribute_validation.h"
#include "schema/identifiers.h"
#include "schema/schema_rep.h"
#include "schema/signal_validation.h"

namespace tidal {

namespace {

std::string reserved_attribute_rule() {
  std::string names;
  for (std::string_view n : reserved_attribute_names()) {
    if (!names.empty()) names += ", ";
    names += n;
  }
  return "is reserved (every entity has id, key and kind, every item has creator and "
         "created_at, and queries use the others; reserved: " +
         names + ")";
}

// One list of declarations (the signal types, or one kind's attributes):
// checks each name and says how the declaration's fields are to be named.
class NameChecker {
 public:
  // `prefix` is "signals" or "attributes.<kind>"; the first `base_count`
  // declarations came from the schema (version `base_version`) being extended.
  NameChecker(std::string prefix, size_t base_count, uint32_t base_version, ErrorList* errors)
      : prefix_(std::move(prefix)),
        base_count_(base_count),
        base_version_(base_version),
        errors_(errors) {}

  // Checks declaration `index`'s name and returns the path for its fields:
  // `<prefix>.<name>` when the name is usable, `<prefix>[<index>]` when not.
  std::string check(size_t index, std::string_view name, bool reserved,
                    std::string_view reserved_rule) {
    std::string by_index = prefix_ + "[" + std::to_string(index) + "]";
    if (!is_identifier(name)) {
      errors_->add(by_index + ".name", name, kIdentifierRule);
      return by_index;
    }
    if (reserved) {
      errors_->add(by_index + ".name", name, reserved_rule);
      return by_index;
    }
    auto [it, inserted] = first_.emplace(std::string(name), index);
    if (!inserted) {
      std::string rule =
          "is already declared by " + prefix_ + "[" + std::to_string(it->second) + "]";
      if (it->second < base_count_) {
        rule += " in the schema being extended (version " + std::to_string(base_version_) + ")";
      }
      errors_->add(by_index + ".name", name, rule);
      return by_index;
    }
    return prefix_ + "." + std::string(name);
  }

 private:
  std::string prefix_;
  size_t base_count_;
  uint32_t base_version_;
  ErrorList* errors_;
  std::map<std::string, size_t, std::less<>> first_;
};

void check_count(std::string_view field, size_t count, size_t limit, std::string_view what,
                 ErrorList* errors) {
  if (count > limit) {
    errors->add(field, std::to_string(count),
                "at most " + std::to_string(limit) + " " + std::string(what) + " may be declared");
  }
}

}  // namespace

Result<Schema> assemble_schema(uint32_t version, const std::vector<SignalTypeSpec>& signals,
                               const std::array<std::vector<AttributeSpec>, 3>& attributes,
                               const BaseDeclarations& base, ErrorList* errors) {
  auto rep = std::make_shared<Schema::Rep>();
  rep->version = version;

  check_count("signals", signals.size(), kMaxSignalTypes, "signal types", errors);
  NameChecker signal_names("signals", base.signals, base.version, errors);
  const std::string signal_reserved_rule =
      "is reserved (TQL reads it as a keyword, sort mode or function)";
  for (size_t i = 0; i < signals.size(); ++i) {
    const SignalTypeSpec& spec = signals[i];
    std::string path =
        signal_names.check(i, spec.name, is_reserved_signal_name(spec.name), signal_reserved_rule);
    SignalTypeDefinition def = validate_signal_fields(spec, path, errors);
    def.id = static_cast<uint16_t>(i);
    rep->signals.push_back(std::move(def));
  }

  const std::string attribute_reserved_rule = reserved_attribute_rule();
  for (EntityKind kind : kEntityKinds) {
    const size_t k = kind_index(kind);
    const std::string prefix = "attributes." + std::string(entity_kind_name(kind));
    check_count(prefix, attributes[k].size(), kMaxAttributesPerKind,
                std::string(entity_kind_name(kind)) + " attributes", errors);
    NameChecker names(prefix, base.attributes[k], base.version, errors);
    for (size_t i = 0; i < attributes[k].size(); ++i) {
      const AttributeSpec& spec = attributes[k][i];
      std::string path =
          names.check(i, spec.name, is_reserved_attribute_name(spec.name), attribute_reserved_rule);
      AttributeDefinition def = validate_attribute_fields(kind, spec, path, errors);
      def.id = static_cast<uint16_t>(i);
      rep->attributes[k].push_back(std::move(def));
    }
  }

  if (!errors->empty()) return errors->to_status();

  for (const SignalTypeDefinition& s : rep->signals) rep->signal_ids.emplace(s.name, s.id);
  for (size_t k = 0; k < rep->attributes.size(); ++k) {
    for (const AttributeDefinition& a : rep->attributes[k]) {
      rep->attribute_ids[k].emplace(a.name, a.id);
    }
  }
  return SchemaAccess::make(std::move(rep));
}

}  // namespace tidal
