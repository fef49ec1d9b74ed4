// Turns declarations into a Schema: the checks that look at all declarations
// together (names, duplicates, counts), the per-declaration checks, and id
// assignment. Shared by SchemaBuilder::build() and Schema::decode(), so a
// stored schema is held to the same rules as a declared one.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "schema/error_list.h"
#include "tidal/schema.h"

namespace tidal {

// How many of the declarations came from the schema being extended, so that
// a duplicate of one of them can be reported as such.
struct BaseDeclarations {
  uint32_t version = 0;  // 0 when not extending
  size_t signals = 0;
  std::array<size_t, 3> attributes{};
};

// Validates the declarations (adding to `errors`, which may already hold
// some) and, when no error was found, returns the Schema at `version` with
// ids assigned in declaration order. Otherwise returns errors->to_status().
Result<Schema> assemble_schema(uint32_t version, const std::vector<SignalTypeSpec>& signals,
                               const std::array<std::vector<AttributeSpec>, 3>& attributes,
                               const BaseDeclarations& base, ErrorList* errors);

}  // namespace tidal
