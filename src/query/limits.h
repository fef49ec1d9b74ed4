// The limits of TQL. A query that breaks one fails with a message naming the
// limit; none of them can be raised per query. docs/tql.md lists them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tidal::query {

// The longest query text (and the longest JSON form) accepted, in bytes.
inline constexpr size_t kMaxQueryBytes = 64 * 1024;
// The deepest expression tree: nesting of parentheses, calls and operators.
// The parser is recursive; this bound keeps it (and everything that walks an
// Expr) far from the end of the stack.
inline constexpr int kMaxExpressionDepth = 64;
// The largest LIMIT, and the largest MAX of DIVERSIFY BY.
inline constexpr int64_t kMaxLimit = 10000;
// The most values in `attr IN (...)`.
inline constexpr size_t kMaxInListSize = 1024;
// The most components of a VECTOR [...] literal.
inline constexpr size_t kMaxVectorLength = 4096;
// EF n (the HNSW search breadth of SIMILAR / NEAREST): 1 ..= kMaxEf.
inline constexpr int64_t kMaxEf = 10000;

}  // namespace tidal::query
