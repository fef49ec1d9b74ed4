// EntityStore::check and EntityStore::evaluate: attribute filters over the
// filter indexes.
//
// AND evaluates its children from the most selective (by index statistics)
// on; once the running result is small next to a numeric range, the range is
// checked member by member instead of being materialized. OR is a union; NOT
// is the live set minus its child.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "core/time_text.h"
#include "entities/entity_store.h"

namespace tidal::entities {

namespace {

constexpr size_t kMaxFilterDepth = 64;
constexpr size_t kMaxInValues = 10000;
using Op = Filter::Op;

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kAnd: return "AND";
    case Op::kOr: return "OR";
    case Op::kNot: return "NOT";
    case Op::kEq: return "=";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kBetween: return "BETWEEN";
    case Op::kIn: return "IN";
    case Op::kContains: return "CONTAINS";
    case Op::kExists: return "EXISTS";
    case Op::kAll: return "ALL";
  }
  return "?";
}

bool op_supported(AttributeType t, Op op) {
  if (op == Op::kExists) return true;
  switch (t) {
    case AttributeType::kKeyword: return op == Op::kEq || op == Op::kNe || op == Op::kIn;
    case AttributeType::kTags: return op == Op::kContains;
    case AttributeType::kBool: return op == Op::kEq || op == Op::kNe;
    case AttributeType::kInt:
    case AttributeType::kFloat:
    case AttributeType::kTimestamp: return op != Op::kContains;
    default: return false;
  }
}

std::string_view supported_ops(AttributeType t) {
  switch (t) {
    case AttributeType::kKeyword: return "=, !=, IN and EXISTS";
    case AttributeType::kTags: return "CONTAINS ('x' IN tags) and EXISTS";
    case AttributeType::kBool: return "=, != and EXISTS";
    default: return "=, !=, <, <=, >, >=, BETWEEN, IN and EXISTS";
  }
}

size_t value_count_rule(Op op) {
  switch (op) {
    case Op::kExists: return 0;
    case Op::kBetween: return 2;
    case Op::kIn: return SIZE_MAX;  // 1..kMaxInValues
    default: return 1;
  }
}

bool value_fits(AttributeType t, const AttributeValue& v) {
  switch (t) {
    case AttributeType::kKeyword:
    case AttributeType::kTags: return std::holds_alternative<std::string>(v);
    case AttributeType::kBool: return std::holds_alternative<bool>(v);
    case AttributeType::kInt:
    case AttributeType::kFloat:
      return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
    case AttributeType::kTimestamp: return std::holds_alternative<Timestamp>(v);
    default: return false;
  }
}

// A filter value as a double or an exact integer.
struct Number {
  bool integral;
  int64_t i;
  double d;
};

Number number_of(const AttributeValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return {true, *i, static_cast<double>(*i)};
  if (const auto* t = std::get_if<Timestamp>(&v)) {
    int64_t us = to_micros(*t);
    return {true, us, static_cast<double>(us)};
  }
  double d = std::get<double>(v);
  return {false, 0, d};
}

// The inclusive integer bounds of "x op n" over int64 values; nullopt when
// nothing can match.
struct IntBound {
  std::optional<int64_t> lo, hi;  // unset: unbounded on that side
  bool empty = false;
};

// 2^63, exactly: every int64 is below it, and -2^63 is the least int64. A
// whole double in [-2^63, 2^63) converts to int64 exactly.
constexpr double kTwoTo63 = 9223372036854775808.0;

// The least integer >= n / the greatest <= n, saturated.
std::optional<int64_t> ceil_int(const Number& n) {
  if (n.integral) return n.i;
  double c = std::ceil(n.d);
  if (c >= kTwoTo63) return std::nullopt;  // above every int64
  if (c < -kTwoTo63) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(c);
}
std::optional<int64_t> floor_int(const Number& n) {
  if (n.integral) return n.i;
  double f = std::floor(n.d);
  if (f < -kTwoTo63) return std::nullopt;  // below every int64
  if (f >= kTwoTo63) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(f);
}

template <typename T>
struct Range {
  T lo, hi;
};

// [lo, hi] for a comparison over a column of T; nullopt when empty.
template <typename T>
std::optional<Range<T>> comparison_range(Op op, const Number& a, const Number* b) {
  constexpr T kMin = std::numeric_limits<T>::lowest();
  constexpr T kMax = std::numeric_limits<T>::max();
  if constexpr (std::is_same_v<T, double>) {
    double x = a.d;
    constexpr double kInf = std::numeric_limits<double>::infinity();
    switch (op) {
      case Op::kEq:
      case Op::kIn:
      case Op::kNe: return Range<T>{x, x};
      case Op::kLt: return Range<T>{kMin, std::nextafter(x, -kInf)};
      case Op::kLe: return Range<T>{kMin, x};
      case Op::kGt: return Range<T>{std::nextafter(x, kInf), kMax};
      case Op::kGe: return Range<T>{x, kMax};
      case Op::kBetween: return Range<T>{x, b->d};
      default: return std::nullopt;
    }
  } else {
    switch (op) {
      case Op::kEq:
      case Op::kIn:
      case Op::kNe:
        if (!a.integral && a.d != std::floor(a.d)) return std::nullopt;
        if (!a.integral && (a.d >= kTwoTo63 || a.d < -kTwoTo63)) return std::nullopt;
        return Range<T>{a.integral ? a.i : static_cast<int64_t>(a.d),
                        a.integral ? a.i : static_cast<int64_t>(a.d)};
      case Op::kLt: {
        std::optional<int64_t> c = ceil_int(a);
        if (!c) return Range<T>{kMin, kMax};
        if (*c == kMin) return std::nullopt;
        return Range<T>{kMin, *c - 1};
      }
      case Op::kLe: {
        std::optional<int64_t> f = floor_int(a);
        if (!f) return std::nullopt;
        return Range<T>{kMin, *f};
      }
      case Op::kGt: {
        std::optional<int64_t> f = floor_int(a);
        if (!f) return Range<T>{kMin, kMax};
        if (*f == kMax) return std::nullopt;
        return Range<T>{*f + 1, kMax};
      }
      case Op::kGe: {
        std::optional<int64_t> c = ceil_int(a);
        if (!c) return std::nullopt;
        return Range<T>{*c, kMax};
      }
      case Op::kBetween: {
        std::optional<int64_t> lo = ceil_int(a), hi = floor_int(*b);
        if (!lo || !hi || *lo > *hi) return std::nullopt;
        return Range<T>{*lo, *hi};
      }
      default: return std::nullopt;
    }
  }
}

// A numeric leaf over `index`: the matches (within `within` when given).
template <typename T>
Bitmap numeric_leaf(const NumericIndex<T>& index, const Filter& f, const Bitmap* within) {
  auto run = [&](const Range<T>& r) {
    return within ? index.range_within(r.lo, r.hi, *within) : index.range(r.lo, r.hi);
  };
  if (f.op == Op::kIn) {
    Bitmap out;
    for (const AttributeValue& v : f.values) {
      Number n = number_of(v);
      if (auto r = comparison_range<T>(Op::kEq, n, nullptr)) out |= run(*r);
    }
    return out;
  }
  Number a = number_of(f.values[0]);
  Number b = f.op == Op::kBetween ? number_of(f.values[1]) : a;
  std::optional<Range<T>> r = comparison_range<T>(f.op, a, &b);
  if (f.op == Op::kNe) {
    Bitmap all = within ? (index.present() & *within) : index.present();
    if (r) all -= run(*r);
    return all;
  }
  return r ? run(*r) : Bitmap();
}

template <typename T>
uint64_t numeric_estimate(const NumericIndex<T>& index, const Filter& f) {
  if (f.op == Op::kBetween || f.op == Op::kLt || f.op == Op::kLe || f.op == Op::kGt ||
      f.op == Op::kGe) {
    Number a = number_of(f.values[0]);
    Number b = f.op == Op::kBetween ? number_of(f.values[1]) : a;
    std::optional<Range<T>> r = comparison_range<T>(f.op, a, &b);
    return r ? index.estimate(r->lo, r->hi) : 0;
  }
  return index.present().cardinality();
}

}  // namespace

Status EntityStore::check(EntityKind kind, const Filter& filter) const {
  const AttributeCatalog& c = (*catalogs_)[kind];
  struct Frame {
    const Filter* f;
    size_t depth;
  };
  std::vector<Frame> stack{{&filter, 1}};
  while (!stack.empty()) {
    Frame fr = stack.back();
    stack.pop_back();
    const Filter& f = *fr.f;
    if (fr.depth > kMaxFilterDepth) {
      return Status::Invalid(Subsystem::kQuery, "filter", std::to_string(fr.depth),
                             "nests deeper than " + std::to_string(kMaxFilterDepth) + " levels");
    }
    if (f.op == Op::kAll) continue;
    if (f.op == Op::kAnd || f.op == Op::kOr || f.op == Op::kNot) {
      if (f.children.empty() || (f.op == Op::kNot && f.children.size() != 1)) {
        return Status::Invalid(
            Subsystem::kQuery, "filter", op_name(f.op),
            f.op == Op::kNot ? "NOT takes exactly one operand" : "needs at least one operand");
      }
      for (const Filter& child : f.children) stack.push_back({&child, fr.depth + 1});
      continue;
    }
    std::string field = "filter." + f.attribute;
    const AttributeDefinition* def = c.find(f.attribute);
    if (def == nullptr) {
      return Status::Invalid(
          Subsystem::kQuery, field, f.attribute,
          "is not an attribute of " + std::string(entity_kind_name(kind)) + " in the schema");
    }
    if (!def->filterable || index(kind, def->id) == nullptr) {
      return Status::Invalid(Subsystem::kQuery, field, f.attribute,
                             "is not filterable (declare it filterable in the schema; text and "
                             "vector attributes never are)");
    }
    if (!op_supported(def->type, f.op)) {
      return Status::Invalid(
          Subsystem::kQuery, field, op_name(f.op),
          "is not an operator for " + std::string(attribute_type_name(def->type)) +
              " attributes (they take " + std::string(supported_ops(def->type)) + ")");
    }
    size_t want = value_count_rule(f.op);
    if (want == SIZE_MAX ? (f.values.empty() || f.values.size() > kMaxInValues)
                         : f.values.size() != want) {
      std::string rule = want == SIZE_MAX
                             ? "IN takes 1 to " + std::to_string(kMaxInValues) + " values"
                             : std::string(op_name(f.op)) + " takes " + std::to_string(want) +
                                   (want == 1 ? " value" : " values");
      return Status::Invalid(Subsystem::kQuery, field, std::to_string(f.values.size()) + " values",
                             rule);
    }
    for (const AttributeValue& v : f.values) {
      if (!value_fits(def->type, v)) {
        return Status::Invalid(
            Subsystem::kQuery, field, op_name(f.op),
            "compares a " + std::string(attribute_type_name(def->type)) +
                " attribute with a value of another type" +
                (def->type == AttributeType::kTimestamp
                     ? " (write a timestamp as '2024-01-01T00:00:00Z' or as seconds since the "
                       "Unix epoch)"
                     : ""));
      }
      if (const auto* d = std::get_if<double>(&v); d && std::isnan(*d)) {
        return Status::Invalid(Subsystem::kQuery, field, "NaN", "is not a comparable value");
      }
    }
  }
  return Status::Ok();
}

Status EntityStore::resolve_literals(EntityKind kind, Filter* filter) const {
  const AttributeCatalog& c = (*catalogs_)[kind];
  for (Filter& child : filter->children) TIDAL_RETURN_IF_ERROR(resolve_literals(kind, &child));
  const AttributeDefinition* def = filter->attribute.empty() ? nullptr : c.find(filter->attribute);
  if (def == nullptr || def->type != AttributeType::kTimestamp) return Status::Ok();
  for (AttributeValue& v : filter->values) {
    if (const auto* text = std::get_if<std::string>(&v)) {
      TIDAL_ASSIGN_OR_RETURN(
          Timestamp t, parse_rfc3339(*text, "filter." + filter->attribute, Subsystem::kQuery));
      v = t;
    } else if (const auto* secs = std::get_if<int64_t>(&v)) {
      constexpr int64_t kMaxSeconds = INT64_MAX / 1'000'000;
      if (*secs > kMaxSeconds || *secs < -kMaxSeconds) {
        return Status::Invalid(Subsystem::kQuery, "filter." + filter->attribute,
                               std::to_string(*secs),
                               "is out of range for seconds since the Unix epoch");
      }
      v = from_micros(*secs * 1'000'000);
    }
  }
  return Status::Ok();
}

Result<Bitmap> EntityStore::evaluate(EntityKind kind, const Filter& filter) const {
  TIDAL_RETURN_IF_ERROR(check(kind, filter));
  Bitmap out;
  TIDAL_RETURN_IF_ERROR(evaluate_node(state(kind), (*catalogs_)[kind], filter, nullptr, &out));
  return out;
}

Result<bool> EntityStore::matches(EntityKind kind, uint32_t index, const Filter& filter) const {
  if (!live(kind, index)) return false;
  Bitmap within;
  within.add(index);
  Bitmap out;
  TIDAL_RETURN_IF_ERROR(evaluate_node(state(kind), (*catalogs_)[kind], filter, &within, &out));
  return out.contains(index);
}

Status EntityStore::evaluate_node(const KindState& s, const AttributeCatalog& c, const Filter& f,
                                  const Bitmap* within, Bitmap* out) const {
  // Within `within`, intersected without copying the (maybe large) index
  // bitmap first: a single-entity check (matches()) stays cheap.
  auto restrict = [&]<typename B>(B&& b) -> Bitmap {
    if (within) return b & *within;
    return Bitmap(std::forward<B>(b));
  };
  switch (f.op) {
    case Op::kAll: *out = restrict(s.live); return Status::Ok();
    case Op::kNot: {
      Bitmap child;
      TIDAL_RETURN_IF_ERROR(evaluate_node(s, c, f.children[0], within, &child));
      *out = restrict(s.live);
      *out -= child;
      return Status::Ok();
    }
    case Op::kOr: {
      std::vector<Bitmap> parts(f.children.size());
      std::vector<const Bitmap*> ptrs;
      for (size_t k = 0; k < f.children.size(); ++k) {
        TIDAL_RETURN_IF_ERROR(evaluate_node(s, c, f.children[k], within, &parts[k]));
        ptrs.push_back(&parts[k]);
      }
      *out = Bitmap::fastunion(ptrs.size(), ptrs.data());
      return Status::Ok();
    }
    case Op::kAnd: {
      // Most selective first, by what the indexes know without evaluating.
      std::vector<std::pair<uint64_t, const Filter*>> order;
      uint64_t live = s.live.cardinality();
      for (const Filter& child : f.children) {
        uint64_t est = live;
        if (child.op != Op::kAnd && child.op != Op::kOr && child.op != Op::kNot &&
            child.op != Op::kAll) {
          const AttributeDefinition* def = c.find(child.attribute);
          const AttributeIndex* ix = index(c.kind(), def->id);
          if (const auto* vb = dynamic_cast<const ValueBitmapIndex*>(ix)) {
            if (child.op == Op::kEq || child.op == Op::kContains) {
              const std::string* str = std::get_if<std::string>(&child.values[0]);
              const Bitmap* b = str ? vb->find(*str)
                                    : vb->find(std::get<bool>(child.values[0]) ? "true" : "false");
              est = b ? b->cardinality() : 0;
            } else {
              est = vb->present().cardinality();
            }
          } else if (const auto* ni = dynamic_cast<const NumericIndex<int64_t>*>(ix)) {
            est = numeric_estimate(*ni, child);
          } else if (const auto* nd = dynamic_cast<const NumericIndex<double>*>(ix)) {
            est = numeric_estimate(*nd, child);
          }
        }
        order.push_back({est, &child});
      }
      std::stable_sort(order.begin(), order.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      Bitmap acc;
      bool first = true;
      for (const auto& [est, child] : order) {
        const Bitmap* scope = first ? within : &acc;
        Bitmap part;
        // A small running result is checked member by member rather than
        // intersected with a materialized child.
        if (!first && acc.cardinality() * 8 < est) {
          TIDAL_RETURN_IF_ERROR(evaluate_node(s, c, *child, scope, &part));
          acc = std::move(part);
        } else {
          TIDAL_RETURN_IF_ERROR(evaluate_node(s, c, *child, first ? within : nullptr, &part));
          if (first) {
            acc = std::move(part);
          } else {
            acc &= part;
          }
        }
        first = false;
        if (acc.isEmpty()) break;
      }
      *out = std::move(acc);
      return Status::Ok();
    }
    default: break;
  }
  // A leaf.
  const AttributeDefinition* def = c.find(f.attribute);
  const AttributeIndex* ix = index(c.kind(), def->id);
  if (f.op == Op::kExists) {
    *out = restrict(ix->present());
    return Status::Ok();
  }
  if (const auto* vb = dynamic_cast<const ValueBitmapIndex*>(ix)) {
    auto lookup = [&](const AttributeValue& v) -> const Bitmap* {
      if (const auto* str = std::get_if<std::string>(&v)) return vb->find(*str);
      return vb->find(std::get<bool>(v) ? "true" : "false");
    };
    if (f.op == Op::kIn) {
      std::vector<const Bitmap*> parts;
      for (const AttributeValue& v : f.values) {
        if (const Bitmap* b = lookup(v)) parts.push_back(b);
      }
      *out = restrict(Bitmap::fastunion(parts.size(), parts.data()));
      return Status::Ok();
    }
    const Bitmap* b = lookup(f.values[0]);
    if (f.op == Op::kNe) {
      *out = restrict(vb->present());
      if (b) *out -= *b;
    } else {
      *out = b ? restrict(*b) : Bitmap();
    }
    return Status::Ok();
  }
  if (const auto* ni = dynamic_cast<const NumericIndex<int64_t>*>(ix)) {
    *out = numeric_leaf(*ni, f, within);
  } else {
    *out = numeric_leaf(*static_cast<const NumericIndex<double>*>(ix), f, within);
  }
  return Status::Ok();
}

}  // namespace tidal::entities
