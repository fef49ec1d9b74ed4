// The rules for one attribute's type and flags (its name is checked with the
// others' by assemble_schema).
#pragma once

#include <string_view>

#include "schema/error_list.h"
#include "tidal/schema.h"

namespace tidal {

// Checks the type, flags, dimension and metric of `spec`, adding each broken
// rule to `errors` with fields named `<path>.<field>` (path is e.g.
// "attributes.item.title"). Returns the definition (id 0, metric defaulted
// to cosine); it is meaningful only when nothing was added to `errors`.
AttributeDefinition validate_attribute_fields(EntityKind kind, const AttributeSpec& spec,
                                              std::string_view path, ErrorList* errors);

}  // namespace tidal
