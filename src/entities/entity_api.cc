// The small pieces of include/tidal/entity.h that are not inline.
#include "tidal/entity.h"

namespace tidal {

const AttributeValue* Entity::find(std::string_view name) const {
  for (const Attribute& a : attributes) {
    if (a.name == name) return &a.value;
  }
  return nullptr;
}

namespace {
Filter leaf(Filter::Op op, std::string attribute, std::vector<AttributeValue> values) {
  Filter f;
  f.op = op;
  f.attribute = std::move(attribute);
  f.values = std::move(values);
  return f;
}
Filter node(Filter::Op op, std::vector<Filter> children) {
  Filter f;
  f.op = op;
  f.children = std::move(children);
  return f;
}
}  // namespace

Filter Filter::eq(std::string a, AttributeValue v) {
  return leaf(Op::kEq, std::move(a), {std::move(v)});
}
Filter Filter::ne(std::string a, AttributeValue v) {
  return leaf(Op::kNe, std::move(a), {std::move(v)});
}
Filter Filter::lt(std::string a, AttributeValue v) {
  return leaf(Op::kLt, std::move(a), {std::move(v)});
}
Filter Filter::le(std::string a, AttributeValue v) {
  return leaf(Op::kLe, std::move(a), {std::move(v)});
}
Filter Filter::gt(std::string a, AttributeValue v) {
  return leaf(Op::kGt, std::move(a), {std::move(v)});
}
Filter Filter::ge(std::string a, AttributeValue v) {
  return leaf(Op::kGe, std::move(a), {std::move(v)});
}
Filter Filter::between(std::string a, AttributeValue lo, AttributeValue hi) {
  return leaf(Op::kBetween, std::move(a), {std::move(lo), std::move(hi)});
}
Filter Filter::in(std::string a, std::vector<AttributeValue> vs) {
  return leaf(Op::kIn, std::move(a), std::move(vs));
}
Filter Filter::contains(std::string a, std::string tag) {
  return leaf(Op::kContains, std::move(a), {std::move(tag)});
}
Filter Filter::exists(std::string a) {
  return leaf(Op::kExists, std::move(a), {});
}
Filter Filter::all_of(std::vector<Filter> children) {
  return node(Op::kAnd, std::move(children));
}
Filter Filter::any_of(std::vector<Filter> children) {
  return node(Op::kOr, std::move(children));
}
Filter Filter::negate(Filter child) {
  std::vector<Filter> c;
  c.push_back(std::move(child));
  return node(Op::kNot, std::move(c));
}

std::string_view relation_name(Relation r) {
  switch (r) {
    case Relation::kFollow: return "follow";
    case Relation::kBlock: return "block";
    case Relation::kMute: return "mute";
  }
  return "unknown";
}

Result<Relation> parse_relation(std::string_view text, std::string_view field) {
  for (Relation r : {Relation::kFollow, Relation::kBlock, Relation::kMute}) {
    if (text == relation_name(r)) return r;
  }
  return Status::Invalid(Subsystem::kCore, field, text, "must be follow, block or mute");
}

}  // namespace tidal
