// The order of query answers and the cursor that continues one.
//
// A cursor is the last row a page returned, the fingerprint of the query it
// belongs to and explore's seed, checksummed and base64url-encoded: a client
// passes it back unchanged (CURSOR '...'), and a cursor from another query,
// or altered, is refused.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "query/ast.h"
#include "tidal/status.h"

namespace tidal::query {

// Candidates are ordered by key descending (the score, negated for an
// ascending sort), NaN last, then by dense index ascending (first seen
// first).
struct Ranked {
  double key;
  uint32_t id;
};

inline bool before(const Ranked& a, const Ranked& b) {
  const bool a_nan = std::isnan(a.key), b_nan = std::isnan(b.key);
  if (a_nan != b_nan) return b_nan;  // numbers (infinities included) before NaN
  if (!a_nan && a.key != b.key) return a.key > b.key;
  return a.id < b.id;
}

// The key a score sorts by: itself, negated for an ascending sort (NaN
// stays NaN and sorts last either way).
inline double order_key(double score, bool ascending) {
  return ascending ? -score : score;
}

struct Cursor {
  uint64_t fingerprint = 0;  // of the query it belongs to
  Ranked last{};             // the last row returned
  uint64_t seed = 0;         // explore's seed, kept across pages
};

// The cursor's text (base64url, no padding).
std::string encode_cursor(const Cursor& c);
// Reads a cursor this database issued; anything else is an error naming the
// field "cursor".
Result<Cursor> decode_cursor(std::string_view text);

// The query a cursor belongs to: the statement without its cursor and limit
// (a page size may change between pages). A NEAREST vector is hashed as its
// bytes rather than printed: printing 100s of floats would cost more than
// the search.
uint64_t fingerprint_of(const Statement& s);

}  // namespace tidal::query
